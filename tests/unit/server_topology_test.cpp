// The room machine decides each room's topology (topology/selector) and tells every peer:
// `topology` messages on each change, the current one in every welcome.
#include <catch2/catch.hpp>
#include <string>

#include "server_harness.hpp"
#include "signaling/client_session.hpp"

using test::Harness;

using chorus::Json;
using chorus::ServerConfig;

namespace {

ServerConfig with_janus() {
  return ServerConfig::from_json({{"janus", {{"url", "ws://10.77.0.1:8188/"}}},
                                  {"topology", {{"downHoldMs", 5000}}}});
}

std::vector<Json> of_type(const std::vector<Json>& frames, const std::string& type) {
  std::vector<Json> out;
  for (const auto& f : frames) {
    if (f["type"] == type) out.push_back(f);
  }
  return out;
}

}  // namespace

TEST_CASE("the fifth peer moves the room to the SFU; everyone is told, the newcomer in its welcome", "[server][topology]") {
  Harness h(with_janus());
  h.server.set_media_servers(true, h.now);
  Json w1 = h.join(1, "r", "A");
  CHECK(w1["topology"] == Json{{"mode", "p2p"}, {"epoch", 0}, {"reason", ""}});  // as every room starts
  for (chorus::ConnId c = 2; c <= 4; ++c) h.join(c, "r", "P" + std::to_string(c));
  Json w5 = h.join(5, "r", "E");
  REQUIRE(w5["topology"]["mode"] == "sfu");
  const Json server = w5["topology"]["server"];
  CHECK(server["url"] == "ws://10.77.0.1:8188/");
  CHECK(server["room"].get<double>() >= 1);
  for (chorus::ConnId c = 1; c <= 4; ++c) {
    auto updates = of_type(h.take(c), "topology");
    REQUIRE(!updates.empty());
    CHECK(updates.back()["mode"] == "sfu");
    CHECK(updates.back()["epoch"] == w5["topology"]["epoch"]);
    CHECK(updates.back()["server"] == server);
  }
  CHECK(of_type(h.take(5), "topology").empty());  // the welcome told it
}

TEST_CASE("down to mesh at 3 peers after the hold, with the next epoch", "[server][topology]") {
  Harness h(with_janus());
  h.server.set_media_servers(true, h.now);
  for (chorus::ConnId c = 1; c <= 5; ++c) h.join(c, "r", "P" + std::to_string(c));
  for (chorus::ConnId c = 1; c <= 5; ++c) h.take(c);
  const auto sfu_epoch = h.server.topology("r").epoch;
  h.send(5, {{"type", "leave"}});
  h.send(4, {{"type", "leave"}});
  CHECK(of_type(h.take(1), "topology").empty());  // 3 peers: the hold runs
  h.advance(4000);
  CHECK(of_type(h.take(1), "topology").empty());
  h.advance(2000);  // the sweep after the hold
  auto updates = of_type(h.take(1), "topology");
  REQUIRE(updates.size() == 1);
  CHECK(updates[0] == Json{{"type", "topology"}, {"mode", "mesh"}, {"epoch", sfu_epoch + 1}, {"reason", "3 peers for 5000 ms"}});
}

TEST_CASE("without a reachable media server rooms stay a mesh; when it comes and goes they follow", "[server][topology]") {
  Harness h(with_janus());  // configured, but the host has not reported it reachable
  for (chorus::ConnId c = 1; c <= 5; ++c) h.join(c, "r", "P" + std::to_string(c));
  CHECK(h.server.topology("r").mode == chorus::topology::Topology::Mesh);
  h.take(1);
  h.server.set_media_servers(true, h.now);
  auto up = of_type(h.take(1), "topology");
  REQUIRE(up.size() == 1);
  CHECK(up[0]["mode"] == "sfu");
  h.server.set_media_servers(false, h.now);
  auto down = of_type(h.take(1), "topology");
  REQUIRE(down.size() == 1);
  CHECK(down[0]["mode"] == "mesh");
  CHECK(down[0]["reason"] == "media server unavailable: back to a mesh");

  Harness plain;  // no janus configured at all: the embedded default
  plain.server.set_media_servers(true, plain.now);
  for (chorus::ConnId c = 1; c <= 8; ++c) plain.join(c, "r", "P" + std::to_string(c));
  CHECK(plain.server.topology("r").mode == chorus::topology::Topology::Mesh);
}

