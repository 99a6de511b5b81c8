// Access tokens for rooms that require them (server config `auth`): a JWT (RFC 7519) signed
// with HMAC-SHA256 ("HS256", RFC 7515) under a secret the app's backend shares with the
// signaling server. tools/mint-token.mjs mints development tokens.
//
// Claims read (docs/protocol.md, "Access tokens"):
//   room  string, required: the room it admits to, or "*" for any room
//   sub   string, required: the verified identity, shown to the other peers as `identity`
//   role  string, optional: talker | dispatcher | teacher | student
//   exp   number, required: expiry, seconds since the Unix epoch
//   nbf   number, optional: not valid before, seconds since the Unix epoch
// Only "HS256" is accepted: `alg: none` and every other algorithm are refused, so a token
// cannot choose how it is checked.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/error_code.hpp"
#include "signaling/protocol.hpp"

namespace chorus {

struct AccessClaims {
  std::string room;
  std::string identity;
  std::optional<protocol::Role> role;
  double expires_unix_s = 0;
};

struct TokenRejection {
  ErrorCode code;  // Unauthorized, or TokenExpired for exp / nbf
  std::string message;
};

// Checks signature, algorithm, claims and times against `unix_ms` (the host's wall clock),
// and that the token admits to `room`. Never throws.
std::variant<AccessClaims, TokenRejection> verify_access_token(std::string_view token,
                                                                std::string_view secret,
                                                                std::string_view room,
                                                                double unix_ms);

}  // namespace chorus
