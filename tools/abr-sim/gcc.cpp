#include "gcc.hpp"

#include <algorithm>
#include <cmath>

namespace abrsim {

namespace {
constexpr double kTrendWindowS = 1.0;
constexpr double kTrendThresholdMsPerS = 15.0;
constexpr double kBeta = 0.85;
constexpr double kAckedWindowS = 0.3;
}  // namespace

double GccModel::acked_bps(double now_s) const {
  double bytes = 0;
  for (const auto& [t, b] : acked_) bytes += b;
  (void)now_s;
  return bytes * 8 / kAckedWindowS;
}

Signal GccModel::detect(const Report& report) {
  if (report.arrivals.empty()) return Signal::Normal;
  double sum = 0;
  for (const Arrival& a : report.arrivals) sum += (a.arrival_s - a.sent_s) * 1000;
  delays_.emplace_back(report.now_s, sum / report.arrivals.size());
  while (!delays_.empty() && delays_.front().first < report.now_s - kTrendWindowS) delays_.pop_front();
  if (delays_.size() < 4) return Signal::Normal;
  double mt = 0, md = 0;
  for (const auto& [t, d] : delays_) mt += t, md += d;
  mt /= delays_.size();
  md /= delays_.size();
  double num = 0, den = 0;
  for (const auto& [t, d] : delays_) num += (t - mt) * (d - md), den += (t - mt) * (t - mt);
  double slope = den > 0 ? num / den : 0;  // ms per s
  if (slope > kTrendThresholdMsPerS) {
    return ++overuse_reports_ >= 2 ? Signal::Overuse : Signal::Normal;
  }
  overuse_reports_ = 0;
  return slope < -kTrendThresholdMsPerS ? Signal::Underuse : Signal::Normal;
}

void GccModel::update_delay_based(Signal signal, double now_s, double rtt_s) {
  double dt = std::min(1.0, std::max(0.0, now_s - last_update_s_));
  last_update_s_ = now_s;
  double acked = acked_bps(now_s);
  switch (signal) {
    case Signal::Overuse: {
      double kbps = acked / 1000;
      if (capacity_kbps_ && kbps < *capacity_kbps_ - 3 * std::sqrt(capacity_var_ * *capacity_kbps_)) {
        capacity_kbps_.reset();
      }
      if (!capacity_kbps_) {
        capacity_kbps_ = kbps;
      } else {
        double err = *capacity_kbps_ - kbps;
        *capacity_kbps_ = 0.95 * *capacity_kbps_ + 0.05 * kbps;
        capacity_var_ = std::clamp(0.95 * capacity_var_ + 0.05 * err * err / std::max(*capacity_kbps_, 1.0),
                                   0.4, 2.5);
      }
      if (acked > 0) delay_based_ = std::min(delay_based_, kBeta * acked);
      state_ = State::Hold;
      break;
    }
    case Signal::Underuse:
      state_ = State::Hold;
      break;
    case Signal::Normal: {
      if (state_ == State::Hold) {
        state_ = State::Increase;
        break;
      }
      double next = delay_based_;
      if (capacity_kbps_) {
        double upper = *capacity_kbps_ + 3 * std::sqrt(capacity_var_ * *capacity_kbps_);
        if (delay_based_ / 1000 > upper) capacity_kbps_.reset();
      }
      if (capacity_kbps_) {
        double bits_per_frame = delay_based_ / 30;
        double packets = std::ceil(bits_per_frame / (1200 * 8));
        double packet_bits = bits_per_frame / std::max(1.0, packets);
        double rate = std::max(4000.0, packet_bits / (rtt_s + 0.1));
        next += rate * dt;
      } else {
        next += std::max(1000.0 * dt, delay_based_ * (std::pow(1.08, dt) - 1));
      }
      double cap = 1.5 * acked + 10e3;
      if (next > cap) next = std::max(delay_based_, cap);
      delay_based_ = next;
      break;
    }
  }
  delay_based_ = std::max(kMinBps, delay_based_);
}

void GccModel::update_loss_based(const Report& report) {
  // Loss is judged over back-to-back intervals of at least 500 ms (as the RTCP receiver
  // reports' fraction lost would be), each loss counted once.
  interval_lost_ += report.lost;
  interval_received_ += static_cast<int>(report.arrivals.size());
  const double dt = report.now_s - last_loss_update_s_;
  if (dt < 0.5) return;
  last_loss_update_s_ = report.now_s;
  const double total = interval_lost_ + interval_received_;
  const double loss = total > 0 ? interval_lost_ / total : 0;
  interval_lost_ = interval_received_ = 0;
  if (total <= 0) return;  // nothing known (an outage): hold
  if (loss > 0.10) {
    loss_based_ *= 1 - 0.5 * loss;
  } else {
    loss_based_ += loss_based_ * (std::pow(1.08, std::min(dt, 1.0)) - 1) + 1000 * dt;
  }
}

void GccModel::on_report(const Report& report) {
  for (const Arrival& a : report.arrivals) acked_.emplace_back(a.arrival_s, a.bytes);
  while (!acked_.empty() && acked_.front().first < report.now_s - kAckedWindowS) acked_.pop_front();
  signal_ = detect(report);
  if (!report.arrivals.empty()) update_delay_based(signal_, report.now_s, report.rtt_s);
  update_loss_based(report);
  loss_based_ = std::max(kMinBps, std::min(loss_based_, delay_based_));
  estimate_ = loss_based_;
}

void GccModel::probe_result(double measured_bps) {
  if (measured_bps <= estimate_) return;
  delay_based_ = loss_based_ = estimate_ = measured_bps;
}

}  // namespace abrsim
