#include "stats/counters.hpp"

namespace chorus::stats {

std::optional<double> Counters::delta(const std::string& key, Value value,
                                      std::vector<std::string>& problems, bool may_decrease) {
  if (!value) return std::nullopt;
  auto it = last_.find(key);
  if (it == last_.end()) {
    last_.emplace(key, Last{*value, sample_});
    return std::nullopt;
  }
  const double before = it->second.value;
  it->second = Last{*value, sample_};
  if (*value < before && may_decrease) return 0.0;
  if (*value < before) {
    problems.push_back(key + " went backwards; its history starts over");
    return std::nullopt;
  }
  return *value - before;
}

void Counters::end_sample(int keep_samples) {
  for (auto it = last_.begin(); it != last_.end();) {
    if (sample_ - it->second.sample >= keep_samples) it = last_.erase(it);
    else ++it;
  }
  ++sample_;
}

}  // namespace chorus::stats
