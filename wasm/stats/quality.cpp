#include "stats/quality.hpp"

#include <algorithm>
#include <cmath>

namespace chorus::stats {

double mos_from_r(double r) {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return std::clamp(1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r), 1.0, 4.5);
}

double e_model_mos(double one_way_delay_ms, double loss_fraction) {
  const double d = std::max(0.0, one_way_delay_ms);
  // Delay impairment: gentle up to ~177 ms, steep beyond (conversation breaks down).
  const double id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0.0);
  const double ppl = 100 * std::clamp(loss_fraction, 0.0, 1.0);
  const double ie_eff = kOpusIe + (95 - kOpusIe) * ppl / (ppl + kOpusBpl);
  return mos_from_r(93.2 - id - ie_eff);
}

double one_way_delay_ms(double rtt_ms, double jitter_ms) {
  return std::max(0.0, rtt_ms) / 2 + 2 * std::max(0.0, jitter_ms) + 20;
}

double video_score(double frame_height, double frames_per_second, double frozen_fraction) {
  if (!(frame_height > 0) || !(frames_per_second > 0)) return 0;
  const double size = std::clamp(1 + 4 * std::log2(frame_height / 90) / std::log2(1080.0 / 90), 0.5, 5.0);
  const double motion = std::min(1.0, std::sqrt(frames_per_second / 24));
  const double fluid = 1 - std::clamp(frozen_fraction, 0.0, 1.0);
  return std::clamp(size * motion * fluid, 0.0, 5.0);
}

}  // namespace chorus::stats
