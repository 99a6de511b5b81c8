// abr_sim: trace-driven simulation of chorus's AbrCore against the browser's congestion
// control alone (a modelled GCC), side by side in one run. Prints a markdown report; with
// --svg-dir writes one chart per scenario (abr-sim-<scenario>.svg).
//
//   abr_sim [--seed N] [--seeds K] [--svg-dir DIR] [--only SCENARIO] [--dump SCENARIO]
//
// Each scenario runs with K seeds (default 5, from N, default 1): cells give the median and,
// in brackets, the range over the seeds; the charts are the first seed's run.
// --dump prints that scenario's per-second trace (capacity, send rates, estimates, budget).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "metrics.hpp"
#include "scenario.hpp"
#include "sim.hpp"
#include "svg.hpp"

using namespace abrsim;

namespace {

std::string pct(double v, int digits = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f%%", digits, v);
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void dump(const Scenario& s, const RunResult& chorus, const RunResult& base) {
  std::printf("t_s cap_kbps | chorus: sent est(conns) budget video/maxBitrate | baseline: sent est(conns)\n");
  const std::size_t per_s = 10;
  for (std::size_t b = per_s - 1; b < chorus.capacity_bps.size(); b += per_s) {
    std::printf("%4.0f %5.0f | %5.0f", (b + 1) * RunResult::kBinS, chorus.capacity_bps[b] / 1000,
                chorus.send_rate_1s(b) / 1000);
    for (const auto& e : chorus.estimate_bps) std::printf(" %5.0f", e[b] / 1000);
    const std::size_t sec = b / per_s;
    std::printf(" %5.0f", sec < chorus.budget_bps.size() ? chorus.budget_bps[sec] / 1000 : 0.0);
    for (std::size_t i = 0; i < chorus.video_off.size(); ++i) {
      std::printf(" %s/%.0f", chorus.video_off[i][b] ? "off" : "on", chorus.max_video_bps[i][b] / 1000);
    }
    std::printf(" | %5.0f", base.send_rate_1s(b) / 1000);
    for (const auto& e : base.estimate_bps) std::printf(" %5.0f", e[b] / 1000);
    std::printf("\n");
  }
  for (const auto& line : chorus.action_log) std::printf("%s\n", line.c_str());
  (void)s;
}

// Median and range over the seeds.
struct Spread {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  double median() const {
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    return s.empty() ? 0 : s[s.size() / 2];
  }
  double min() const { return *std::min_element(v.begin(), v.end()); }
  double max() const { return *std::max_element(v.begin(), v.end()); }
};

std::string seconds(double s) { return std::isinf(s) ? "never" : fixed(s, 1) + " s"; }

// One adaptation event over the seeds: "1.7 s (1.5-1.9)"; "never" when not reached before the
// next change.
std::string event_cell(const Spread& e) {
  if (e.v.size() == 1) return seconds(e.median());
  if (e.min() == e.max()) return seconds(e.median());
  return seconds(e.median()) + " (" + (std::isinf(e.min()) ? "never" : fixed(e.min(), 1)) + "–" +
         (std::isinf(e.max()) ? "never" : fixed(e.max(), 1)) + ")";
}

std::string range_cell(const Spread& x, int digits, const char* unit) {
  std::string out = fixed(x.median(), digits) + unit;
  if (x.v.size() > 1 && x.min() != x.max()) out += " (" + fixed(x.min(), digits) + "–" + fixed(x.max(), digits) + ")";
  return out;
}

std::vector<Spread> events(const std::vector<Metrics>& runs, bool drops) {
  std::vector<Spread> out;
  for (const Metrics& m : runs) {
    const auto& list = drops ? m.drops : m.recoveries;
    out.resize(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) out[i].add(list[i].after_s.value_or(INFINITY));
  }
  return out;
}

std::string events_cell(const std::vector<Spread>& ev) {
  if (ev.empty()) return "-";
  std::string out;
  for (const Spread& e : ev) out += (out.empty() ? "" : "; ") + event_cell(e);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t first_seed = 1;
  int seeds = 5;
  std::string svg_dir, only, dump_key;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seed") first_seed = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--seeds") seeds = std::max(1, std::atoi(value().c_str()));
    else if (a == "--svg-dir") svg_dir = value();
    else if (a == "--only") only = value();
    else if (a == "--dump") dump_key = value();
    else {
      std::fprintf(stderr, "usage: abr_sim [--seed N] [--seeds K] [--svg-dir DIR] [--only SCENARIO] [--dump SCENARIO]\n");
      return 2;
    }
  }

