// Mints HS256 JWTs for the unit tests (tools/server/token.mjs mints them for real).
#pragma once

#include <string>

#include "common/base64.hpp"
#include "common/hmac.hpp"
#include "common/json.hpp"

namespace test {

inline std::string mint_jwt(const chorus::Json& payload, const std::string& secret,
                            const chorus::Json& header = {{"alg", "HS256"}, {"typ", "JWT"}}) {
  const std::string signing_input = chorus::base64url_encode(header.dump()) + "." +
                                    chorus::base64url_encode(payload.dump());
  return signing_input + "." +
         chorus::base64url_encode(chorus::digest_bytes(chorus::hmac_sha256(secret, signing_input)));
}

}  // namespace test
