// A bandwidth trace: the bottleneck's capacity (bit/s) and random loss as steps over time.
#pragma once

#include <string>
#include <vector>

namespace abrsim {

struct Step {
  double start_s;      // the step holds from here to the next step's start (or the trace's end)
  double capacity_bps;
  double loss;         // random loss probability of a packet crossing the link, 0..1
};

struct Trace {
  std::vector<Step> steps;  // sorted by start_s, the first at 0
  double duration_s = 0;

  const Step& at(double t_s) const;
  // Steps grown: 2 Mbit/s for 20 s then 300k for 20 s ... from a list of (seconds, bps).
  static Trace steps_of(const std::vector<std::pair<double, double>>& segments, double loss = 0);
  // `base_bps` with `outage_s` at `outage_bps` every `period_s` (the first after one period).
  static Trace outages(double base_bps, double outage_bps, double period_s, double outage_s,
                       double duration_s);
};

}  // namespace abrsim
