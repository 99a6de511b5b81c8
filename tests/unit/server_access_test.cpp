// The room machine's production rules: access tokens, TURN credentials in the welcome, abuse
// limits and the counters behind /metrics.
#include <catch2/catch.hpp>
#include <string>

#include "server_harness.hpp"
#include "token_mint.hpp"

using test::Harness;
using test::mint_jwt;

using chorus::ConnId;
using chorus::Json;
using chorus::ServerConfig;

namespace {

constexpr double kUnixMs = 1700000000.0 * 1000;

ServerConfig auth_config(bool required = true) {
  return ServerConfig::from_json({{"auth", {{"secret", "s3cret"}, {"required", required}}}});
}

std::string token(Json extra = Json::object()) {
  Json c = {{"room", "r"}, {"sub", "alice"}, {"exp", 1700003600}};
  c.update(extra);
  return mint_jwt(c, "s3cret");
}

Harness& clocked(Harness& h) {
  h.server.set_wall_clock(kUnixMs);
  return h;
}

Json join_msg(const std::string& room, Json extra = Json::object()) {
  Json m = {{"type", "join"}, {"v", 1}, {"room", room}, {"name", "x"}};
  m.update(extra);
  return m;
}

}  // namespace

TEST_CASE("a room that requires tokens admits only valid ones", "[server][auth]") {
  Harness h(auth_config());
  clocked(h);
  Json e = h.join(1, "r", "Ann");
  CHECK(e["type"] == "error");
  CHECK(e["code"] == "unauthorized");
  CHECK(e["ref"] == "join");
  CHECK(h.server.room_count() == 0);

  CHECK(h.join(2, "r", "Ann", {{"token", token({{"exp", 1699999000}})}})["code"] == "token-expired");
  CHECK(h.join(3, "r", "Ann", {{"token", token({{"room", "other"}})}})["code"] == "unauthorized");
  CHECK(h.join(4, "r", "Ann", {{"token", mint_jwt({{"room", "r"}, {"sub", "a"}, {"exp", 1700003600}}, "guess")}})["code"] ==
        "unauthorized");

  // The socket stays usable: the same connection joins once it has a good token.
  h.send(1, join_msg("r", {{"token", token({{"role", "teacher"}})}}));
  auto w = h.take(1);
  REQUIRE(w.size() == 1);
  CHECK(w[0]["type"] == "welcome");
  CHECK(w[0]["identity"] == "alice");
  CHECK(w[0]["role"] == "teacher");

  Json bob = h.join(5, "r", "Bob", {{"token", token({{"sub", "bob"}, {"role", "student"}})}});
  REQUIRE(bob["type"] == "welcome");
  REQUIRE(bob["peers"].size() == 1);
  CHECK(bob["peers"][0]["identity"] == "alice");
  CHECK(bob["peers"][0]["role"] == "teacher");
  auto to_ann = h.take(1);
  REQUIRE(to_ann.size() == 1);
  CHECK(to_ann[0]["peer"]["identity"] == "bob");
  CHECK(to_ann[0]["peer"]["role"] == "student");
}

TEST_CASE("a token's role is the seat's role; powerful roles need a token", "[server][auth]") {
  Harness h(auth_config(false));
  clocked(h);
  // The token grants student: asking for teacher is refused, asking for nothing gets student.
  CHECK(h.join(1, "r", "A", {{"token", token({{"role", "student"}})}, {"role", "teacher"}})["code"] == "unauthorized");
  CHECK(h.join(2, "r", "A", {{"token", token({{"role", "student"}})}})["role"] == "student");
  CHECK(h.join(3, "r", "A", {{"token", token({{"role", "student"}})}, {"role", "student"}})["role"] == "student");
  // Not required: anonymous joins come in, but only with the roles that carry no power.
  Json anon = h.join(4, "r", "B");
  CHECK(anon["type"] == "welcome");
  CHECK_FALSE(anon.contains("identity"));
  CHECK(h.join(5, "r", "C", {{"role", "student"}})["type"] == "welcome");
  CHECK(h.join(6, "r", "D", {{"role", "dispatcher"}})["code"] == "unauthorized");
  CHECK(h.join(7, "r", "E", {{"role", "teacher"}})["code"] == "unauthorized");
  // A token without a role may not claim power either.
  CHECK(h.join(8, "r", "F", {{"token", token()}, {"role", "dispatcher"}})["code"] == "unauthorized");
  CHECK(h.join(9, "r", "G", {{"token", token({{"role", "dispatcher"}})}})["role"] == "dispatcher");
}

