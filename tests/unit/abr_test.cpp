// AbrCore (wasm/abr/abr_core.hpp) against a small modelled network: senders whose encoders
// follow the maxBitrate the core sets, on a shared uplink of a given capacity that drops what
// exceeds it and reports it back as remote-inbound loss and a longer RTT.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <limits>

#include "abr/abr_core.hpp"
#include "abr/allocation.hpp"
#include "abr/simulcast.hpp"
#include "abr/uplink_budget.hpp"
#include "abr/video_encoding.hpp"

using chorus::Json;
using namespace chorus::abr;

namespace {

constexpr double kAudioBps = 40'000;

// One connection as its getStats() would describe it: cumulative counters.
struct Conn {
  std::string id;
  std::string path = "mesh";
  bool video = true;
  std::vector<std::string> rids{""};        // simulcast: h, m, l
  std::map<std::string, double> max_bitrate;  // per rid, as setParameters left it
  std::map<std::string, bool> active;
  double available = 3e6;                     // the browser's estimate
  double audio_bytes = 0, audio_packets = 0, video_bytes = 0, video_packets = 0;
  double lost = 0, video_lost = 0;  // audio's, video's (each mid's remote-inbound-rtp)
  double own_loss = 0;              // this peer's own path loses this share on top
  double video_rate = 0;                       // what the encoder sent in the last interval
  double rtt = 0.04;
  // subscribe side: video received from `from`
  std::string from;
  double in_height = 720, in_bytes = 0, in_packets = 0, in_lost = 0, freezes = 0;
};

double rid_rate(const Conn& c, const std::string& rid) {
  if (c.active.count(rid) && !c.active.at(rid)) return 0;
  const double cap = c.max_bitrate.count(rid) ? c.max_bitrate.at(rid) : 2.5e6;
  return std::min(cap, c.available);
}

// The uplink's queue (bits) between steps, as tbf's: up to 300 ms of the rate, then drops.
double g_queue = 0;

// Advances the world one second on an uplink of `capacity` bps shared by `conns`.
void step(std::vector<Conn>& conns, double capacity) {
  double offered = 0;
  for (Conn& c : conns) {
    if (c.path == "subscribe") continue;
    c.video_rate = 0;
    if (c.video) for (const auto& rid : c.rids) c.video_rate += rid_rate(c, rid);
    offered += c.video_rate + kAudioBps;
  }
  const double limit = 0.3 * capacity;
  double queue = std::max(0.0, g_queue + offered - capacity);
  const double dropped = std::max(0.0, queue - limit);
  queue -= dropped;
  g_queue = queue;
  const double loss = offered > 0 ? dropped / offered : 0;
  for (Conn& c : conns) {
    if (c.path == "subscribe") continue;
    c.audio_bytes += kAudioBps / 8;
    c.audio_packets += 50;
    c.video_bytes += c.video_rate / 8;
    const double vp = c.video_rate / 8 / 1100;
    c.video_packets += vp;
    c.lost += std::round(50 * (loss + c.own_loss));
    c.video_lost += std::round(vp * (loss + c.own_loss));
    c.rtt = 0.04 + (capacity > 0 ? queue / capacity : 0);
  }
}

Json sample(const std::vector<Conn>& conns) {
  Json list = Json::array();
  for (const Conn& c : conns) {
    Json conn = {{"id", c.id}, {"path", c.path}, {"pair", {{"availableOutgoingBitrate", c.available}, {"currentRoundTripTime", c.rtt}}}};
    Json out = Json::array(), rin = Json::array(), in = Json::array();
    if (c.path == "subscribe") {
      in.push_back({{"peer", c.from}, {"mid", "0"}, {"kind", "video"}, {"bytesReceived", c.in_bytes},
                    {"packetsReceived", c.in_packets}, {"packetsLost", c.in_lost}, {"jitter", 0.004},
                    {"frameHeight", c.in_height}, {"frameWidth", c.in_height * 16 / 9}, {"framesPerSecond", 30},
                    {"freezeCount", c.freezes}, {"totalFreezesDuration", 0}});
    } else {
      out.push_back({{"mid", "0"}, {"kind", "audio"}, {"bytesSent", c.audio_bytes}, {"packetsSent", c.audio_packets}});
      const double share = c.video ? 1.0 / static_cast<double>(c.rids.size()) : 0;
      for (const auto& rid : c.rids) {
        Json o = {{"mid", "1"}, {"kind", "video"}, {"bytesSent", c.video_bytes * share}, {"packetsSent", std::round(c.video_packets * share)},
                  {"sourceWidth", 1280}, {"sourceHeight", 720}, {"sourceFramesPerSecond", 30}};
        if (!rid.empty()) o["rid"] = rid;
        if (c.video) out.push_back(o);
        Json r = {{"mid", "1"}, {"kind", "video"}, {"packetsLost", std::round(c.video_lost * share)}, {"jitter", 0.003}, {"roundTripTime", c.rtt}};
        if (!rid.empty()) r["rid"] = rid;
        if (c.video) rin.push_back(r);
      }
      rin.push_back({{"mid", "0"}, {"kind", "audio"}, {"packetsLost", c.lost}, {"jitter", 0.003}, {"roundTripTime", c.rtt}});
    }
    conn["outbound"] = out;
    conn["remoteInbound"] = rin;
    conn["inbound"] = in;
    list.push_back(conn);
  }
  return {{"type", "stats-sample"}, {"connections", list}};
}

struct World {
  AbrCore core;
  std::vector<Conn> conns;
  double now = 0;
  std::vector<Json> actions, events;