  std::vector<std::string> rows, fairness, checks;
  for (const Scenario& s : all_scenarios()) {
    if (!only.empty() && s.key != only) continue;
    if (!dump_key.empty() && s.key != dump_key) continue;
    std::vector<Metrics> runs[2];
    Spread actions;
    int warnings = 0;
    for (int k = 0; k < seeds; ++k) {
      const std::uint64_t seed = first_seed + k;
      const RunResult chorus = run(s, Mode::Chorus, seed);
      const RunResult base = run(s, Mode::Baseline, seed);
      if (k == 0 && s.key == dump_key) dump(s, chorus, base);
      if (k == 0 && !svg_dir.empty()) {
        std::ofstream(svg_dir + "/abr-sim-" + s.key + ".svg") << chart_svg(s, chorus, base);
      }
      runs[0].push_back(measure(s, chorus));
      runs[1].push_back(measure(s, base));
      actions.add(chorus.actions);
      warnings += chorus.warnings;
    }
    for (int m = 0; m < 2; ++m) {
      Spread util, loss, tail, off, queue, jain;
      std::vector<double> shares(s.connections, 0);
      for (const Metrics& x : runs[m]) {
        util.add(100 * x.utilization);
        loss.add(x.loss_percent);
        tail.add(x.tail_drop_percent);
        off.add(x.video_off_s);
        queue.add(x.queue_p95_ms);
        jain.add(x.jain);
        for (int i = 0; i < s.connections; ++i) shares[i] += x.shares[i] / seeds;
      }
      std::string loss_cell = range_cell(loss, 1, "%");
      if (loss.median() - tail.median() > 0.05) loss_cell += ", tail drops " + fixed(tail.median(), 1) + "%";
      rows.push_back("| " + s.key + " | " + (m == 0 ? "chorus" : "browser alone") + " | " + range_cell(util, 1, "%") +
                     " | " + loss_cell + " | " + events_cell(events(runs[m], true)) + " | " +
                     events_cell(events(runs[m], false)) + " | " + range_cell(off, 0, "") + " | " +
                     fixed(queue.median(), 0) + " |" + (m == 0 ? " " + fixed(actions.median(), 0) + " |" : " - |"));
      if (s.connections > 1) {
        std::string cell;
        for (double x : shares) cell += (cell.empty() ? "" : " / ") + pct(100 * x, 0);
        fairness.push_back("| " + s.key + " | " + (m == 0 ? "chorus" : "browser alone") + " | " + cell + " | " +
                           range_cell(jain, 3, "") + " |");
      }
    }
    // The targets, for chorus: per event, in how many seeds.
    const auto count = [&](const Spread& e, double limit) {
      int n = 0;
      for (double x : e.v) n += x <= limit ? 1 : 0;
      return n;
    };
    const auto drops = events(runs[0], true), rises = events(runs[0], false);
    for (std::size_t i = 0; i < drops.size(); ++i) {
      const int met = count(drops[i], 2);
      checks.push_back("- " + s.key + ", drop at " + fixed(runs[0][0].drops[i].at_s, 0) + " s: send rate below capacity after " +
                       event_cell(drops[i]) + " (target 2 s): met in " + std::to_string(met) + " of " + std::to_string(seeds) + " runs");
    }
    for (std::size_t i = 0; i < rises.size(); ++i) {
      const int met = count(rises[i], 10);
      checks.push_back("- " + s.key + ", rise at " + fixed(runs[0][0].recoveries[i].at_s, 0) + " s: 90% of capacity delivered after " +
                       event_cell(rises[i]) + " (target 10 s): met in " + std::to_string(met) + " of " + std::to_string(seeds) + " runs");
    }
    if (s.key == "steady") {
      int met = 0;
      for (const Metrics& x : runs[0]) met += x.utilization >= 0.85 && x.loss_percent < 3 ? 1 : 0;
      checks.push_back("- steady: utilization >= 85% with loss < 3%: met in " + std::to_string(met) + " of " + std::to_string(seeds) + " runs");
    }
    if (warnings > 0) checks.push_back("- " + s.key + ": AbrCore gave " + std::to_string(warnings) + " warning(s)");
  }

  std::printf("| scenario | mode | utilization (steady windows) | loss | drop → send < capacity | rise → 90%% of capacity delivered | video off (s) | queue delay p95 (ms) | setParameters calls |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows) std::printf("%s\n", r.c_str());
  if (!fairness.empty()) {
    std::printf("\n| scenario | mode | each connection's share of what was delivered (steady windows, mean) | Jain's index |\n|---|---|---|---|\n");
    for (const auto& r : fairness) std::printf("%s\n", r.c_str());
  }
  std::printf("\nTargets (chorus):\n\n");
  for (const auto& c : checks) std::printf("%s\n", c.c_str());
  return 0;
}