TEST_CASE("without a wall clock tokens are refused, not trusted forever", "[server][auth]") {
  Harness h(auth_config());
  Json e = h.join(1, "r", "A", {{"token", token()}});
  CHECK(e["code"] == "unauthorized");
  CHECK(e["message"].get<std::string>().find("clock") != std::string::npos);
}

TEST_CASE("a resume keeps its seat without a fresh token", "[server][auth]") {
  Harness h(auth_config());
  clocked(h);
  Json w = h.join(1, "r", "A", {{"token", token({{"exp", 1700000060}})}});
  REQUIRE(w["type"] == "welcome");
  h.server.handle_close(1, 1006, h.now);
  h.server.set_wall_clock(kUnixMs + 120000);  // the token expired while the socket was down
  Json again = h.join(2, "r", "A",
                      {{"token", token({{"exp", 1700000060}})},
                       {"resume", {{"peerId", w["peerId"]}, {"secret", w["secret"]}}}});
  CHECK(again["type"] == "welcome");
  CHECK(again["resumed"] == true);
  CHECK(again["identity"] == "alice");
  // A new seat with that token is refused.
  CHECK(h.join(3, "r", "B", {{"token", token({{"exp", 1700000060}})}})["code"] == "token-expired");
}

TEST_CASE("every welcome carries fresh TURN credentials after the static servers", "[server][turn]") {
  Harness h(ServerConfig::from_json({{"iceServers", Json::array({{{"urls", "stun:10.0.0.1:3478"}}})},
                                     {"turn", {{"urls", Json::array({"turn:10.0.0.1:3478?transport=udp"})},
                                               {"secret", "t"},
                                               {"ttlSeconds", 600}}}}));
  clocked(h);
  Json w = h.join(1, "r", "A");
  REQUIRE(w["iceServers"].size() == 2);
  CHECK(w["iceServers"][0]["urls"] == "stun:10.0.0.1:3478");
  const Json& turn = w["iceServers"][1];
  CHECK(turn["urls"] == Json::array({"turn:10.0.0.1:3478?transport=udp"}));
  CHECK(turn["username"] == "1700000600:" + w["peerId"].get<std::string>());
  CHECK(turn["credential"].get<std::string>().size() == 28);  // base64 of 20 bytes
  // A resume an hour later gets a credential that expires an hour later.
  h.server.handle_close(1, 1006, h.now);
  h.server.set_wall_clock(kUnixMs + 3600 * 1000);
  Json again = h.join(2, "r", "A", {{"resume", {{"peerId", w["peerId"]}, {"secret", w["secret"]}}}});
  CHECK(again["iceServers"][1]["username"] == "1700004200:" + w["peerId"].get<std::string>());
}

TEST_CASE("a flood is rate-limited once, then closed; its room goes on", "[server][limits]") {
  Harness h(ServerConfig::from_json(
      {{"limits", {{"messagesPerSecond", 10}, {"messageBurst", 20}, {"maxStrikes", 5}}}}));
  Json a = h.join(1, "r", "A");
  Json b = h.join(2, "r", "B");
  Json other = h.join(3, "elsewhere", "C");
  h.take(1);
  const std::string to_b = Json{{"type", "broadcast"}, {"data", 1}}.dump();
  for (int i = 0; i < 19; ++i) h.send_text(1, to_b);  // the join took one token
  CHECK(h.take(2).size() == 19);
  h.send_text(1, to_b);
  auto answers = h.take(1);
  REQUIRE(answers.size() == 1);
  CHECK(answers[0]["code"] == "rate-limited");
  CHECK(h.take(2).empty());  // dropped, not relayed
  for (int i = 0; i < 10; ++i) h.send_text(1, to_b);
  CHECK(h.take(1).empty());  // one answer per episode, not one per dropped message
  REQUIRE(h.closed.size() == 1);
  CHECK(h.closed[0].conn == 1);
  CHECK(h.closed[0].code == 1008);
  // Its seat is gone for good: B hears it left; the other room heard nothing.
  auto to_b_frames = h.take(2);
  REQUIRE(to_b_frames.size() == 1);
  CHECK(to_b_frames[0]["type"] == "peer-left");
  CHECK(to_b_frames[0]["peerId"] == a["peerId"]);
  CHECK(h.take(3).empty());
  CHECK(h.server.counters().policy_closes == 1);
  // Five strikes forgiven, the sixth closes; what came after was never read.
  CHECK(h.server.counters().errors.at(chorus::ErrorCode::RateLimited) == 6);
  (void)b;
  (void)other;
}

