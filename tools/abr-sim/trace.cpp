#include "trace.hpp"

namespace abrsim {

const Step& Trace::at(double t_s) const {
  std::size_t i = 0;
  while (i + 1 < steps.size() && steps[i + 1].start_s <= t_s) ++i;
  return steps[i];
}

Trace Trace::steps_of(const std::vector<std::pair<double, double>>& segments, double loss) {
  Trace trace;
  double t = 0;
  for (const auto& [seconds, bps] : segments) {
    trace.steps.push_back({t, bps, loss});
    t += seconds;
  }
  trace.duration_s = t;
  return trace;
}

Trace Trace::outages(double base_bps, double outage_bps, double period_s, double outage_s,
                     double duration_s) {
  Trace trace;
  trace.steps.push_back({0, base_bps, 0});
  for (double t = period_s; t + outage_s < duration_s; t += period_s) {
    trace.steps.push_back({t, outage_bps, 0});
    trace.steps.push_back({t + outage_s, base_bps, 0});
  }
  trace.duration_s = duration_s;
  return trace;
}

}  // namespace abrsim
