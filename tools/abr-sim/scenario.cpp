#include "scenario.hpp"

namespace abrsim {

std::vector<Window> Scenario::steady_windows() const {
  std::vector<Window> out;
  const auto& steps = trace.steps;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    double end = i + 1 < steps.size() ? steps[i + 1].start_s : trace.duration_s;
    double length = end - steps[i].start_s;
    if (steps[i].capacity_bps > 0 && length >= 8) out.push_back({steps[i].start_s + length / 2, end});
  }
  return out;
}

std::vector<Scenario> all_scenarios() {
  std::vector<Scenario> s;
  s.push_back({"steady", "Steady link: 1.5 Mbit/s for 60 s",
               Trace::steps_of({{60, 1.5e6}}), 1});
  s.push_back({"steps", "Steps: 2 Mbit/s, 300 kbit/s, 1.5 Mbit/s (20 s each)",
               Trace::steps_of({{20, 2e6}, {20, 300e3}, {20, 1.5e6}}), 1});
  s.push_back({"outages", "Outages: 1.5 Mbit/s, 2 s at 0 every 15 s",
               Trace::outages(1.5e6, 0, 15, 2, 62), 1});
  s.push_back({"lossy", "Lossy link: 1.5 Mbit/s, 5% random loss",
               Trace::steps_of({{60, 1.5e6}}, 0.05), 1});
  s.push_back({"mesh", "Mesh of 4: three connections share 1.5 Mbit/s, then 600 kbit/s",
               Trace::steps_of({{30, 1.5e6}, {30, 600e3}}), 3});
  return s;
}

}  // namespace abrsim
