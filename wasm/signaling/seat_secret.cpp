#include "signaling/seat_secret.hpp"

#include "common/base64.hpp"
#include "common/hmac.hpp"

namespace chorus {

namespace {

constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kMacChars = 22;  // base64url of 16 bytes, unpadded

std::string mac(std::string_view key, std::string_view room, std::string_view peer_id,
                std::string_view payload) {
  std::string input;
  input.reserve(room.size() + peer_id.size() + payload.size() + 2);
  input.append(room).push_back('\0');
  input.append(peer_id).push_back('\0');
  input.append(payload);
  return base64url_encode(digest_bytes(hmac_sha256(key, input)).substr(0, kMacBytes));
}

}  // namespace

std::string make_seat_secret(std::string_view key, std::string_view room, std::string_view peer_id,
                             const SeatClaims& claims) {
  std::string payload(1, static_cast<char>('0' + static_cast<int>(claims.role)));
  if (claims.identity) payload += *claims.identity;
  return base64url_encode(payload) + mac(key, room, peer_id, payload);
}

std::optional<SeatClaims> verify_seat_secret(std::string_view key, std::string_view room,
                                             std::string_view peer_id, std::string_view secret) {
  if (secret.size() <= kMacChars) return std::nullopt;
  const auto payload = base64url_decode(secret.substr(0, secret.size() - kMacChars));
  if (!payload || payload->empty()) return std::nullopt;
  if (!constant_time_equal(secret.substr(secret.size() - kMacChars), mac(key, room, peer_id, *payload))) {
    return std::nullopt;
  }
  const int role = (*payload)[0] - '0';
  if (role < 0 || role > static_cast<int>(protocol::Role::Student)) return std::nullopt;
  SeatClaims claims{static_cast<protocol::Role>(role), std::nullopt};
  if (payload->size() > 1) claims.identity = payload->substr(1);
  return claims;
}

}  // namespace chorus
