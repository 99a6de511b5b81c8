// wasm/stats: reading a getStats() sample (bad values are left out and described), counter
// differences (resets start over), and the quality scores.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "stats/counters.hpp"
#include "stats/quality.hpp"
#include "stats/sample.hpp"

using chorus::Json;
using namespace chorus::stats;

TEST_CASE("a stats sample keeps good values and describes bad ones", "[stats]") {
  Json in = {{"type", "stats-sample"},
             {"connections",
              {{{"id", "p2"},
                {"path", "mesh"},
                {"pair", {{"availableOutgoingBitrate", 1.5e6}, {"currentRoundTripTime", -0.1}}},
                {"outbound",
                 {{{"mid", "1"}, {"kind", "video"}, {"bytesSent", 1000}, {"packetsSent", "many"},
                   {"frameHeight", std::numeric_limits<double>::quiet_NaN()}},
                  {{"mid", "2"}, {"kind", "screen"}}}},
                {"inbound", "nope"}},
               "not a connection",
               {{"id", "x"}, {"path", "satellite"}}}}};
  std::vector<std::string> problems;
  const StatsSample s = read_stats_sample(in, problems);
  REQUIRE(s.connections.size() == 1);
  const ConnectionSample& c = s.connections[0];
  CHECK(c.pair.available_outgoing_bitrate == 1.5e6);
  CHECK_FALSE(c.pair.current_round_trip_time);  // negative
  REQUIRE(c.outbound.size() == 1);              // the row of kind "screen" is dropped
  CHECK(c.outbound[0].bytes_sent == 1000);
  CHECK_FALSE(c.outbound[0].packets_sent);      // a string
  CHECK_FALSE(c.outbound[0].frame_height);      // NaN
  CHECK(c.inbound.empty());
  // currentRoundTripTime, packetsSent, frameHeight, kind, inbound, a non-object, a bad path.
  CHECK(problems.size() == 7);

  // packetsLost is signed in webrtc-stats (duplicates): a negative one reads as 0, quietly.
  problems.clear();
  Json dup = {{"connections", {{{"id", "p2"}, {"path", "mesh"},
                                {"remoteInbound", {{{"mid", "1"}, {"kind", "video"}, {"packetsLost", -3}}}}}}}};
  CHECK(read_stats_sample(dup, problems).connections[0].remote_inbound[0].packets_lost == 0);
  CHECK(problems.empty());
}

TEST_CASE("a stats sample is bounded", "[stats]") {
  Json conns = Json::array();
  for (int i = 0; i < 100; ++i) conns.push_back({{"id", "p" + std::to_string(i)}, {"path", "mesh"}});
  std::vector<std::string> problems;
  CHECK(read_stats_sample({{"connections", conns}}, problems).connections.size() == kMaxConnections);
  CHECK(problems.size() == 1);
  problems.clear();
  CHECK(read_stats_sample({{"type", "stats-sample"}}, problems).connections.empty());
  CHECK(problems.size() == 1);
}

TEST_CASE("counter differences; a counter going backwards starts over", "[stats]") {
  Counters c;
  std::vector<std::string> problems;
  CHECK_FALSE(c.delta("a", 100.0, problems));   // first value
  c.end_sample();
  CHECK(c.delta("a", 250.0, problems) == 150);
  c.end_sample();
  CHECK_FALSE(c.delta("a", std::nullopt, problems));  // missing: the history is kept
  c.end_sample();
  CHECK(c.delta("a", 300.0, problems) == 50);
  CHECK(problems.empty());
  CHECK_FALSE(c.delta("a", 10.0, problems));    // reset
  CHECK(problems.size() == 1);
  CHECK(c.delta("a", 30.0, problems) == 20);
  CHECK(c.delta("lost", 5.0, problems, true) == std::nullopt);
  CHECK(c.delta("lost", 4.0, problems, true) == 0.0);  // packetsLost may go down
  CHECK(problems.size() == 1);
  for (int i = 0; i < 6; ++i) c.end_sample();
  CHECK(c.size() == 0);  // forgotten
}

TEST_CASE("E-model MOS falls with loss and delay", "[stats][quality]") {
  const double clean = e_model_mos(one_way_delay_ms(40, 2), 0);
  CHECK(clean > 4.3);
  CHECK(clean <= 4.5);
  const double lossy = e_model_mos(one_way_delay_ms(40, 2), 0.05);
  const double very_lossy = e_model_mos(one_way_delay_ms(40, 2), 0.2);
  CHECK(lossy < clean);
  CHECK(lossy > 3.3);
  CHECK(very_lossy < 2.6);
  CHECK(e_model_mos(400, 0) < e_model_mos(100, 0));
  CHECK(e_model_mos(400, 0) < 4.0);
  CHECK(e_model_mos(0, 1) >= 1);
  CHECK(mos_from_r(-5) == 1);
  CHECK(mos_from_r(150) == 4.5);
}

TEST_CASE("video score follows size, frame rate and freezes", "[stats][quality]") {
  const double hd = video_score(720, 30, 0);
  CHECK(hd > 4.2);
  CHECK(video_score(1080, 30, 0) == Approx(5));
  CHECK(video_score(360, 30, 0) < hd);
  CHECK(video_score(180, 10, 0) < 2);
  CHECK(video_score(720, 30, 0.5) == Approx(hd / 2));
  CHECK(video_score(720, 0, 0) == 0);
  CHECK(video_score(std::numeric_limits<double>::quiet_NaN(), 30, 0) == 0);
}
