#include "abr/allocation.hpp"

#include <algorithm>

namespace chorus::abr {

std::vector<double> split_video_budget(double budget_bps, const std::vector<Claim>& claims,
                                       double max_video_bps) {
  std::vector<double> share(claims.size(), 0);
  double left = budget_bps;
  for (const Claim& c : claims) left -= c.audio_bps;
  std::vector<double> cap(claims.size(), 0);
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    if (!claims[i].wants_video) continue;
    double c = max_video_bps;
    if (claims[i].path_cap_bps) c = std::min(c, std::max(0.0, *claims[i].path_cap_bps - claims[i].audio_bps));
    cap[i] = c;
    open.push_back(i);
  }
  // Water-filling: the smallest caps are filled first, the rest share what is left equally.
  std::sort(open.begin(), open.end(), [&](std::size_t a, std::size_t b) { return cap[a] < cap[b]; });
  left = std::max(0.0, left);
  for (std::size_t k = 0; k < open.size(); ++k) {
    const double equal = left / static_cast<double>(open.size() - k);
    const std::size_t i = open[k];
    share[i] = std::min(cap[i], equal);
    left -= share[i];
  }
  return share;
}

}  // namespace chorus::abr
