#include "signaling/access_token.hpp"

#include <cmath>

#include "common/base64.hpp"
#include "common/hmac.hpp"
#include "common/json.hpp"

namespace chorus {

namespace {

TokenRejection unauthorized(std::string message) {
  return {ErrorCode::Unauthorized, "access token refused: " + std::move(message)};
}

// A segment that decodes to a JSON object, or nullopt.
std::optional<Json> json_segment(std::string_view segment) {
  auto bytes = base64url_decode(segment);
  if (!bytes) return std::nullopt;
  auto value = parse_json(*bytes);
  if (!value || !value->is_object()) return std::nullopt;
  return value;
}

// A NumericDate claim (RFC 7519 section 2): finite seconds, or nullopt when absent; `bad` set
// when present but not a number.
std::optional<double> numeric_date(const Json& claims, const char* key, bool& bad) {
  const Json* v = find_field(claims, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number() || !std::isfinite(v->get<double>())) {
    bad = true;
    return std::nullopt;
  }
  return v->get<double>();
}

}  // namespace

std::variant<AccessClaims, TokenRejection> verify_access_token(std::string_view token,
                                                                std::string_view secret,
                                                                std::string_view room,
                                                                double unix_ms) {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return unauthorized("not a JWT (header.payload.signature)");
  }
  auto header = json_segment(token.substr(0, dot1));
  if (!header) return unauthorized("the header is not base64url JSON");
  if (get_string(*header, "alg") != std::optional<std::string>("HS256")) {
    return unauthorized("only alg HS256 is accepted");
  }
  // The signature first: nothing of an unsigned payload is looked at.
  auto signature = base64url_decode(token.substr(dot2 + 1));
  const std::string expected = digest_bytes(hmac_sha256(secret, token.substr(0, dot2)));
  if (!signature || !constant_time_equal(*signature, expected)) {
    return unauthorized("bad signature");
  }
  auto claims = json_segment(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims) return unauthorized("the payload is not base64url JSON");

  AccessClaims out;
  auto token_room = get_string(*claims, "room");
  if (!token_room) return unauthorized("no `room` claim");
  if (*token_room != "*" && *token_room != room) {
    return unauthorized("the token is for room " + *token_room);
  }
  out.room = *token_room;
  auto sub = get_string(*claims, "sub");
  if (!sub || sub->empty() || !protocol::is_valid_name(*sub)) {
    return unauthorized("`sub` (the identity) must be 1..64 characters");
  }
  out.identity = *sub;
  if (const Json* role = find_field(*claims, "role"); role != nullptr && !role->is_null()) {
    auto parsed = role->is_string() ? protocol::role_from_string(role->get<std::string>())
                                    : std::nullopt;
    if (!parsed) return unauthorized("`role` must be talker, dispatcher, teacher or student");
    out.role = parsed;
  }
  bool bad = false;
  const auto exp = numeric_date(*claims, "exp", bad);
  const auto nbf = numeric_date(*claims, "nbf", bad);
  if (bad) return unauthorized("`exp` and `nbf` must be numbers");
  if (!exp) return unauthorized("no `exp` claim: tokens must expire");
  const double now_s = unix_ms / 1000.0;
  if (now_s >= *exp) return TokenRejection{ErrorCode::TokenExpired, "access token expired"};
  if (nbf && now_s < *nbf) {
    return TokenRejection{ErrorCode::TokenExpired, "access token not valid yet (nbf)"};
  }
  out.expires_unix_s = *exp;
  return out;
}

}  // namespace chorus
