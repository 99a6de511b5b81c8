// The signaling server's room machine: joins, relay, limits, typed errors, heartbeats and
// resume, driven with a fake clock.
#include <catch2/catch.hpp>
#include <vector>

#include "server_harness.hpp"

using test::Harness;

using chorus::ConnId;
using chorus::Json;
using chorus::RoomServer;
using chorus::ServerConfig;
using chorus::ServerOutput;

namespace {

Json signal_to(const std::string& to) {
  return {{"type", "signal"}, {"to", to}, {"kind", "offer"}, {"sdp", "v=0\r\n"}};
}

}  // namespace

TEST_CASE("joining makes the room and tells the others", "[server]") {
  Harness h;
  Json a = h.join(1, "r", "Ann");
  CHECK(a["type"] == "welcome");
  CHECK(a["peers"].empty());
  CHECK(a["resumed"] == false);
  Json b = h.join(2, "r", "Bob");
  REQUIRE(b["peers"].size() == 1);
  CHECK(b["peers"][0] == Json{{"id", a["peerId"]}, {"name", "Ann"}, {"role", "talker"}});
  auto to_a = h.take(1);
  REQUIRE(to_a.size() == 1);
  CHECK(to_a[0] == Json{{"type", "peer-joined"}, {"peer", {{"id", b["peerId"]}, {"name", "Bob"}, {"role", "talker"}}}});
  CHECK(h.server.room_count() == 1);
  CHECK(a["peerId"] != b["peerId"]);
}

TEST_CASE("signals are relayed with `from` and only inside the room", "[server]") {
  Harness h;
  Json a = h.join(1, "r", "Ann");
  Json b = h.join(2, "r", "Bob");
  Json c = h.join(3, "other", "Eve");
  h.take(1);

  h.send(1, signal_to(b["peerId"]));
  auto to_b = h.take(2);
  REQUIRE(to_b.size() == 1);
  CHECK(to_b[0]["from"] == a["peerId"]);
  CHECK(to_b[0]["kind"] == "offer");
  CHECK_FALSE(to_b[0].contains("to"));

  SECTION("cross-room addressing is an unknown peer, and nothing leaks") {
    h.send(3, signal_to(a["peerId"]));
    auto to_c = h.take(3);
    REQUIRE(to_c.size() == 1);
    CHECK(to_c[0]["code"] == "unknown-peer");
    CHECK(to_c[0]["ref"] == "signal");
    CHECK(h.take(1).empty());
  }
  SECTION("addressing yourself is an unknown peer") {
    h.send(1, signal_to(a["peerId"]));
    auto to_a = h.take(1);
    REQUIRE(to_a.size() == 1);
    CHECK(to_a[0]["code"] == "unknown-peer");
  }
  SECTION("broadcast reaches the room, not the sender or other rooms") {
    h.send(2, {{"type", "broadcast"}, {"data", {{"hand", true}}}});
    auto to_a = h.take(1);
    REQUIRE(to_a.size() == 1);
    CHECK(to_a[0] == Json{{"type", "broadcast"}, {"from", b["peerId"]}, {"data", {{"hand", true}}}});
    CHECK(h.take(2).empty());
    CHECK(h.take(3).empty());
  }
  (void)c;
}

TEST_CASE("bad input gets a typed error and the socket stays usable", "[server]") {
  ServerConfig config;
  config.max_message_bytes = 1024;
  Harness h(config);
  h.connect(1);
  auto error_code = [&](const std::vector<Json>& frames) {
    REQUIRE(frames.size() == 1);
    CHECK(frames[0]["type"] == "error");
    return frames[0]["code"].get<std::string>();
  };
  h.send_text(1, "{not json");
  CHECK(error_code(h.take(1)) == "bad-json");
  h.send_text(1, R"({"type":"warp"})");
  CHECK(error_code(h.take(1)) == "unknown-type");
  h.send(1, signal_to("p2"));
  CHECK(error_code(h.take(1)) == "not-joined");
  h.send_text(1, std::string(2000, ' '));
  CHECK(error_code(h.take(1)) == "message-too-large");
  h.server.handle_message(1, "\x01\x02", true, 2, h.now);
  CHECK(error_code(h.take(1)) == "binary-not-supported");
  h.send(1, {{"type", "join"}, {"v", 3}, {"room", "r"}, {"name", "a"}});
  CHECK(error_code(h.take(1)) == "unsupported-version");
  // Still alive: a ping is answered and a join works.
  h.send(1, {{"type", "ping"}, {"id", 4}});
  auto pong = h.take(1);
  REQUIRE(pong.size() == 1);
  CHECK(pong[0] == Json{{"type", "pong"}, {"id", 4}});
  h.send(1, {{"type", "join"}, {"v", 1}, {"room", "r"}, {"name", "a"}});
  CHECK(h.take(1)[0]["type"] == "welcome");
  h.send(1, {{"type", "join"}, {"v", 1}, {"room", "r2"}, {"name", "a"}});
  CHECK(error_code(h.take(1)) == "already-joined");
  CHECK(h.closed.empty());
}

