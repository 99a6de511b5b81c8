// Deterministic pseudo-random numbers for the sans-IO core (backoff jitter, ids, secrets).
// The core never reads entropy itself: the host seeds it (crypto random in production,
// fixed seeds in tests), so every run of a test is reproducible.
#pragma once

#include <cstdint>
#include <string>

namespace chorus {

// xoshiro128** (Blackman & Vigna): small state, good statistical quality. Not a CSPRNG on its
// own; seeded with 128 bits of host entropy it makes ids and resume secrets unguessable to a
// client that sees only a few of its outputs.
class Random {
 public:
  explicit Random(std::uint64_t seed_lo = 0x9e3779b97f4a7c15ULL, std::uint64_t seed_hi = 0);

  // Stirs host entropy into the state. The server calls this on every connection, so a client
  // that sees many outputs (its secret, the room's ids) cannot predict the next secret.
  void mix(std::uint64_t lo, std::uint64_t hi);

  std::uint32_t next_u32();
  // Uniform in [0, 1).
  double next_unit();
  // `length` characters of [A-Za-z0-9_-].
  std::string token(std::size_t length);

 private:
  std::uint32_t s_[4];
};

}  // namespace chorus
