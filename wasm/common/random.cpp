#include "common/random.hpp"

namespace chorus {
namespace {

std::uint32_t rotl(std::uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

// splitmix64 spreads any seed (even 0) over the whole state.
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Random::Random(std::uint64_t seed_lo, std::uint64_t seed_hi) {
  std::uint64_t x = seed_lo ^ splitmix64(seed_hi);
  std::uint64_t a = splitmix64(x);
  std::uint64_t b = splitmix64(x);
  s_[0] = static_cast<std::uint32_t>(a);
  s_[1] = static_cast<std::uint32_t>(a >> 32);
  s_[2] = static_cast<std::uint32_t>(b);
  s_[3] = static_cast<std::uint32_t>(b >> 32);
}

void Random::mix(std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t x = lo ^ splitmix64(hi);
  for (auto& word : s_) word ^= static_cast<std::uint32_t>(splitmix64(x));
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;  // the all-zero state is a fixed point
  for (int i = 0; i < 4; ++i) next_u32();
}

std::uint32_t Random::next_u32() {
  const std::uint32_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint32_t t = s_[1] << 9;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 11);
  return result;
}

double Random::next_unit() { return (next_u32() >> 8) * (1.0 / 16777216.0); }

std::string Random::token(std::size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) out.push_back(kAlphabet[next_u32() & 63]);
  return out;
}

}  // namespace chorus