TEST_CASE("rooms have a maximum size", "[server]") {
  ServerConfig config;
  config.max_peers_per_room = 2;
  Harness h(config);
  h.join(1, "r", "a");
  h.join(2, "r", "b");
  Json third = h.join(3, "r", "c");
  CHECK(third["type"] == "error");
  CHECK(third["code"] == "room-full");
  CHECK(h.server.peer_count("r") == 2);
  // Another room is unaffected.
  CHECK(h.join(4, "r2", "d")["type"] == "welcome");
}

TEST_CASE("leaving and clean closes remove the peer at once", "[server]") {
  Harness h;
  Json a = h.join(1, "r", "Ann");
  h.join(2, "r", "Bob");
  h.take(1);
  SECTION("leave message") {
    h.send(2, {{"type", "leave"}});
  }
  SECTION("close code 1001 (page closed)") {
    h.server.handle_close(2, 1001, h.now);
  }
  auto to_a = h.take(1);
  REQUIRE(to_a.size() == 1);
  CHECK(to_a[0]["type"] == "peer-left");
  CHECK(to_a[0]["reason"] == "left");
  CHECK(h.server.peer_count("r") == 1);
  h.server.handle_close(1, 1000, h.now);
  h.drain(0);
  CHECK(h.server.room_count() == 0);
  (void)a;
}

TEST_CASE("an abrupt drop keeps the seat for the resume grace period", "[server]") {
  Harness h;
  Json a = h.join(1, "r", "Ann");
  Json b = h.join(2, "r", "Bob");
  h.take(1);
  h.server.handle_close(2, 1006, h.now);
  CHECK(h.take(1).empty());  // no peer-left yet

  SECTION("signals to an away peer are kept and delivered on resume") {
    h.send(1, signal_to(b["peerId"]));
    h.advance(3000);
    Json back = h.join(3, "r", "Bob", {{"resume", {{"peerId", b["peerId"]}, {"secret", b["secret"]}}}});
    CHECK(back["type"] == "welcome");
    CHECK(back["resumed"] == true);
    CHECK(back["peerId"] == b["peerId"]);
    auto held = h.take(3);
    REQUIRE(held.size() == 1);
    CHECK(held[0]["kind"] == "offer");
    CHECK(h.take(1).empty());  // Ann sees no leave/join churn
  }
  SECTION("a wrong secret is rejected") {
    Json evil = h.join(3, "r", "Mallory", {{"resume", {{"peerId", b["peerId"]}, {"secret", "AAAAAAAAAAAAAAAAAAAA"}}}});
    CHECK(evil["code"] == "resume-rejected");
  }
  SECTION("after the grace period the peer is gone") {
    h.advance(5000);
    CHECK(h.take(1).empty());
    h.advance(6000);
    auto to_a = h.take(1);
    REQUIRE(to_a.size() == 1);
    CHECK(to_a[0] == Json{{"type", "peer-left"}, {"peerId", b["peerId"]}, {"reason", "timeout"}});
  }
  (void)a;
}

