// Differences of getStats() counters between two samples. Counters are cumulative in
// webrtc-stats; a counter that goes backwards means its object was replaced (a new sender, a
// restarted connection), so its history starts over instead of giving a negative rate.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stats/sample.hpp"

namespace chorus::stats {

class Counters {
 public:
  // The increase of counter `key` since the last sample that carried it, or nullopt: the first
  // value, a missing value (the history is kept), or a reset (described in `problems`).
  // `may_decrease`: a counter webrtc-stats lets go down a little (packetsLost, when late
  // duplicates arrive); a decrease is then a zero difference.
  std::optional<double> delta(const std::string& key, Value value, std::vector<std::string>& problems,
                              bool may_decrease = false);

  // Ends a sample: counters not seen in the last `keep_samples` samples are forgotten, so keys
  // that come and go (peers leaving, hostile ids) cannot grow the map without bound.
  void end_sample(int keep_samples = 5);

  std::size_t size() const { return last_.size(); }

 private:
  struct Last {
    double value;
    long sample;
  };
  std::map<std::string, Last> last_;
  long sample_ = 0;
};

}  // namespace chorus::stats