  explicit World(AbrConfig config = {}) : core(config) { g_queue = 0; }

  // One second: the network moves, a sample goes in, the actions are carried out.
  void tick(double capacity) {
    step(conns, capacity);
    now += 1000;
    core.handle(sample(conns), now);
    drain();
    if (getenv("ABR_DEBUG")) {
      fprintf(stderr, "t=%.0f cap=%.0f budget=%.0f", now / 1000, capacity, core.uplink_budget_bps());
      for (auto& c : conns) fprintf(stderr, " %s:%.0f/%d", c.id.c_str(), c.max_bitrate.count("") ? c.max_bitrate[""] : -1, c.active.count("") ? (int)c.active[""] : -1);
      fprintf(stderr, "\n");
    }
  }
  void drain() {
    while (auto out = core.poll()) {
      if (out->contains("action")) {
        actions.push_back(*out);
        if ((*out)["action"] == "set-sender-parameters") apply(*out);
      } else {
        events.push_back(*out);
      }
    }
  }
  void apply(const Json& a) {
    for (Conn& c : conns) {
      if (c.id != a["connection"]) continue;
      for (const Json& e : a["encodings"]) {
        const std::string rid = e.value("rid", "");
        c.active[rid] = e["active"].get<bool>();
        if (e.contains("maxBitrate")) c.max_bitrate[rid] = e["maxBitrate"].get<double>();
      }
    }
  }
  double video_cap(const std::string& id) {
    for (Conn& c : conns) {
      if (c.id == id) return c.max_bitrate.count("") ? c.max_bitrate[""] : 2.5e6;
    }
    return 0;
  }
  bool video_active(const std::string& id) {
    for (Conn& c : conns) {
      if (c.id == id) return !c.active.count("") || c.active[""];
    }
    return false;
  }
  std::vector<Json> named(const std::string& key, const std::string& name) const {
    std::vector<Json> r;
    for (const auto& x : key == "action" ? actions : events) {
      if (x.value(key, "") == name) r.push_back(x);
    }
    return r;
  }
};

Conn mesh_conn(std::string id, double available) {
  Conn c;
  c.id = std::move(id);
  c.available = available;
  return c;
}

}  // namespace

