// HMAC (RFC 2104) over SHA-256 (JWT HS256 access tokens) and SHA-1 (TURN REST credentials).
#pragma once

#include <string>
#include <string_view>

#include "common/sha1.hpp"
#include "common/sha256.hpp"

namespace chorus {

Sha256::Digest hmac_sha256(std::string_view key, std::string_view message);
Sha1::Digest hmac_sha1(std::string_view key, std::string_view message);

// Compares in time that depends only on the lengths, so a forger learns nothing from how
// long a wrong signature took to refuse.
bool constant_time_equal(std::string_view a, std::string_view b);

// The digest's bytes as a string (for base64 and comparisons).
template <typename Digest>
std::string digest_bytes(const Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace chorus
