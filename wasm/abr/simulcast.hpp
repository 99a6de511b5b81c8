// Simulcast on the SFU, both ends:
//   - publishing: which of our layers (rid h, m, l: full, 1/2 and 1/4 size, as
//     janus/videoroom_publisher.hpp offers them) are worth sending: those some subscriber
//     watches, and `l` always (the SFU falls back to it when a subscriber's link suffers),
//     as far as the budget reaches, from the bottom up;
//   - subscribing: which layer of a peer to take, from the size its video is rendered at and
//     a ceiling the downlink imposes (lowered on loss or freezes, raised after a clean while).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::abr {

enum class Layer { L = 0, M = 1, H = 2 };

const char* to_string(Layer layer);
std::optional<Layer> layer_from(std::string_view name);

struct LayerPlan {
  bool active = false;
  double max_bitrate = 0;  // bps
};

struct SimulcastRates {
  std::array<double, 3> bps{120'000, 400'000, 1'200'000};  // l, m, h (the publisher's encodings)
};

// `wanted[i]`: some subscriber watches layer i. A layer whose full rate does not fit in what is
// left is off, except the highest one that still gets half its rate (capped to what is left).
std::array<LayerPlan, 3> plan_simulcast(double video_bps, std::array<bool, 3> wanted,
                                        const SimulcastRates& rates = {});

// The smallest layer whose height covers 80 % of the rendered height. `full_height`: the
// publisher's top layer's height (720 if not known yet). No view size: H (the default layer).
Layer layer_for_view(std::optional<double> view_height, double full_height);

// How far down the downlink pushes every subscription. One step down on inbound loss above 5 %
// or on freezes in two samples running (one freeze is as likely a busy page), one step up after
// `clean_ms` of clean samples.
class DownlinkCeiling {
 public:
  explicit DownlinkCeiling(double clean_ms = 10000) : clean_ms_(clean_ms) {}
  void update(double loss_fraction, bool froze, double now_ms);
  Layer ceiling() const { return ceiling_; }

 private:
  double clean_ms_;
  Layer ceiling_ = Layer::H;
  double clean_since_ = 0;
  bool started_ = false;
  bool froze_before_ = false;
};

}  // namespace chorus::abr
