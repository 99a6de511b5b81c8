// Time-limited TURN credentials in the TURN REST form (draft-uberti-behave-turn-rest-00) that
// coturn checks with `use-auth-secret` / `static-auth-secret`: the signaling server and the
// TURN server share a secret, and every welcome carries a fresh RTCIceServer for the peer:
//   username   = "<expiry, unix seconds>:<user>"
//   credential = base64(HMAC-SHA1(secret, username))
// No credential database: coturn recomputes the HMAC and refuses expired usernames.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"

namespace chorus {

struct TurnConfig {
  std::vector<std::string> urls;  // e.g. "turn:turn.example.org:3478?transport=udp"
  std::string secret;             // empty: no TURN entry is handed out
  double ttl_s = 86400;           // how long a credential stays valid

  // Reads `turn: {urls, secret, ttlSeconds}`; `urls` may also be one string.
  static TurnConfig from_json(const Json& turn);
  bool enabled() const { return !urls.empty() && !secret.empty(); }
};

// The RTCIceServer (`{urls, username, credential}`) for `user`, valid for ttl_s from `unix_ms`.
Json turn_ice_server(const TurnConfig& config, std::string_view user, double unix_ms);

}  // namespace chorus
