// A hand-written SVG chart of one scenario: capacity as a step line, each mode's 1-s send rate
// (all connections, sampled every 100 ms) as a polyline, axes in s and kbit/s.
#pragma once

#include <string>

#include "scenario.hpp"
#include "sim.hpp"

namespace abrsim {

std::string chart_svg(const Scenario& scenario, const RunResult& chorus, const RunResult& baseline);

}  // namespace abrsim