TEST_CASE("a single connection backs off below a capacity drop within two samples", "[abr]") {
  World w;
  w.conns = {mesh_conn("p2", 3e6)};
  for (int i = 0; i < 8; ++i) w.tick(3e6);
  CHECK(w.video_cap("p2") > 2e6);
  // The link drops to 500 kbit/s; the browser's estimate follows a sample later. One sample
  // never cuts more than half (an outage looks the same at first), the next goes below.
  w.tick(500e3);
  CHECK(w.video_cap("p2") < 2e6);
  w.conns[0].available = 450e3;
  w.tick(500e3);
  CHECK(w.video_cap("p2") + kAudioBps < 500e3);
  CHECK(w.video_active("p2"));
  // It settles near the capacity, not far below it.
  w.conns[0].available = 520e3;
  for (int i = 0; i < 10; ++i) w.tick(500e3);
  CHECK(w.video_cap("p2") + kAudioBps > 0.6 * 500e3);
  CHECK(w.video_cap("p2") + kAudioBps <= 500e3);
}

TEST_CASE("after a recovery the budget reaches 90 % of the capacity within 10 samples", "[abr]") {
  AbrConfig config;
  config.max_video_bps = 4e6;  // the 3 Mbit/s link, not the video's cap, is the limit here
  World w(config);
  w.conns = {mesh_conn("p2", 500e3)};
  for (int i = 0; i < 8; ++i) w.tick(500e3);
  CHECK(w.video_cap("p2") + kAudioBps <= 1.1 * 500e3 + 1);  // adapted (a lone sender probes 10 % over)
  w.conns[0].available = 3e6;  // the browser's probes found the room
  int samples = 0;
  while (w.video_cap("p2") + kAudioBps < 0.9 * 3e6 && samples < 20) {
    w.tick(3e6);
    ++samples;
  }
  CHECK(samples <= 10);
}

TEST_CASE("a mesh splits one uplink over its connections instead of letting each take it", "[abr]") {
  World w;
  // The browser's estimates start low, then each connection's says 1.2 Mbit/s: the whole
  // uplink, three times over.
  w.conns = {mesh_conn("p2", 300e3), mesh_conn("p3", 300e3), mesh_conn("p4", 300e3)};
  for (int i = 0; i < 3; ++i) w.tick(1.2e6);
  for (Conn& c : w.conns) c.available = 1.2e6;
  for (int i = 0; i < 12; ++i) w.tick(1.2e6);
  double lost_before = 0, packets_before = 0;
  for (const Conn& c : w.conns) lost_before += c.lost + c.video_lost, packets_before += c.audio_packets + c.video_packets;
  for (int i = 0; i < 10; ++i) w.tick(1.2e6);
  double lost = -lost_before, packets = -packets_before, total = 0;
  std::vector<double> caps;
  for (const Conn& c : w.conns) {
    lost += c.lost + c.video_lost;
    packets += c.audio_packets + c.video_packets;
    caps.push_back(w.video_cap(c.id));
    total += w.video_cap(c.id) + kAudioBps;
  }
  CHECK(total <= 1.2e6 * 1.05);
  CHECK(total >= 1.2e6 * 0.5);
  CHECK(*std::min_element(caps.begin(), caps.end()) >= 0.8 * *std::max_element(caps.begin(), caps.end()));
  CHECK(lost / packets < 0.03);
}

TEST_CASE("video goes off to keep the audio above the floor and comes back with hysteresis", "[abr]") {
  World w;
  w.conns = {mesh_conn("p2", 90e3)};
  for (int i = 0; i < 6; ++i) w.tick(90e3);
  CHECK_FALSE(w.video_active("p2"));
  const auto off = w.named("action", "set-sender-parameters").back();
  CHECK(off["encodings"][0]["active"] == false);
  // Room again: not at once, only after the hold.
  w.conns[0].available = 600e3;
  w.tick(600e3);
  w.tick(600e3);
  w.tick(600e3);
  CHECK_FALSE(w.video_active("p2"));
  for (int i = 0; i < 6; ++i) w.tick(600e3);
  CHECK(w.video_active("p2"));
}