TEST_CASE("the first joiner's policy is the room's: a classroom goes to the SFU from 3", "[server][topology]") {
  Harness h(with_janus());
  h.server.set_media_servers(true, h.now);
  h.join(1, "class", "T", {{"policy", "classroom"}});
  h.join(2, "class", "S1", {{"policy", "meeting"}});  // later joiners do not change it
  Json w3 = h.join(3, "class", "S2");
  CHECK(w3["topology"]["mode"] == "sfu");
  Json walkie = h.join(4, "ch-1", "W", {{"policy", "walkie"}});
  CHECK(walkie["topology"]["mode"] == "p2p");
}

TEST_CASE("uplink reports move a small mesh to the SFU; bad ones are typed errors", "[server][topology]") {
  Harness h(with_janus());
  h.server.set_media_servers(true, h.now);
  for (chorus::ConnId c = 1; c <= 3; ++c) h.join(c, "r", "P" + std::to_string(c));
  for (chorus::ConnId c = 1; c <= 3; ++c) h.take(c);
  h.send(2, {{"type", "uplink"}, {"video", true}, {"availableKbps", 300}, {"limited", true}});
  CHECK(h.take(2).empty());  // no answer to a good report
  h.advance(6000);
  auto up = of_type(h.take(1), "topology");
  REQUIRE(up.size() == 1);
  CHECK(up[0]["mode"] == "sfu");
  h.send(3, {{"type", "uplink"}, {"video", true}, {"availableKbps", "lots"}, {"limited", false}});
  CHECK(of_type(h.take(3), "error").at(0)["code"] == "bad-message");
  h.connect(9);
  h.send(9, {{"type", "uplink"}, {"video", true}, {"availableKbps", 1}, {"limited", true}});
  CHECK(h.take(9).at(0)["code"] == "not-joined");
}

TEST_CASE("each room has its own media-server room id", "[server][topology]") {
  Harness h(with_janus());
  h.server.set_media_servers(true, h.now);
  for (chorus::ConnId c = 1; c <= 5; ++c) h.join(c, "a", "P");
  for (chorus::ConnId c = 6; c <= 10; ++c) h.join(c, "b", "P");
  REQUIRE(h.server.topology("a").server.has_value());
  REQUIRE(h.server.topology("b").server.has_value());
  CHECK(h.server.topology("a").server->room != h.server.topology("b").server->room);
}

