#include "abr/simulcast.hpp"

#include <algorithm>

namespace chorus::abr {

const char* to_string(Layer layer) {
  switch (layer) {
    case Layer::L: return "l";
    case Layer::M: return "m";
    case Layer::H: return "h";
  }
  return "h";
}

std::optional<Layer> layer_from(std::string_view name) {
  if (name == "l") return Layer::L;
  if (name == "m") return Layer::M;
  if (name == "h") return Layer::H;
  return std::nullopt;
}

std::array<LayerPlan, 3> plan_simulcast(double video_bps, std::array<bool, 3> wanted,
                                        const SimulcastRates& rates) {
  std::array<LayerPlan, 3> plan{};
  wanted[0] = true;
  double left = video_bps;
  for (int i = 0; i < 3; ++i) {
    if (!wanted[i]) continue;
    const double full = rates.bps[i];
    if (left >= full) {
      plan[i] = {true, full};
      left -= full;
    } else {
      // The top layer that fits at half its rate or more is sent at what is left; above it,
      // nothing fits.
      if (left >= full / 2) plan[i] = {true, left};
      break;
    }
  }
  return plan;
}

Layer layer_for_view(std::optional<double> view_height, double full_height) {
  if (!view_height) return Layer::H;
  const double need = 0.8 * *view_height;
  if (full_height / 4 >= need) return Layer::L;
  if (full_height / 2 >= need) return Layer::M;
  return Layer::H;
}

void DownlinkCeiling::update(double loss_fraction, bool froze, double now_ms) {
  if (!started_) {
    started_ = true;
    clean_since_ = now_ms;
  }
  const bool freezing = froze && froze_before_;
  froze_before_ = froze;
  if (loss_fraction > 0.05 || freezing) {
    if (ceiling_ != Layer::L) ceiling_ = static_cast<Layer>(static_cast<int>(ceiling_) - 1);
    clean_since_ = now_ms;
  } else if (froze) {
    clean_since_ = now_ms;
  } else if (now_ms - clean_since_ >= clean_ms_) {
    if (ceiling_ != Layer::H) ceiling_ = static_cast<Layer>(static_cast<int>(ceiling_) + 1);
    clean_since_ = now_ms;
  }
}

}  // namespace chorus::abr