TEST_CASE("the encoding lowers frame rate, then resolution, with hysteresis", "[abr]") {
  const VideoSource hd;
  CHECK(video_encoding(2.5e6, hd, std::nullopt).scale_resolution_down_by == 1);
  const auto mid = video_encoding(500e3, hd, std::nullopt);
  CHECK(mid.scale_resolution_down_by == 2);
  CHECK(mid.max_framerate == 30);
  const auto low = video_encoding(100e3, hd, std::nullopt);
  CHECK(low.max_framerate == 10);
  CHECK(low.scale_resolution_down_by >= 3);
  // Just above the threshold for a bigger size: the current one stays (no keyframe churn).
  const auto stay = video_encoding(560e3, hd, mid);
  CHECK(stay.scale_resolution_down_by == 2);
  CHECK_FALSE(worth_changing(mid, video_encoding(520e3, hd, mid)));
  CHECK(worth_changing(mid, video_encoding(300e3, hd, mid)));
}

TEST_CASE("the split pays audio first and gives what one path cannot carry to the others", "[abr]") {
  std::vector<Claim> claims(3);
  for (auto& c : claims) c = {40e3, true, std::nullopt};
  claims[0].path_cap_bps = 140e3;  // this peer's own path carries little
  const auto shares = split_video_budget(1.12e6, claims, 2.5e6);
  CHECK(shares[0] == Approx(100e3));
  CHECK(shares[1] == Approx(450e3));
  CHECK(shares[2] == Approx(450e3));
  claims[2].wants_video = false;
  CHECK(split_video_budget(1.12e6, claims, 2.5e6)[2] == 0);
}

TEST_CASE("a publisher sends only the simulcast layers someone watches", "[abr][simulcast]") {
  auto plan = plan_simulcast(2e6, {false, false, true});
  CHECK(plan[0].active);
  CHECK_FALSE(plan[1].active);
  CHECK(plan[2].active);
  plan = plan_simulcast(400e3, {true, true, true});  // l fits, m at 280k (more than half), h not
  CHECK(plan[0].active);
  CHECK(plan[1].active);
  CHECK(plan[1].max_bitrate == Approx(280e3));
  CHECK_FALSE(plan[2].active);

  World w;
  Conn pub;
  pub.id = "publisher";
  pub.path = "publish";
  pub.rids = {"h", "m", "l"};
  Conn p2 = mesh_conn("p2", 2e6), p3 = mesh_conn("p3", 2e6);
  p2.video = p3.video = false;  // paused: the peers take our video from the SFU
  w.conns = {pub, p2, p3};
  w.core.handle({{"type", "layer-wants"}, {"from", "p2"}, {"layer", "l"}}, 0);
  w.core.handle({{"type", "layer-wants"}, {"from", "p3"}, {"layer", "l"}}, 0);
  for (int i = 0; i < 5; ++i) w.tick(5e6);
  auto last = w.named("action", "set-sender-parameters").back();
  CHECK(last["connection"] == "publisher");
  CHECK(last["encodings"][0] == Json({{"rid", "h"}, {"active", false}}));
  CHECK(last["encodings"][1] == Json({{"rid", "m"}, {"active", false}}));
  CHECK(last["encodings"][2]["active"] == true);
  w.core.handle({{"type", "layer-wants"}, {"from", "p3"}, {"layer", "h"}}, w.now);
  w.tick(5e6);
  last = w.named("action", "set-sender-parameters").back();
  CHECK(last["encodings"][0]["active"] == true);
  CHECK(last["encodings"][1]["active"] == false);
}

