// The message schedule shared by SHA-1 and SHA-256 (FIPS 180-4, 5.1.1): bytes are cut into
// 64-byte blocks for the hash's compression function, and the last block is padded with 0x80,
// zeros and the message's bit length, big-endian.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace chorus {

class BlockFeeder {
 public:
  // Calls `block(const std::uint8_t* p)` for each complete 64-byte block.
  template <typename Block>
  void update(std::string_view bytes, Block&& block) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    std::size_t n = bytes.size();
    length_ += n;
    if (buffered_ > 0) {
      const std::size_t take = n < 64 - buffered_ ? n : 64 - buffered_;
      std::memcpy(buffer_ + buffered_, p, take);
      buffered_ += take;
      p += take;
      n -= take;
      if (buffered_ < 64) return;
      block(buffer_);
      buffered_ = 0;
    }
    for (; n >= 64; p += 64, n -= 64) block(p);
    std::memcpy(buffer_, p, n);
    buffered_ = n;
  }

  // Appends the padding; the last block goes to `block`. No update afterwards.
  template <typename Block>
  void finish(Block&& block) {
    const std::uint64_t bits = length_ * 8;
    std::uint8_t pad[72] = {0x80};
    const std::size_t zeros = (buffered_ < 56 ? 56 : 120) - buffered_;
    for (int i = 0; i < 8; ++i) pad[zeros + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    update(std::string_view(reinterpret_cast<const char*>(pad), zeros + 8), block);
  }

 private:
  std::uint8_t buffer_[64] = {};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes
};

// Big-endian words of a digest, as FIPS 180-4 writes the hash value out.
template <std::size_t N, typename Digest>
void store_big_endian(const std::uint32_t (&h)[N], Digest& out) {
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * j));
  }
}

}  // namespace chorus
