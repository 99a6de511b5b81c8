#include "sim.hpp"

#include <cmath>
#include <memory>

#include "abr/abr_core.hpp"
#include "bottleneck.hpp"
#include "sender.hpp"

namespace abrsim {

namespace {
constexpr double kStepS = 0.005;
constexpr double kFeedbackS = 0.1;
constexpr double kStatsS = 1.0;
constexpr double kProbeAtS = 0.3;
constexpr double kBaselineMaxVideoBps = 2.5e6;
constexpr double kProbeBps = 1.8e6;  // libwebrtc's second start-up probe: 6 x 300 kbit/s
}  // namespace

double RunResult::rate_1s(const std::vector<std::vector<double>>& series, std::size_t bin) {
  const std::size_t n = static_cast<std::size_t>(std::lround(1.0 / kBinS));
  double bits = 0;
  for (const auto& conn : series) {
    for (std::size_t k = bin + 1 >= n ? bin + 1 - n : 0; k <= bin && k < conn.size(); ++k) bits += conn[k];
  }
  return bits / std::min(1.0, (bin + 1) * kBinS);
}

RunResult run(const Scenario& scenario, Mode mode, std::uint64_t seed) {
  RunResult r;
  r.mode = mode;
  const int n = scenario.connections;
  const std::size_t bins = static_cast<std::size_t>(std::ceil(scenario.trace.duration_s / RunResult::kBinS));
  r.capacity_bps.resize(bins);
  r.sent_bits.assign(n, std::vector<double>(bins, 0));
  r.delivered_bits.assign(n, std::vector<double>(bins, 0));
  r.estimate_bps.assign(n, std::vector<double>(bins, 0));
  r.video_off.assign(n, std::vector<char>(bins, 0));
  r.max_video_bps.assign(n, std::vector<double>(bins, 0));

  Bottleneck link(seed * 7919 + 1);
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < n; ++i) {
    conns.push_back(std::make_unique<Connection>(i, "peer-" + std::to_string(i + 1), seed * 104729 + i,
                                                 kBaselineMaxVideoBps));
  }
  std::unique_ptr<chorus::abr::AbrCore> core;
  if (mode == Mode::Chorus) {
    core = std::make_unique<chorus::abr::AbrCore>(chorus::abr::AbrConfig::from_json(chorus::Json::object()));
  }

  const long steps = std::lround(scenario.trace.duration_s / kStepS);
  const long feedback_every = std::lround(kFeedbackS / kStepS);
  const long stats_every = std::lround(kStatsS / kStepS);
  for (long k = 0; k < steps; ++k) {
    const double t = k * kStepS;
    const Step& step = scenario.trace.at(t);
    const std::size_t bin = std::min(bins - 1, static_cast<std::size_t>(t / RunResult::kBinS + 1e-9));
    r.capacity_bps[bin] = step.capacity_bps;

    if (k == std::lround(kProbeAtS / kStepS)) {
      // The start-up probe measures what the link delivers of a burst at kProbeBps.
      for (auto& c : conns) c->gcc().probe_result(std::min(kProbeBps, step.capacity_bps));
    }
    for (auto& c : conns) {
      c->step(t, kStepS, [&](const Packet& p) {
        r.packets_sent += 1;
        r.sent_bits[p.connection][bin] += p.bytes * 8.0;
        if (link.enqueue(p, step.capacity_bps)) return true;
        r.queue_drops += 1;
        return false;
      });
    }
    link.serve(t, kStepS, step.capacity_bps, step.loss, [&](const Packet& p, double departure, bool lost) {
      conns[p.connection]->on_departure(p, departure, lost);
      if (lost) {
        r.random_losses += 1;
        return;
      }
      r.delivered_bits[p.connection][bin] += p.bytes * 8.0;
      r.queue_delay_ms.push_back((departure - p.sent_s) * 1000);
    });
    if ((k + 1) % feedback_every == 0) {
      for (auto& c : conns) c->feedback(t + kStepS);
    }
    for (int i = 0; i < n; ++i) {
      r.estimate_bps[i][bin] = conns[i]->gcc().estimate_bps();
      if (!conns[i]->video_active()) r.video_off[i][bin] = 1;
      r.max_video_bps[i][bin] = conns[i]->video().max_bitrate_bps;
    }
    if (core && (k + 1) % stats_every == 0) {
      chorus::Json sample = {{"type", "stats-sample"}, {"connections", chorus::Json::array()}};
      for (auto& c : conns) sample["connections"].push_back(c->stats_json());
      const double now_ms = (t + kStepS) * 1000;
      core->handle(sample, now_ms);
      while (auto out = core->poll()) {
        if (chorus::get_string(*out, "event").value_or("") == "warning") {
          if (r.warnings++ < 3) r.action_log.push_back("warning at " + std::to_string(now_ms) + ": " + chorus::dump_json(*out));
        }
        if (chorus::get_string(*out, "action").value_or("") != "set-sender-parameters") continue;
        r.actions += 1;
        auto id = chorus::get_string(*out, "connection").value_or("");
        for (auto& c : conns) {
          if (c->id() == id) c->apply(*out);
        }
      }
      r.budget_bps.push_back(core->uplink_budget_bps());
    }
  }
  return r;
}

}  // namespace abrsim