TEST_CASE("a subscription takes the layer its view needs, and less when the downlink suffers", "[abr][simulcast]") {
  World w;
  Conn sub;
  sub.id = "subscriber";
  sub.path = "subscribe";
  sub.from = "p2";
  w.conns = {sub};
  auto receive = [&](double lost) {
    w.conns[0].in_bytes += 1e6 / 8;
    w.conns[0].in_packets += 100;
    w.conns[0].in_lost += lost;
  };
  receive(0);
  w.tick(0);
  w.core.handle({{"type", "view-size"}, {"peer", "p2"}, {"width", 213}, {"height", 120}}, w.now);
  receive(0);
  w.tick(0);
  REQUIRE(w.named("action", "set-layer").size() == 1);
  CHECK(w.named("action", "set-layer")[0] == Json({{"action", "set-layer"}, {"peer", "p2"}, {"layer", "l"}}));
  CHECK(w.named("action", "send-layers")[0] == Json({{"action", "send-layers"}, {"to", "p2"}, {"layer", "l"}}));
  // Shown big again (the full height is now known from the l layer: 720 / 4 * 4).
  w.conns[0].in_height = 180;
  w.core.handle({{"type", "view-size"}, {"peer", "p2"}, {"width", 1280}, {"height", 720}}, w.now);
  receive(0);
  w.tick(0);
  CHECK(w.named("action", "set-layer").back()["layer"] == "h");
  // 20 % loss on the downlink: one step down per bad sample.
  w.conns[0].in_height = 720;
  receive(25);
  w.tick(0);
  CHECK(w.named("action", "set-layer").back()["layer"] == "m");
  // Freezes: one alone (a busy page), or right after a switch (the new layer's keyframe), does
  // not step down; two samples running, past the switch, do.
  for (int i = 0; i < 5; ++i) {
    w.conns[0].freezes += 1;
    receive(0);
    w.tick(0);
  }
  CHECK(w.named("action", "set-layer").back()["layer"] == "l");
  const auto switches = w.named("action", "set-layer").size();
  w.conns[0].freezes += 1;
  receive(0);
  w.tick(0);
  receive(0);
  w.tick(0);
  CHECK(w.named("action", "set-layer").size() == switches);
  // The app's choice stands, whatever the view and the downlink say; null gives it back.
  w.core.handle({{"type", "layer-preference"}, {"peer", "p2"}, {"layer", "h"}}, w.now);
  receive(0);
  w.tick(0);
  CHECK(w.named("action", "set-layer").back()["layer"] == "h");
  CHECK(w.named("action", "send-layers").back()["layer"] == "h");
  w.core.handle({{"type", "layer-preference"}, {"peer", "p2"}, {"layer", nullptr}}, w.now);
  receive(0);
  w.tick(0);
  CHECK(w.named("action", "set-layer").back()["layer"] == "l");
}

TEST_CASE("bad stats give a typed warning and the last decision holds", "[abr][bad-input]") {
  World w;
  w.conns = {mesh_conn("p2", 1e6)};
  for (int i = 0; i < 6; ++i) w.tick(1e6);
  const auto decided = w.named("action", "set-sender-parameters").size();
  const double cap = w.video_cap("p2");
  w.events.clear();

  const double nan = std::numeric_limits<double>::quiet_NaN();
  Json bad = sample(w.conns);
  bad["connections"][0]["outbound"][1]["bytesSent"] = nan;
  bad["connections"][0]["outbound"][0]["bytesSent"] = -5;
  bad["connections"][0]["pair"].erase("availableOutgoingBitrate");
  bad["connections"][0]["remoteInbound"][0]["packetsLost"] = "lots";
  w.now += 1000;
  w.core.handle(bad, w.now);
  // Counters that go backwards (a new sender): the history starts over.
  Json back = sample(w.conns);
  back["connections"][0]["outbound"][1]["bytesSent"] = 10;
  back["connections"][0]["outbound"][0]["bytesSent"] = 10;
  w.now += 1000;
  w.core.handle(back, w.now);
  w.core.handle_text("{not json", w.now);
  w.core.handle(Json::array({1, 2}), w.now);
  w.core.handle({{"type", "view-size"}, {"peer", "p2"}, {"width", -1}, {"height", nan}}, w.now);
  w.core.handle({{"type", "layer-wants"}, {"from", "p2"}, {"layer", "xl"}}, w.now);
  w.core.handle({{"type", "stats-sample"}, {"connections", "all of them"}}, w.now + 1000);
  w.core.handle({{"type", "stats-sample"}, {"connections", Json::array()}}, w.now + 1000);  // too soon
  w.drain();
  CHECK(w.named("action", "set-sender-parameters").size() == decided);
  CHECK(w.video_cap("p2") == cap);
  const auto warnings = w.named("event", "warning");
  CHECK(warnings.size() == 8);
  for (const auto& x : warnings) CHECK(x["code"] == "bad-stats");
  // Good samples again: it goes on deciding.
  for (int i = 0; i < 4; ++i) w.tick(300e3);
  CHECK(w.video_cap("p2") < 300e3);
}

