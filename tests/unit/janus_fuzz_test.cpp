// The Janus machines under garbage: the libFuzzer entry (wasm/janus/fuzz_entry.hpp) over seed
// scripts of whole flows and thousands of deterministic mutations of them (byte flips, cuts,
// splices, numbers and types swapped). Any crash, sanitizer report or abort is a failure.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "common/random.hpp"
#include "janus/fuzz_entry.hpp"

using chorus::janus::fuzz_input;
using chorus::janus::fuzz_one_input;

namespace {

int run(const std::string& input) {
  return fuzz_one_input(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

const std::string kS = "\"session_id\":4000000001";

std::string success(int tx, const std::string& data) {
  return "{\"janus\":\"success\"," + kS + ",\"transaction\":\"$T" + std::to_string(tx) + "\",\"data\":" + data + "}";
}
std::string event(int tx, int sender, const std::string& plugin, const std::string& data, const std::string& jsep = "") {
  std::string m = "{\"janus\":\"event\"," + kS + ",\"sender\":" + std::to_string(sender);
  if (tx >= 0) m += ",\"transaction\":\"$T" + std::to_string(tx) + "\"";
  m += ",\"plugindata\":{\"plugin\":\"janus.plugin." + plugin + "\",\"data\":" + data + "}";
  if (!jsep.empty()) m += ",\"jsep\":" + jsep;
  return m + "}";
}
std::string ack(int tx) { return "{\"janus\":\"ack\"," + kS + ",\"transaction\":\"$T" + std::to_string(tx) + "\"}"; }
std::string glue(const std::string& type, const std::string& pc, const std::string& rest = "") {
  return "!{\"type\":\"" + type + "\",\"pc\":\"" + pc + "\"" + rest + "}";
}

// Requests in the order the session sends them: 0 create, 1-3 attach (publisher, subscriber,
// audiobridge), 4 publisher join, 5 audiobridge join, 6 subscriber join, 7 publisher
// configure, 8 audiobridge configure, 9 subscriber start, 10 its trickle, 11 subscribe ...
std::vector<std::string> seed_flow() {
  const std::string pubs = "[{\"id\":601,\"display\":\"bob\",\"streams\":[{\"type\":\"audio\",\"mid\":\"0\"},{\"type\":\"video\",\"mid\":\"1\",\"simulcast\":true}]}]";
  const std::string sub_streams = "[{\"type\":\"video\",\"active\":true,\"mindex\":0,\"mid\":\"0\",\"feed_id\":601,\"feed_mid\":\"1\"}]";
  return {
      success(0, "{\"id\":4000000001}"),
      success(1, "{\"id\":10}"),
      success(2, "{\"id\":11}"),
      success(3, "{\"id\":12}"),
      ack(4),
      event(4, 10, "videoroom", "{\"videoroom\":\"joined\",\"room\":1234,\"id\":501,\"private_id\":7,\"publishers\":" + pubs + "}"),
      event(5, 12, "audiobridge", "{\"audiobridge\":\"joined\",\"room\":99,\"id\":9,\"participants\":[{\"id\":8,\"muted\":false}]}"),
      glue("local-description-set", "publisher", ",\"description\":{\"type\":\"offer\",\"sdp\":\"v=0\"}"),
      glue("local-description-set", "audiobridge", ",\"description\":{\"type\":\"offer\",\"sdp\":\"v=0\"}"),
      event(6, 11, "videoroom", "{\"videoroom\":\"attached\",\"room\":1234,\"streams\":" + sub_streams + "}", "{\"type\":\"offer\",\"sdp\":\"v=0\"}"),
      glue("remote-description-set", "subscriber"),
      glue("local-description-set", "subscriber", ",\"description\":{\"type\":\"answer\",\"sdp\":\"v=0\"}"),
      glue("icecandidate", "subscriber", ",\"candidate\":{\"candidate\":\"candidate:1 1 udp 1 1.2.3.4 5 typ host\",\"sdpMid\":\"0\"}"),
      ack(10),
      event(7, 10, "videoroom", "{\"videoroom\":\"event\",\"configured\":\"ok\"}", "{\"type\":\"answer\",\"sdp\":\"v=0\"}"),
      event(8, 12, "audiobridge", "{\"audiobridge\":\"event\",\"result\":\"ok\"}", "{\"type\":\"answer\",\"sdp\":\"v=0\"}"),
      glue("remote-description-set", "publisher"),
      glue("remote-description-set", "audiobridge"),
      event(9, 11, "videoroom", "{\"videoroom\":\"event\",\"started\":\"ok\"}"),
      "{\"janus\":\"webrtcup\"," + kS + ",\"sender\":11}",
      event(-1, 10, "videoroom", "{\"videoroom\":\"event\",\"publishers\":[{\"id\":602,\"streams\":[{\"type\":\"video\",\"mid\":\"1\"}]}]}"),
      event(-1, 10, "videoroom", "{\"videoroom\":\"event\",\"unpublished\":601}"),
      event(-1, 11, "videoroom", "{\"videoroom\":\"updated\",\"streams\":" + sub_streams + "}", "{\"type\":\"offer\",\"sdp\":\"v=1\"}"),
      event(11, 11, "videoroom", "{\"videoroom\":\"event\",\"error_code\":428,\"error\":\"No such feed (602)\"}"),
      event(-1, 11, "videoroom", "{\"videoroom\":\"event\",\"mid\":\"0\",\"substream\":2}"),
      event(-1, 12, "audiobridge", "{\"audiobridge\":\"talking\",\"id\":8}"),
      "{\"janus\":\"hangup\"," + kS + ",\"sender\":11,\"reason\":\"ICE failed\"}",
      "{\"janus\":\"trickle\"," + kS + ",\"sender\":12,\"candidate\":{\"completed\":true}}",
      "{\"janus\":\"timeout\"," + kS + "}",
  };
}

}  // namespace

TEST_CASE("fuzz entry: seed flows and their mutations never crash or grow", "[janus]") {
  const auto frames = seed_flow();
  // The seed really walks the flows (so mutations start from deep states).
  std::vector<std::string> states, errors;
  const std::string seed = fuzz_input(frames);
  fuzz_one_input(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size(), [&](const chorus::Json& o) {
    if (o.value("event", "") == "janus-handle") states.push_back(o["pc"].get<std::string>() + ":" + o["state"].get<std::string>());
    if (o.value("event", "") == "janus-error") errors.push_back(o.value("message", ""));
  });
  auto has = [&](const std::string& s) { return std::find(states.begin(), states.end(), s) != states.end(); };
  CHECK(has("publisher:published"));
  CHECK(has("subscriber:active"));
  CHECK(has("audiobridge:connected"));
  CHECK(has("subscriber:attaching"));  // the hangup restarted it
  CHECK(states.back().find(":lost") != std::string::npos);  // Janus's timeout ends it
  INFO(errors.size() << " errors, first: " << (errors.empty() ? "" : errors[0]) << " / " << (errors.size() > 1 ? errors[1] : "") << " / " << (errors.size() > 2 ? errors[2] : "") << " / " << (errors.size() > 3 ? errors[3] : ""));
  CHECK(errors.size() == 3);  // 428 for 602, the restart after the hangup, the session timeout
  CHECK(run(seed) == 0);
  CHECK(run("") == 0);
  CHECK(run(std::string(5000, '\x1e')) == 0);
  CHECK(run(std::string(20000, '[')) == 0);

  chorus::Random random(20240611);
  const std::vector<std::string> tokens = {"null", "true", "-1", "0", "1e308", "\"\"", "[]", "{}", "\"x\"",
                                           "18446744073709551615", "9007199254740993", "\"$T3\"", "{\"a\":[[[]]]}"};
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::string> f = frames;
    const int edits = 1 + static_cast<int>(random.next_u32() % 6);
    for (int e = 0; e < edits; ++e) {
      std::string& s = f[random.next_u32() % f.size()];
      const std::size_t pos = s.empty() ? 0 : random.next_u32() % s.size();
      switch (random.next_u32() % 7) {
        case 0:  // flip a byte
          if (!s.empty()) s[pos] = static_cast<char>(random.next_u32() & 0xff);
          break;
        case 1:  // cut the rest
          s.resize(pos);
          break;
        case 2:  // a value becomes something else
          if (auto colon = s.find(':', pos); colon != std::string::npos) {
            auto end = s.find_first_of(",}", colon);
            if (end != std::string::npos) s.replace(colon + 1, end - colon - 1, tokens[random.next_u32() % tokens.size()]);
          }
          break;
        case 3:  // duplicate a frame elsewhere
          f.insert(f.begin() + random.next_u32() % f.size(), f[random.next_u32() % f.size()]);
          break;
        case 4:  // drop a frame
          if (f.size() > 1) f.erase(f.begin() + random.next_u32() % f.size());
          break;
        case 5:  // swap two frames
          std::swap(f[random.next_u32() % f.size()], f[random.next_u32() % f.size()]);
          break;
        default:  // insert a token
          s.insert(pos, tokens[random.next_u32() % tokens.size()]);
          break;
      }
    }
    REQUIRE(run(fuzz_input(f)) == 0);
  }
}
