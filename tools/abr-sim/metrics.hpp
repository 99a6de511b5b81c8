// What a run achieved, measured the same way for both modes.
//   utilization   delivered bits / capacity bits inside the scenario's steady windows
//   loss          packets lost (tail drops + random loss) / packets sent, whole run
//   drop → below  per capacity drop (to a non-zero rate): seconds from the drop until the 1-s
//                 send rate (all connections, onto the bottleneck) is below the new capacity
//   rise → 90%    per capacity rise (a step up, the end of an outage): seconds until the 1-s rate
//                 delivered at the far end reaches 90% of it (delivered, not sent: during an
//                 outage the senders keep sending into the dead link, which is no recovery);
//                 after an outage the first 2 s do not count (the link drains the backlog and
//                 what the senders send at their old rate before their feedback arrives)
//   video off     seconds (summed over connections) in which the video sender was inactive
//   queue p95     95th percentile of the time delivered packets spent in the bottleneck
//   shares        each connection's part of what was delivered in the steady windows (mesh)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "sim.hpp"

namespace abrsim {

struct Adaptation {
  double at_s;                    // when the capacity changed
  std::optional<double> after_s;  // nullopt: not reached before the next change
  double limit_s;                 // time until the next change
};

struct Metrics {
  double utilization = 0;
  double loss_percent = 0, tail_drop_percent = 0;
  std::vector<Adaptation> drops, recoveries;
  double video_off_s = 0;
  double queue_p95_ms = 0;
  std::vector<double> shares;  // fractions, one per connection
  double jain = 1;             // Jain's fairness index of the shares
};

Metrics measure(const Scenario& scenario, const RunResult& run);

// Each event in order: "0.4 s", "> 13 s" (not reached before the next change); "-": none.
std::string describe(const std::vector<Adaptation>& events);

}  // namespace abrsim
