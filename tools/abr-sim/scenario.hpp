// The scenarios the simulator runs: a trace, how many connections share the uplink, and the
// windows in which the link counts as steady (for utilization).
#pragma once

#include <string>
#include <vector>

#include "trace.hpp"

namespace abrsim {

struct Window {
  double from_s, to_s;
};

struct Scenario {
  std::string key;    // file names: docs/abr-sim-<key>.svg
  std::string title;
  Trace trace;
  int connections = 1;
  // Steady windows: the second half of every step with capacity that lasts 8 s or more.
  std::vector<Window> steady_windows() const;
};

std::vector<Scenario> all_scenarios();

}  // namespace abrsim