TEST_CASE("tokens refill at the configured rate", "[server][limits]") {
  Harness h(ServerConfig::from_json({{"limits", {{"messagesPerSecond", 10}, {"messageBurst", 2}}}}));
  h.join(1, "r", "A");
  h.send(1, {{"type", "ping"}});
  h.send(1, {{"type", "ping"}});
  auto first = h.take(1);
  REQUIRE(first.size() == 2);
  CHECK(first[0]["type"] == "pong");
  CHECK(first[1]["code"] == "rate-limited");
  h.now += 100;  // one token back
  h.send(1, {{"type", "ping"}});
  auto later = h.take(1);
  REQUIRE(later.size() == 1);
  CHECK(later[0]["type"] == "pong");
}

TEST_CASE("repeated bad messages close the socket; occasional ones are forgiven", "[server][limits]") {
  Harness h(ServerConfig::from_json({{"limits", {{"maxStrikes", 3}, {"strikeDecayMs", 1000}}}}));
  h.connect(1);
  for (int i = 0; i < 3; ++i) {
    h.send_text(1, "{not json");
    h.now += 1000;  // one strike forgiven per second: never closed
  }
  CHECK(h.closed.empty());
  CHECK(h.take(1).size() == 3);
  h.server.handle_message(1, "", true, 3, h.now);
  h.send_text(1, "[]");
  h.send(1, {{"type", "nope"}});
  h.send(1, {{"type", "signal"}, {"to", "x"}, {"kind", "offer"}, {"sdp", ""}});  // not joined
  h.drain(0);
  REQUIRE(h.closed.size() == 1);
  CHECK(h.closed[0].code == 1008);
  h.send(1, {{"type", "ping"}});  // the machine has forgotten it
  CHECK(h.take(1).size() == 4);   // the four answers before the close; nothing after
}

TEST_CASE("the number of rooms is bounded", "[server][limits]") {
  Harness h(ServerConfig::from_json({{"limits", {{"maxRooms", 2}}}}));
  CHECK(h.join(1, "a", "A")["type"] == "welcome");
  CHECK(h.join(2, "b", "B")["type"] == "welcome");
  Json e = h.join(3, "c", "C");
  CHECK(e["code"] == "too-many-rooms");
  CHECK(h.join(4, "a", "D")["type"] == "welcome");  // existing rooms still take peers
  h.send(2, {{"type", "leave"}});
  h.drain(0);
  h.send(3, join_msg("c"));
  CHECK(h.take(3).at(0)["type"] == "welcome");
}

TEST_CASE("connections per address are bounded and counted down on close", "[server][limits]") {
  Harness h(ServerConfig::from_json({{"limits", {{"maxConnectionsPerAddress", 2}}}}));
  h.connect(1, "10.0.0.5");
  h.connect(2, "10.0.0.5");
  h.connect(3, "10.0.0.5");
  h.connect(4, "10.0.0.6");
  auto refused = h.take(3);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["code"] == "too-many-connections");
  REQUIRE(h.closed.size() == 1);
  CHECK(h.closed[0].conn == 3);
  CHECK(h.closed[0].code == 1013);
  CHECK(h.server.connection_count() == 3);
  h.server.handle_close(1, 1000, h.now);
  h.connect(5, "10.0.0.5");
  h.drain(0);
  CHECK(h.closed.size() == 1);
  CHECK(h.server.connection_count() == 3);
}