TEST_CASE("a restarted server grants a resumed id that is free", "[server]") {
  Harness h;
  Json a = h.join(1, "r", "Ann", {{"resume", {{"peerId", "oldAnn"}, {"secret", "0123456789abcdef0123"}}}});
  CHECK(a["peerId"] == "oldAnn");
  CHECK(a["resumed"] == false);
  Json b = h.join(2, "r", "Bob", {{"resume", {{"peerId", "oldBob"}, {"secret", "abcdefabcdefabcdefab"}}}});
  CHECK(b["peers"][0]["id"] == "oldAnn");
  auto to_a = h.take(1);
  REQUIRE(to_a.size() == 1);
  CHECK(to_a[0]["peer"]["id"] == "oldBob");
  // The presented secret now guards the seat.
  h.server.handle_close(2, 1006, h.now);
  Json thief = h.join(3, "r", "X", {{"resume", {{"peerId", "oldBob"}, {"secret", "zzzzzzzzzzzzzzzzzzzz"}}}});
  CHECK(thief["code"] == "resume-rejected");
}

TEST_CASE("silent sockets are closed by the heartbeat", "[server]") {
  ServerConfig config;
  config.heartbeat_timeout_ms = 30000;
  Harness h(config);
  h.join(1, "r", "Ann");
  h.join(2, "r", "Bob");
  h.take(1);
  for (int i = 0; i < 4; ++i) {
    h.advance(10000);
    h.send(1, {{"type", "ping"}});  // Ann keeps talking, Bob is silent
  }
  h.drain(0);
  REQUIRE(h.closed.size() == 1);
  CHECK(h.closed[0].conn == 2);
  CHECK(h.closed[0].code == 4002);
  // Bob is away, then gone after the grace period.
  h.advance(11000);
  h.take(1);
  h.advance(1000);
  CHECK(h.server.peer_count("r") == 1);
  REQUIRE(h.server.next_timeout().has_value());
}

TEST_CASE("an away peer's hold is bounded: overflowing it ends the seat", "[server]") {
  ServerConfig config;
  SECTION("by frames") { config.max_pending_per_peer = 8; }
  SECTION("by bytes") { config.max_pending_bytes_per_peer = 8 * 80; }  // a frame is ~72 bytes
  Harness h(config);
  Json a = h.join(1, "r", "Ann");
  Json b = h.join(2, "r", "Bob");
  h.take(1);
  h.server.handle_close(2, 1006, h.now);
  for (int i = 0; i < 8; ++i) h.send(1, signal_to(b["peerId"]));  // fits either limit
  CHECK(h.take(1).empty());
  CHECK(h.server.peer_count("r") == 2);
  for (int i = 0; i < 100; ++i) h.send(1, signal_to(b["peerId"]));
  auto to_a = h.take(1);
  REQUIRE(!to_a.empty());
  CHECK(to_a[0] == Json{{"type", "peer-left"}, {"peerId", b["peerId"]}, {"reason", "timeout"}});
  CHECK(h.server.peer_count("r") == 1);
  // Later signals to it are unknown-peer errors, not held.
  CHECK(to_a.back()["code"] == "unknown-peer");
  (void)a;
}

TEST_CASE("a peer whose grace ran out cannot resume its old id", "[server]") {
  Harness h;
  h.join(1, "r", "Ann");
  Json b = h.join(2, "r", "Bob");
  h.server.handle_close(2, 1006, h.now);
  h.advance(11000);
  h.advance(1000);
  REQUIRE(h.server.peer_count("r") == 1);
  Json back = h.join(3, "r", "Bob", {{"resume", {{"peerId", b["peerId"]}, {"secret", b["secret"]}}}});
  CHECK(back["type"] == "error");
  CHECK(back["code"] == "resume-rejected");
  // A fresh join works.
  h.send(3, {{"type", "join"}, {"v", 1}, {"room", "r"}, {"name", "Bob"}});
  auto again = h.take(3);
  REQUIRE(again.size() == 1);
  CHECK(again[0]["type"] == "welcome");
  CHECK(again[0]["peerId"] != b["peerId"]);
}

TEST_CASE("host entropy changes the ids that follow", "[server]") {
  Harness h1, h2;
  h2.server.add_entropy(0x1234, 0x5678);
  CHECK(h1.join(1, "r", "a")["secret"] != h2.join(1, "r", "a")["secret"]);
}
