// Reconnect delays: exponential with "equal jitter" (half fixed, half random), so a server
// restart is not met by every client at the same instant.
#pragma once

#include <algorithm>
#include <cmath>

#include "common/random.hpp"

namespace chorus {

struct Backoff {
  double base_ms = 500;
  double max_ms = 10000;

  // Delay before attempt number `attempt` (0-based).
  double delay(int attempt, Random& random) const {
    const double cap = std::min(max_ms, base_ms * std::pow(2.0, std::min(attempt, 30)));
    return cap / 2 + random.next_unit() * cap / 2;
  }
};

}  // namespace chorus
