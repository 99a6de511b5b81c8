// Runs one scenario in one mode: the browser's congestion control alone (baseline: every video
// sender capped at 2.5 Mbit/s, always on) or with chorus's AbrCore deciding the senders'
// parameters from a `stats-sample` every second of simulated time. Step: 5 ms; feedback every
// 100 ms; results binned per 100 ms.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenario.hpp"

namespace abrsim {

enum class Mode { Baseline, Chorus };

struct RunResult {
  static constexpr double kBinS = 0.1;
  Mode mode;
  std::vector<double> capacity_bps;                 // per bin
  std::vector<std::vector<double>> sent_bits;       // [connection][bin]: onto the bottleneck
  std::vector<std::vector<double>> delivered_bits;  // [connection][bin]: arrived at the far end
  std::vector<std::vector<double>> estimate_bps;    // [connection][bin]: GCC's estimate
  std::vector<std::vector<char>> video_off;         // [connection][bin]
  std::vector<std::vector<double>> max_video_bps;   // [connection][bin]: the video maxBitrate
  std::vector<double> budget_bps;                   // AbrCore's uplink budget per second (chorus)
  std::vector<double> queue_delay_ms;               // per delivered packet
  double packets_sent = 0, queue_drops = 0, random_losses = 0;
  int warnings = 0, actions = 0;
  std::vector<std::string> action_log;              // the first actions, for the report

  // All connections, trailing 1 s window: onto the bottleneck, or arrived at the far end.
  double send_rate_1s(std::size_t bin) const { return rate_1s(sent_bits, bin); }
  double delivered_rate_1s(std::size_t bin) const { return rate_1s(delivered_bits, bin); }
  static double rate_1s(const std::vector<std::vector<double>>& bits, std::size_t bin);
};

RunResult run(const Scenario& scenario, Mode mode, std::uint64_t seed);

}  // namespace abrsim
