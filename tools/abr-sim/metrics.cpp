#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace abrsim {

namespace {

constexpr double kOutageSkipS = 2.0;

std::size_t bin_of(double t_s) { return static_cast<std::size_t>(std::lround(t_s / RunResult::kBinS)); }

// First bin at or after `from_s` (before `to_s`) whose 1-s send rate satisfies `ok`.
template <typename F>
std::optional<double> first_time(const RunResult& run, double from_s, double to_s, bool delivered, F ok) {
  for (std::size_t b = bin_of(from_s); b < bin_of(to_s) && b < run.capacity_bps.size(); ++b) {
    if (ok(delivered ? run.delivered_rate_1s(b) : run.send_rate_1s(b))) return (b + 1) * RunResult::kBinS - from_s;
  }
  return std::nullopt;
}

}  // namespace

Metrics measure(const Scenario& scenario, const RunResult& run) {
  Metrics m;
  const int n = scenario.connections;
  double delivered = 0, capacity = 0;
  m.shares.assign(n, 0);
  for (const Window& w : scenario.steady_windows()) {
    for (std::size_t b = bin_of(w.from_s); b < bin_of(w.to_s) && b < run.capacity_bps.size(); ++b) {
      capacity += run.capacity_bps[b] * RunResult::kBinS;
      for (int i = 0; i < n; ++i) {
        delivered += run.delivered_bits[i][b];
        m.shares[i] += run.delivered_bits[i][b];
      }
    }
  }
  m.utilization = capacity > 0 ? delivered / capacity : 0;
  double sum = 0, sq = 0;
  for (double& s : m.shares) {
    s = delivered > 0 ? s / delivered : 0;
    sum += s;
    sq += s * s;
  }
  m.jain = sq > 0 ? sum * sum / (n * sq) : 1;

  if (run.packets_sent > 0) {
    m.loss_percent = 100 * (run.queue_drops + run.random_losses) / run.packets_sent;
    m.tail_drop_percent = 100 * run.queue_drops / run.packets_sent;
  }

  const auto& steps = scenario.trace.steps;
  for (std::size_t i = 1; i < steps.size(); ++i) {
    const double at = steps[i].start_s;
    const double end = i + 1 < steps.size() ? steps[i + 1].start_s : scenario.trace.duration_s;
    const double cap = steps[i].capacity_bps, before = steps[i - 1].capacity_bps;
    if (cap < before && cap > 0) {
      m.drops.push_back({at, first_time(run, at, end, false, [&](double rate) { return rate < cap; }), end - at});
    } else if (cap > before) {
      // After an outage the link first drains what queued up and what the senders still send
      // at their old rate: the first 2 s do not count as recovered.
      const double skip = before <= 0 ? kOutageSkipS : 0;
      auto t = first_time(run, at + skip, end, true, [&](double rate) { return rate >= 0.9 * cap; });
      if (t) *t += skip;
      m.recoveries.push_back({at, t, end - at});
    }
  }

  for (const auto& conn : run.video_off) {
    for (char off : conn) m.video_off_s += off ? RunResult::kBinS : 0;
  }
  if (!run.queue_delay_ms.empty()) {
    std::vector<double> q = run.queue_delay_ms;
    const std::size_t k = static_cast<std::size_t>(0.95 * (q.size() - 1));
    std::nth_element(q.begin(), q.begin() + k, q.end());
    m.queue_p95_ms = q[k];
  }
  return m;
}

std::string describe(const std::vector<Adaptation>& events) {
  if (events.empty()) return "-";
  std::string out;
  char buf[48];
  for (const Adaptation& e : events) {
    if (e.after_s) std::snprintf(buf, sizeof buf, "%.1f s", *e.after_s);
    else std::snprintf(buf, sizeof buf, "> %.0f s", e.limit_s);
    out += (out.empty() ? "" : ", ") + std::string(buf);
  }
  return out;
}

}  // namespace abrsim
