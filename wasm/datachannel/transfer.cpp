#include "datachannel/transfer.hpp"

namespace chorus::datachannel {

namespace {
constexpr double kRateWindowMs = 2000;
}

bool Progress::update(std::uint64_t bytes, double now_ms) {
  bytes_ = bytes;
  samples_.push_back({now_ms, bytes});
  while (samples_.size() > 2 && now_ms - samples_[1].t >= kRateWindowMs) samples_.pop_front();
  const Sample& first = samples_.front();
  if (now_ms - first.t >= 50) rate_ = (bytes - first.bytes) * 1000.0 / (now_ms - first.t);
  // Bound the samples: many updates within the window thin out to one per ~10 ms.
  if (samples_.size() > 256) samples_.erase(samples_.begin() + 1);
  if (last_report_ && now_ms - *last_report_ < interval_ms_ && bytes < total_) return false;
  last_report_ = now_ms;
  return true;
}

std::optional<double> Progress::eta_seconds() const {
  if (bytes_ >= total_) return 0.0;
  if (rate_ <= 0) return std::nullopt;
  return static_cast<double>(total_ - bytes_) / rate_;
}

}  // namespace chorus::datachannel
