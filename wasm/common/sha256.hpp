// Incremental SHA-256 (FIPS 180-4): the end-to-end integrity check of file transfers (both
// sides hash the bytes as they pass, so no file is held whole) and HMAC-SHA256 (common/hmac).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/block_feeder.hpp"

namespace chorus {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  void update(std::string_view bytes);
  // The digest of everything updated so far. The object must not be updated afterwards.
  Digest finish();

  static std::string hex(const Digest& digest);

 private:
  void block(const std::uint8_t* p);

  std::uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  BlockFeeder feeder_;
};

}  // namespace chorus
