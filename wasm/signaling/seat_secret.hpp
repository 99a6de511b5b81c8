// Resume secrets any server of a cluster can check (server config `resumeKey`, shared by every
// process; derived from `auth.secret` when only that is set). A seat's secret carries its role
// and verified identity and a MAC over them, the room and the peer id:
//   secret = base64url(role byte + identity) + base64url(HMAC-SHA256(key, room 0 peer 0 payload)[0..16))
// So after a failover or a restart, the server that takes the room can tell the seat's owner
// from someone who only knows its peer id (every member does), and give it back its role and
// identity without a fresh access token (which may have expired since the join).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "signaling/protocol.hpp"

namespace chorus {

struct SeatClaims {
  protocol::Role role = protocol::Role::Talker;
  std::optional<std::string> identity;
};

std::string make_seat_secret(std::string_view key, std::string_view room, std::string_view peer_id,
                             const SeatClaims& claims);
// The claims of a secret made with `key` for this room and peer, or nullopt (forged, altered,
// or for another seat). Compares the MAC in constant time.
std::optional<SeatClaims> verify_seat_secret(std::string_view key, std::string_view room,
                                             std::string_view peer_id, std::string_view secret);

}  // namespace chorus