TEST_CASE("quality events and stats snapshots; control off decides nothing", "[abr][quality]") {
  AbrConfig config;
  config.control = false;
  World w(config);
  Conn c = mesh_conn("p2", 1e6);
  w.conns = {c};
  auto sample_with_inbound = [&](double lost) {
    Json s = sample(w.conns);
    static double bytes = 0, packets = 0, vbytes = 0, lost_total = 0, frames = 0;
    bytes += 5000;
    packets += 50;
    vbytes += 100000;
    frames += 30;
    lost_total += lost;
    s["connections"][0]["inbound"] = {
        {{"mid", "0"}, {"kind", "audio"}, {"bytesReceived", bytes}, {"packetsReceived", packets}, {"packetsLost", lost_total}, {"jitter", 0.005}},
        {{"mid", "1"}, {"kind", "video"}, {"bytesReceived", vbytes}, {"packetsReceived", packets * 2}, {"packetsLost", 0},
         {"frameWidth", 1280}, {"frameHeight", 720}, {"framesPerSecond", 30}, {"framesDecoded", frames}}};
    return s;
  };
  for (int i = 0; i < 3; ++i) {
    step(w.conns, 1e6);
    w.now += 1000;
    w.core.handle(sample_with_inbound(0), w.now);
    w.drain();
  }
  CHECK(w.actions.empty());
  auto q = w.named("event", "quality");
  REQUIRE(q.size() == 1);
  CHECK(q[0]["peer"] == "p2");
  CHECK(q[0]["score"].get<double>() > 4);
  CHECK(q[0]["audio"]["mos"].get<double>() > 4);
  CHECK(q[0]["video"]["height"] == 720);
  const auto stats = w.named("event", "stats").back();
  CHECK(stats["peers"]["p2"]["receiveKbps"].get<double>() > 800);
  CHECK(stats["uplink"]["budgetKbps"].get<double>() > 0);
  // 30 % audio loss: the score drops by more than 0.5, so a new event.
  w.now += 1000;
  w.core.handle(sample_with_inbound(22), w.now);
  w.drain();
  q = w.named("event", "quality");
  REQUIRE(q.size() == 2);
  CHECK(q[1]["score"].get<double>() < 3);
  CHECK(q[1]["audio"]["lossFraction"].get<double>() > 0.25);
}