TEST_CASE("clients follow the room's topology in epoch order", "[server][topology][session]") {
  // The client core: a stale topology message (lower epoch) is ignored; a welcome is taken.
  chorus::ClientSession s{chorus::ClientConfig{}};
  s.handle({{"type", "join"}, {"room", "r"}, {"name", "a"}}, 0);
  s.handle({{"type", "socket-open"}}, 0);
  auto topology_events = [&]() {
    std::vector<Json> out;
    while (auto o = s.poll()) {
      if ((*o).value("event", "") == "topology") out.push_back(*o);
    }
    return out;
  };
  topology_events();
  s.handle_socket_message(R"({"type":"welcome","v":1,"room":"r","peerId":"p1","secret":"0123456789abcdef","resumed":false,"peers":[],"iceServers":[],"topology":{"mode":"mesh","epoch":2,"reason":"3 peers"}})", 1);
  auto first = topology_events();
  REQUIRE(first.size() == 1);
  CHECK(first[0]["mode"] == "mesh");
  s.handle_socket_message(R"({"type":"topology","mode":"sfu","epoch":3,"reason":"5 peers","server":{"url":"ws://j/","room":7}})", 2);
  s.handle_socket_message(R"({"type":"topology","mode":"mesh","epoch":2,"reason":"late"})", 3);
  auto next = topology_events();
  REQUIRE(next.size() == 1);
  CHECK(next[0]["mode"] == "sfu");
  CHECK(next[0]["server"] == Json{{"url", "ws://j/"}, {"room", 7}});
  CHECK(s.topology().epoch == 3);
}

TEST_CASE("the client core turns stats samples into uplink reports, and relays media-path and layers signals", "[topology][session]") {
  chorus::ClientSession s{chorus::ClientConfig{}};
  s.handle({{"type", "join"}, {"room", "r"}, {"name", "a"}}, 0);
  s.handle({{"type", "socket-open"}}, 0);
  auto sent = [&]() {
    std::vector<Json> out;
    while (auto o = s.poll()) {
      if ((*o).value("action", "") == "send") out.push_back(*chorus::parse_json((*o)["data"].get<std::string>()));
    }
    return out;
  };
  sent();
  // Alone in the room: nobody to share an uplink with, nothing is reported.
  s.handle_socket_message(R"({"type":"welcome","v":1,"room":"r","peerId":"p1","secret":"0123456789abcdef","resumed":false,"peers":[],"iceServers":[]})", 1);
  sent();
  s.handle({{"type", "uplink-sample"}, {"video", true}, {"connections", Json::array()}}, 2);
  CHECK(of_type(sent(), "uplink").empty());
  s.handle_socket_message(R"({"type":"peer-joined","peer":{"id":"p2","name":"b"}})", 3);
  s.handle_socket_message(R"({"type":"peer-joined","peer":{"id":"p3","name":"c"}})", 3);
  sent();
  // Two connections share the uplink: the estimates add up; one limited video sender is enough.
  s.handle({{"type", "uplink-sample"}, {"video", true},
            {"connections", Json::array({{{"availableKbps", 300}, {"qualityLimitationReason", "none"}},
                                         {{"availableKbps", 250.5}, {"qualityLimitationReason", "bandwidth"}},
                                         {{"availableKbps", nullptr}}})}}, 4);
  auto up = of_type(sent(), "uplink");
  REQUIRE(up.size() == 1);
  CHECK(up[0] == Json{{"type", "uplink"}, {"video", true}, {"availableKbps", 550.5}, {"limited", true}});
  s.handle({{"type", "uplink-sample"}}, 5);
  bool typed = false;
  while (auto o = s.poll()) typed = typed || ((*o).value("event", "") == "error" && (*o)["code"] == "bad-message");
  CHECK(typed);

  // media-path: out as a signal to a known peer, in as an event for the media core.
  s.handle({{"type", "send-media-path"}, {"to", "p2"}, {"path", "server"}, {"using", true}}, 6);
  auto sig = of_type(sent(), "signal");
  REQUIRE(sig.size() == 1);
  CHECK(sig[0] == Json{{"type", "signal"}, {"to", "p2"}, {"kind", "media-path"}, {"path", "server"}, {"using", true}});
  s.handle_socket_message(R"({"type":"signal","from":"p3","kind":"media-path","path":"mesh","using":false})", 7);
  std::vector<Json> events;
  while (auto o = s.poll()) {
    if ((*o).value("event", "") == "media-path") events.push_back(*o);
  }
  REQUIRE(events.size() == 1);
  CHECK(events[0] == Json{{"event", "media-path"}, {"from", "p3"}, {"path", "mesh"}, {"using", false}});

  // layers (the AbrCore's simulcast wishes): the same way, and a bad layer is a typed error.
  s.handle({{"type", "send-layers"}, {"to", "p3"}, {"layer", "l"}}, 8);
  s.handle({{"type", "send-layers"}, {"to", "gone"}, {"layer", "l"}}, 8);  // left: dropped
  sig = of_type(sent(), "signal");
  REQUIRE(sig.size() == 1);
  CHECK(sig[0] == Json{{"type", "signal"}, {"to", "p3"}, {"kind", "layers"}, {"layer", "l"}});
  s.handle({{"type", "send-layers"}, {"to", "p3"}, {"layer", "xl"}}, 9);
  s.handle_socket_message(R"({"type":"signal","from":"p2","kind":"layers","layer":"m"})", 9);
  events.clear();
  typed = false;
  while (auto o = s.poll()) {
    if ((*o).value("event", "") == "layers") events.push_back(*o);
    typed = typed || ((*o).value("event", "") == "error" && (*o)["code"] == "bad-message");
  }
  CHECK(typed);
  REQUIRE(events.size() == 1);
  CHECK(events[0] == Json{{"event", "layers"}, {"from", "p2"}, {"layer", "m"}});
}
