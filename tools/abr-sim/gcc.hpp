// A simplified model of the browser's congestion control (Google Congestion Control as in
// libwebrtc, send side, transport-wide feedback every 100 ms): its output is the estimate the
// browser reports as `availableOutgoingBitrate` and the budget its encoders share.
//
// Delay-based part: the queueing delay trend is the least-squares slope of the per-report mean
// one-way delay over the last 1 s of reports. Slope > +15 ms/s (the queue grows by 1.5% of the
// link rate) in two reports in a row is overuse, < -15 ms/s underuse, otherwise normal. AIMD:
// overuse -> estimate = 0.85 x acked rate (bytes that arrived in the last 300 ms), then hold;
// underuse -> hold; normal -> increase: 8%/s multiplicative, or additive (about one packet per
// response time, RTT + 100 ms) when near the link capacity seen at earlier overuses (libwebrtc's
// LinkCapacityEstimator: within 3 deviations). An increase never goes above 1.5 x acked rate
// + 10 kbit/s.
// Loss-based part (loss over back-to-back intervals of 500 ms, like RTCP receiver reports):
// > 10% -> x (1 - 0.5 loss); otherwise +8%/s, up to the delay-based estimate. The estimate is the lower
// of the two. (libwebrtc's classic loss-based part holds between 2% and 10% loss; newer Chrome
// (LossBasedBweV2) tolerates a link's inherent random loss; this model ignores loss below 10%.)
// Start: 300 kbit/s; the start-up probes (900 kbit/s and 1.8 Mbit/s in libwebrtc) are modelled
// by their result only: the caller hands `probe_result()` the rate the probe measured.
// No feedback (an outage: nothing arrives) changes nothing; the losses become known when packets
// arrive again (a gap in the sequence numbers).
#pragma once

#include <deque>
#include <optional>
#include <vector>

namespace abrsim {

struct Arrival {
  double sent_s, arrival_s;
  int bytes;
};

// One transport-wide feedback report, as the sender gets it.
struct Report {
  double now_s = 0;
  std::vector<Arrival> arrivals;  // packets that arrived since the previous report
  int lost = 0;                   // packets newly known to be lost (a gap before an arrival)
  double rtt_s = 0.04;
};

enum class Signal { Normal, Overuse, Underuse };

class GccModel {
 public:
  static constexpr double kStartBps = 300e3;
  static constexpr double kMinBps = 30e3;

  GccModel() = default;
  void on_report(const Report& report);
  void probe_result(double measured_bps);
  double estimate_bps() const { return estimate_; }
  Signal last_signal() const { return signal_; }

 private:
  Signal detect(const Report& report);
  void update_delay_based(Signal signal, double now_s, double rtt_s);
  void update_loss_based(const Report& report);
  double acked_bps(double now_s) const;

  double delay_based_ = kStartBps;
  double loss_based_ = kStartBps;
  double estimate_ = kStartBps;
  enum class State { Hold, Increase, Decrease } state_ = State::Increase;
  Signal signal_ = Signal::Normal;
  int overuse_reports_ = 0;
  double last_update_s_ = 0;
  double last_loss_update_s_ = 0;
  int interval_lost_ = 0, interval_received_ = 0;
  std::deque<std::pair<double, double>> delays_;     // (report time s, mean one-way delay ms)
  std::deque<std::pair<double, int>> acked_;         // (arrival s, bytes), last 500 ms
  // Link capacity seen at overuse (kbit/s) and its normalised variance.
  std::optional<double> capacity_kbps_;
  double capacity_var_ = 0.4;
};

}  // namespace abrsim