TEST_CASE("uplink budget: back off on loss, hold, then probe", "[abr]") {
  UplinkBudget b;
  UplinkSample s;
  s.sent_bps = 1e6;
  s.available_bps = 1.5e6;
  s.queue_ms = 0;
  s.loss_fraction = 0;
  b.update(s, 1000);
  CHECK(b.budget_bps() == 1.5e6);
  s.loss_fraction = 0.3;
  b.update(s, 2000);
  CHECK(b.budget_bps() == Approx(1.5e6 / 2));  // what got through, 700k, is less than half
  s.loss_fraction = 0.95;                       // an outage's loss, reported at once
  b.update(s, 2500);
  CHECK(b.budget_bps() == Approx(1.5e6 / 4));
  b = UplinkBudget();
  s.loss_fraction = 0;
  b.update(s, 1000);
  s.loss_fraction = 0.3;
  b.update(s, 2000);
  CHECK(b.trend() == UplinkBudget::Trend::Backoff);
  s.loss_fraction = 0;
  b.update(s, 3000);
  CHECK(b.trend() == UplinkBudget::Trend::Holding);
  b.update(s, 4500);
  CHECK(b.trend() == UplinkBudget::Trend::Probing);
  CHECK(b.budget_bps() == 1.5e6);  // caught up with the browser's estimate
  // One RTT jump (a busy machine) is not a queue; nor is a long RTT while we send little.
  s.queue_ms = 210;
  b.update(s, 5500);
  CHECK(b.trend() != UplinkBudget::Trend::Backoff);
  b.update(s, 6500);
  CHECK(b.trend() != UplinkBudget::Trend::Backoff);  // 1 Mbit/s of a 1.5 budget
  // A standing queue while we fill the budget: back off without loss.
  s.sent_bps = 1.4e6;
  b.update(s, 7500);
  CHECK(b.trend() != UplinkBudget::Trend::Backoff);
  b.update(s, 8500);
  CHECK(b.trend() == UplinkBudget::Trend::Backoff);
  CHECK(b.budget_bps() < 1.4e6);
  // Nothing measured: hold.
  const double held = b.budget_bps();
  UplinkSample none;
  b.update(none, 9500);
  CHECK(b.budget_bps() == held);
}

TEST_CASE("video stays on while the browser's estimate for the path says it fits", "[abr]") {
  World w;
  w.conns = {mesh_conn("p2", 2e6)};
  for (int i = 0; i < 4; ++i) w.tick(2e6);
  // Heavy loss the browser's estimate does not share (a starved CPU drops packets on receive):
  // the budget backs off, but the picture stays.
  for (int i = 0; i < 8; ++i) w.tick(80e3);
  CHECK(w.core.uplink_budget_bps() < 100e3);
  CHECK(w.video_active("p2"));
  // The browser agrees: off.
  w.conns[0].available = 90e3;
  w.tick(80e3);
  w.tick(80e3);
  CHECK_FALSE(w.video_active("p2"));
}

TEST_CASE("one peer's lossy downlink caps that connection, not the shared uplink", "[abr]") {
  World w;
  w.conns = {mesh_conn("p2", 1.5e6), mesh_conn("p3", 1.5e6), mesh_conn("p4", 1.5e6)};
  for (int i = 0; i < 5; ++i) w.tick(6e6);
  // p4's own path loses 20 % and its estimate falls; the uplink is fine.
  w.conns[2].own_loss = 0.2;
  w.conns[2].available = 300e3;
  for (int i = 0; i < 10; ++i) w.tick(6e6);
  CHECK(w.core.uplink_budget_bps() > 3e6);
  CHECK(w.video_cap("p2") > 1e6);
  CHECK(w.video_cap("p3") > 1e6);
  CHECK(w.video_cap("p4") <= 300e3);
  CHECK(w.video_active("p4"));
}

TEST_CASE("the frame rate keeps its step while the bitrate hovers at a threshold", "[abr]") {
  const VideoSource hd;
  const auto full = video_encoding(300e3, hd, std::nullopt);
  CHECK(full.max_framerate == 30);
  CHECK(video_encoding(240e3, hd, full).max_framerate == 30);  // within 15 %
  const auto low = video_encoding(200e3, hd, full);
  CHECK(low.max_framerate == 15);
  CHECK(video_encoding(260e3, hd, low).max_framerate == 15);
  CHECK(video_encoding(300e3, hd, low).max_framerate == 30);
}
