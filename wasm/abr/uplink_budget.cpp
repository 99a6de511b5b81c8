#include "abr/uplink_budget.hpp"

#include <algorithm>

namespace chorus::abr {

std::optional<double> UplinkBudget::min_rtt(double now_ms) const {
  std::optional<double> best;
  for (const auto& [t, rtt] : rtts_) {
    if (now_ms - t <= config_.min_rtt_window_ms && (!best || rtt < *best)) best = rtt;
  }
  return best;
}

void UplinkBudget::update(const UplinkSample& s, double now_ms) {
  const bool first = !started_;
  if (first) {
    budget_ = std::clamp(s.available_bps.value_or(config_.initial_bps), config_.min_bps, config_.max_bps);
    started_ = true;
  }

  // Queueing delay: the RTT above its minimum over the last 30 s.
  std::optional<double> queue;
  bool rising = false;
  if (s.rtt_ms) {
    while (!rtts_.empty() && now_ms - rtts_.front().first > config_.min_rtt_window_ms) rtts_.pop_front();
    rtts_.emplace_back(now_ms, *s.rtt_ms);
    if (rtts_.size() > 256) rtts_.pop_front();  // samples come about once a second
    queue = *s.rtt_ms - *min_rtt(now_ms);
    rising = queue_ms_ && *queue > *queue_ms_ + 5;
  }
  const std::optional<double> queue_before = queue_ms_;
  queue_ms_ = queue;

  if (first || !s.sent_bps) return;  // nothing to compare yet, or nothing measured: hold
  const double sent = *s.sent_bps;
  const double loss = s.loss_fraction.value_or(0);
  const bool lossy = loss > config_.loss_backoff;
  const bool queued = queue && ((*queue > config_.queue_ms && rising) || *queue > config_.standing_queue_ms);

  if (lossy || queued) {
    // What the link carried: what we sent, less what was lost, less what went into the queue
    // (its growth in time, at the rate the link drains it).
    const double growth_s = queue && queue_before ? std::max(0.0, *queue - *queue_before) / 1000 : 0;
    double carried = sent * (1 - loss) * s.interval_s / (s.interval_s + growth_s);
    if (queued && !lossy) carried *= 0.9;  // leave room to drain the standing queue
    // Never above the current budget, and never above the browser's own estimate.
    double next = std::min(budget_, carried);
    if (s.available_bps) next = std::min(next, std::max(*s.available_bps, config_.min_bps));
    budget_ = next;
    trend_ = Trend::Backoff;
    hold_until_ = now_ms + config_.hold_ms;
  } else if (now_ms < hold_until_ || loss >= config_.clean_loss) {
    trend_ = Trend::Holding;
  } else {
    // Clean: catch up with the browser's estimate at once, and probe beyond it gently.
    const double next = s.available_bps && *s.available_bps > budget_ ? *s.available_bps
                                                                       : budget_ * config_.probe_gain;
    budget_ = std::min(next, std::max(budget_, 2 * sent + config_.probe_headroom_bps));
    trend_ = Trend::Probing;
  }
  budget_ = std::clamp(budget_, config_.min_bps, config_.max_bps);
}

}  // namespace chorus::abr
