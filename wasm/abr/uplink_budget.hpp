// The budget of one uplink shared by all our sending connections (the mesh's N-1, or the
// SFU publisher), from what a sample says about it. The browser's congestion control (GCC)
// estimates each connection alone; in a mesh they compete for the same bottleneck, so their
// estimates add up to more than it carries. This estimate is for the link as a whole:
//   - back off when the link shows loss above 10 % or a standing queue (RTT 150 ms above its
//     recent minimum twice in a row while we fill the budget): to what got through, less the
//     queue's growth, but at most by half per sample (an outage is no reason to start from
//     nothing);
//   - hold for a while after a back-off, then catch up at once with the largest single
//     connection's estimate, and probe gently (8 % a sample) while the link is clean;
//   - never above the sum of the browser's estimates (plus what video-off connections need
//     to try again): when the browser sees congestion first, the budget follows it down.
#pragma once

#include <optional>

namespace chorus::abr {

struct UplinkConfig {
  double initial_bps = 1'000'000;  // until the browser's estimates arrive
  double min_bps = 50'000;
  double max_bps = 20'000'000;
  double loss_backoff = 0.10;        // loss above this: congested
  double clean_loss = 0.02;          // loss below this (and no queue): clean
  // RTT this far above its minimum in two samples running, while we send most of the budget:
  // a queue we are filling. A single jump is not one (a busy machine delays its answers; the
  // browser's own delay-based estimator, which bounds the budget, watches the fine trend).
  double standing_queue_ms = 150;
  double queue_fill = 0.7;  // "most of the budget"
  double hold_ms = 2000;             // no probing this long after a back-off
  double max_cut = 0.5;              // one sample never cuts the budget below this share
  double probe_gain = 1.08;          // per clean sample, beyond what the browser estimates
  // While the app sends less than the budget (video off, a still screen), the budget grows to
  // at most twice what is sent plus this: enough to try video again, not a figure never tested.
  double probe_headroom_bps = 200'000;
};

// One sample of the uplink as a whole.
struct UplinkSample {
  double interval_s = 1;
  std::optional<double> sent_bps;        // all our outbound RTP (or the pairs' bytesSent)
  // Over the connections that sent in the interval, weighted by what each sent: one peer's
  // poor downlink is that connection's problem (its own cap), not the shared uplink's.
  std::optional<double> loss_fraction;   // from remote-inbound-rtp
  std::optional<double> queue_ms;        // each connection's RTT above its own recent minimum
  // The sum of the connections' availableOutgoingBitrate: what the browser thinks the uplink
  // carries. In a mesh each connection estimates alone, so this can overshoot a shared
  // bottleneck; the back-off on loss and queueing is what catches that.
  std::optional<double> available_bps;
  // The largest single connection's estimate: the budget catches up with it at once (one flow
  // estimating alone does not overshoot); with the sum only gently.
  std::optional<double> largest_available_bps;
  // Set while some connection has its video off: what trying video again on all of them needs.
  // It replaces the config's headroom above twice the send rate, and is allowed above the
  // browser's estimates (an audio-only connection's estimate says nothing about video).
  std::optional<double> probe_headroom_bps;
};

class UplinkBudget {
 public:
  enum class Trend { Probing, Holding, Backoff };

  explicit UplinkBudget(UplinkConfig config = {}) : config_(config) {}

  // Updates the budget from a sample taken at `now_ms`. Without a send rate the budget holds.
  void update(const UplinkSample& sample, double now_ms);

  double budget_bps() const { return budget_; }
  Trend trend() const { return trend_; }
  std::optional<double> queue_delay_ms() const { return queue_ms_; }

 private:
  UplinkConfig config_;
  double cap_ = 0;     // ours: backs off on loss and queueing, probes when clean
  double budget_ = 0;  // the cap, bounded by the browser's estimates
  bool started_ = false;
  Trend trend_ = Trend::Probing;
  double hold_until_ = 0;
  std::optional<double> queue_ms_;
  int queued_samples_ = 0;
};

}  // namespace chorus::abr