TEST_CASE("an origin allow-list refuses other pages and non-browser sockets", "[server][limits]") {
  Harness h(ServerConfig::from_json({{"limits", {{"allowedOrigins", Json::array({"https://app.example"})}}}}));
  h.connect(1, "", "https://app.example");
  h.connect(2, "", "https://evil.example");
  h.connect(3, "", "");
  CHECK(h.take(2).at(0)["code"] == "origin-not-allowed");
  CHECK(h.take(3).at(0)["code"] == "origin-not-allowed");
  CHECK(h.take(1).empty());
  REQUIRE(h.closed.size() == 2);
  CHECK(h.closed[0].code == 1008);
  CHECK(h.server.connection_count() == 1);
}

TEST_CASE("counters follow the traffic", "[server][metrics]") {
  Harness h;
  h.join(1, "r", "A");
  h.join(2, "r", "B");
  h.send_text(1, "{");
  h.drain(0);
  const auto& c = h.server.counters();
  CHECK(c.messages_in == 3);
  CHECK(c.messages_out == 4);  // two welcomes, one peer-joined, one error
  CHECK(c.bytes_in > 0);
  CHECK(c.bytes_out > c.bytes_in);
  CHECK(c.errors.at(chorus::ErrorCode::BadJson) == 1);
  CHECK(h.server.seat_count() == 2);
}

TEST_CASE("after a restart only the seat's owner resumes it, with its role and identity", "[server][auth][resume]") {
  // Two machines with the same token secret: the second stands for a restarted process or
  // another process of a cluster that takes the room over.
  Harness first(auth_config());
  clocked(first);
  Json w = first.join(1, "r", "Ann", {{"token", token({{"role", "teacher"}, {"exp", 1700000060}})}});
  REQUIRE(w["type"] == "welcome");
  Json other = first.join(2, "r", "Bob", {{"token", token({{"sub", "bob"}})}});
  REQUIRE(other["type"] == "welcome");

  Harness second(auth_config());
  second.server.set_wall_clock(kUnixMs + 3600 * 1000);  // Ann's token expired meanwhile
  // Bob knows Ann's peer id (every member does) but not her secret.
  Json forged = second.join(3, "r", "Mallory",
                            {{"token", token({{"sub", "bob"}, {"exp", 1800000000}})},
                             {"resume", {{"peerId", w["peerId"]}, {"secret", other["secret"]}}}});
  CHECK(forged["code"] == "resume-rejected");
  Json made_up = second.join(4, "r", "Mallory",
                             {{"resume", {{"peerId", w["peerId"]}, {"secret", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}}});
  CHECK(made_up["code"] == "resume-rejected");
  // Ann's own secret: her seat, her role and identity, without a valid token.
  Json back = second.join(5, "r", "Ann",
                          {{"token", token({{"role", "teacher"}, {"exp", 1700000060}})},
                           {"resume", {{"peerId", w["peerId"]}, {"secret", w["secret"]}}}});
  REQUIRE(back["type"] == "welcome");
  CHECK(back["peerId"] == w["peerId"]);
  CHECK(back["role"] == "teacher");
  CHECK(back["identity"] == "alice");
  CHECK(back["secret"] == w["secret"]);
  // Her secret does not open a seat of the same id in another room.
  Json elsewhere = second.join(6, "other-room", "Ann", {{"resume", {{"peerId", w["peerId"]}, {"secret", w["secret"]}}}});
  CHECK(elsewhere["code"] == "resume-rejected");
}

TEST_CASE("a configured resumeKey is used; without any key a restart takes resumes on trust", "[server][resume]") {
  Harness a(ServerConfig::from_json({{"resumeKey", "k1"}}));
  Json w = a.join(1, "r", "A");
  Harness b(ServerConfig::from_json({{"resumeKey", "k1"}}));
  CHECK(b.join(1, "r", "A", {{"resume", {{"peerId", w["peerId"]}, {"secret", w["secret"]}}}})["type"] == "welcome");
  Harness c(ServerConfig::from_json({{"resumeKey", "k2"}}));
  CHECK(c.join(1, "r", "A", {{"resume", {{"peerId", w["peerId"]}, {"secret", w["secret"]}}}})["code"] == "resume-rejected");
  Harness plain;
  Json p = plain.join(1, "r", "A", {{"resume", {{"peerId", "someone123"}, {"secret", "0123456789abcdef0123"}}}});
  CHECK(p["type"] == "welcome");
  CHECK(p["peerId"] == "someone123");
}
