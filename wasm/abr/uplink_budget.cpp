#include "abr/uplink_budget.hpp"

#include <algorithm>

namespace chorus::abr {

void UplinkBudget::update(const UplinkSample& s, double now_ms) {
  const bool first = !started_;
  if (first) {
    cap_ = std::clamp(s.available_bps.value_or(config_.initial_bps), config_.min_bps, config_.max_bps);
    budget_ = cap_;
    started_ = true;
  }

  const std::optional<double> queue = s.queue_ms;
  const std::optional<double> queue_before = queue_ms_;
  queue_ms_ = queue;

  if (first || !s.sent_bps) return;  // nothing to compare yet, or nothing measured: hold
  const double sent = *s.sent_bps;
  const double loss = s.loss_fraction.value_or(0);
  const bool lossy = loss > config_.loss_backoff;
  queued_samples_ = queue && *queue > config_.standing_queue_ms && sent >= config_.queue_fill * budget_
                        ? queued_samples_ + 1 : 0;
  const bool queued = queued_samples_ >= 2;

  if (lossy || queued) {
    // What the link carried: what we sent, less what was lost, less what went into the queue
    // (its growth in time, at the rate the link drains it).
    const double growth_s = queue && queue_before ? std::max(0.0, *queue - *queue_before) / 1000 : 0;
    double carried = sent * (1 - loss) * s.interval_s / (s.interval_s + growth_s);
    if (queued && !lossy) carried *= 0.9;  // leave room to drain the standing queue
    // Never above what we allowed, and never below half of it in one sample: the first sample
    // after an outage reports all of the outage's loss at once, and a link that comes back
    // should find the call where it was.
    cap_ = std::max(std::min(budget_, carried), budget_ * config_.max_cut);
    trend_ = Trend::Backoff;
    hold_until_ = now_ms + config_.hold_ms;
  } else if (now_ms < hold_until_) {
    trend_ = Trend::Holding;
  } else {
    // Catch up with the largest single estimate at once (one flow estimating alone does not
    // overshoot). Beyond it, probe gently, but only on a clean link: steady loss without a
    // queue (a lossy radio link) is not congestion, so it neither backs off nor probes.
    const double fast = s.largest_available_bps.value_or(s.available_bps.value_or(0));
    double next = cap_;
    if (fast > cap_) next = fast;
    else if (loss < config_.clean_loss) next = cap_ * config_.probe_gain;
    // While the app sends less than allowed, the cap does not run away from what was tested.
    const double headroom = s.probe_headroom_bps.value_or(config_.probe_headroom_bps);
    cap_ = std::min(next, std::max(cap_, 2 * sent + headroom));
    trend_ = loss < config_.clean_loss ? Trend::Probing : Trend::Holding;
  }
  cap_ = std::clamp(cap_, config_.min_bps, config_.max_bps);
  // The browser's estimates bound the budget: what its congestion control lets through is all
  // the encoders can send anyway, and when it sees congestion first, the budget follows it
  // down. Connections with video off estimate only what their audio needs, so they bring the
  // headroom to try video again.
  budget_ = cap_;
  if (s.available_bps) {
    const double off = s.probe_headroom_bps ? *s.probe_headroom_bps : 0;
    budget_ = std::min(cap_, std::max(config_.min_bps, *s.available_bps + off));
  }
}

}  // namespace chorus::abr
