// SHA-1 (FIPS 180-4), for one use only: HMAC-SHA1 in the TURN REST credentials that coturn's
// `use-auth-secret` checks (RFC 5389's MESSAGE-INTEGRITY is HMAC-SHA1 too). Not for new
// designs: SHA-1 collisions are practical, HMAC-SHA1 is still sound as a MAC.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/block_feeder.hpp"

namespace chorus {

class Sha1 {
 public:
  using Digest = std::array<std::uint8_t, 20>;

  void update(std::string_view bytes);
  // The digest of everything updated so far. The object must not be updated afterwards.
  Digest finish();

 private:
  void block(const std::uint8_t* p);

  std::uint32_t h_[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  BlockFeeder feeder_;
};

}  // namespace chorus
