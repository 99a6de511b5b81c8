// ClientSession end to end in the simulated world: real RoomServer, modelled peer
// connections. Glare, reconnect with resume, server restart, ICE restart, limits.
#include <catch2/catch.hpp>

#include "sim_world.hpp"

using chorus::ClientSession;
using chorus::Json;
using sim::Client;
using sim::World;

namespace {

bool fully_connected(const Client& c, std::size_t peers) {
  if (c.session.peer_count() != peers) return false;
  std::size_t live = 0;
  for (const auto& [id, pc] : c.pcs) {
    if (pc.closed) continue;
    ++live;
    if (pc.connection_state != "connected" || pc.signaling_state != "stable") return false;
    if (pc.negotiated_version != pc.local_version) return false;
  }
  return live == peers;
}

// Ann and Bob join room "r" in the same tick and everything settles.
std::pair<Client&, Client&> pair_in_room(World& w) {
  Client& a = w.add_client("ann", 1);
  Client& b = w.add_client("bob", 2);
  w.join(a, "r");
  w.join(b, "r");
  w.run();
  return {a, b};
}

int count_events(const Client& c, const std::string& type) {
  int n = 0;
  for (auto& e : c.events) n += e["event"] == type;
  return n;
}

}  // namespace

TEST_CASE("two peers join and connect", "[session]") {
  World w;
  Client& a = w.add_client("ann", 1);
  Client& b = w.add_client("bob", 2);
  w.join(a, "r");
  w.run();
  w.join(b, "r");
  w.run();
  CHECK(a.session.state() == ClientSession::State::Joined);
  CHECK(b.session.state() == ClientSession::State::Joined);
  CHECK(fully_connected(a, 1));
  CHECK(fully_connected(b, 1));
  CHECK(count_events(a, "peerjoined") == 1);
  CHECK(w.rejected_candidates == 0);  // nothing added before its remote description
  // The newcomer offered; the one already there answered without offering.
  CHECK(b.pcs.begin()->second.offers_made == 1);
  CHECK(a.pcs.begin()->second.offers_made == 0);
}

TEST_CASE("four peers form a full mesh", "[session]") {
  World w;
  std::vector<Client*> cs;
  for (int i = 0; i < 4; ++i) cs.push_back(&w.add_client("p" + std::to_string(i), 10 + i));
  for (auto* c : cs) {
    w.join(*c, "mesh");
    w.run();
  }
  for (auto* c : cs) CHECK(fully_connected(*c, 3));
  CHECK(w.server().peer_count("mesh") == 4);
}

TEST_CASE("glare: both renegotiate at the same moment and the call survives", "[session]") {
  World w;
  auto [a, b] = pair_in_room(w);
  REQUIRE(fully_connected(a, 1));
  const int offers_before = a.pcs.begin()->second.offers_made + b.pcs.begin()->second.offers_made;

  a.tracks = b.tracks = 2;  // both add a track in the same tick
  a.session.handle({{"type", "local-tracks-changed"}}, w.now);
  b.session.handle({{"type", "local-tracks-changed"}}, w.now);
  w.run();

  CHECK(fully_connected(a, 1));
  CHECK(fully_connected(b, 1));
  const int offers_after = a.pcs.begin()->second.offers_made + b.pcs.begin()->second.offers_made;
  CHECK(offers_after - offers_before >= 2);  // both offered: there was a collision
  CHECK(a.pcs.begin()->second.negotiated_version == 3);
  CHECK(a.pcs.begin()->second.negotiated_version == 3);  // her new track was negotiated
}

TEST_CASE("a leaving peer is removed and its connection closed", "[session]") {
  World w;
  auto [a, b] = pair_in_room(w);
  w.input(b, {{"type", "leave"}});
  w.run();
  CHECK(b.session.state() == ClientSession::State::Left);
  CHECK(a.session.peer_count() == 0);
  CHECK(count_events(a, "peerleft") == 1);
  CHECK(a.pcs.begin()->second.closed);
  CHECK(b.pcs.begin()->second.closed);
}

TEST_CASE("the server dies and restarts: peers keep their connections and ids", "[session]") {
  World w;
  auto [a, b] = pair_in_room(w);
  const std::string a_id = a.session.peer_id(), b_id = b.session.peer_id();

  w.kill_server();
  CHECK(a.session.state() == ClientSession::State::Reconnecting);
  CHECK(b.session.state() == ClientSession::State::Reconnecting);
  w.advance(3000);  // several failed attempts
  CHECK(fully_connected(a, 1));  // media untouched meanwhile
  w.restart_server();
  w.advance(15000);

  CHECK(a.session.state() == ClientSession::State::Joined);
  CHECK(b.session.state() == ClientSession::State::Joined);
  CHECK(a.session.peer_id() == a_id);
  CHECK(b.session.peer_id() == b_id);
  CHECK(fully_connected(a, 1));
  CHECK(fully_connected(b, 1));
  CHECK(count_events(a, "peerleft") == 0);
  CHECK(a.pcs.size() == 1);  // the same connection, never recreated

  // A newcomer after the restart connects to both.
  Client& c = w.add_client("cy", 3);
  w.join(c, "r");
  w.run();
  CHECK(fully_connected(c, 2));
  CHECK(fully_connected(a, 2));
  CHECK(fully_connected(b, 2));
}

TEST_CASE("fresh TURN credentials after a reconnect reach the existing connections", "[session]") {
  World w(chorus::ServerConfig::from_json(
      {{"turn", {{"urls", "turn:10.0.0.1:3478"}, {"secret", "t"}, {"ttlSeconds", 600}}}}));
  w.server().set_wall_clock(1700000000.0 * 1000);
  auto [a, b] = pair_in_room(w);
  REQUIRE(a.pcs.size() == 1);
  const Json first = a.pcs.begin()->second.ice_servers;
  REQUIRE(first.size() == 1);
  CHECK(first[0]["username"] == "1700000600:" + a.session.peer_id());

  w.kill_server();
  w.restart_server();
  w.server().set_wall_clock(1700003600.0 * 1000);  // an hour on: the old credential is dead
  w.advance(15000);
  REQUIRE(a.session.state() == ClientSession::State::Joined);
  CHECK(a.pcs.size() == 1);  // the same connection
  CHECK(a.pcs.begin()->second.ice_servers[0]["username"] == "1700004200:" + a.session.peer_id());
  CHECK(b.pcs.begin()->second.ice_servers[0]["username"] == "1700004200:" + b.session.peer_id());
}

TEST_CASE("a peer that never comes back after a restart is dropped after the grace", "[session]") {
  World w;
  auto [a, b] = pair_in_room(w);
  w.kill_server();
  w.input(b, {{"type", "leave"}});  // bob gives up while the server is down
  w.restart_server();
  w.advance(5000);
  CHECK(a.session.state() == ClientSession::State::Joined);
  CHECK(a.session.peer_count() == 1);  // still within the grace
  w.advance(12000);
  CHECK(a.session.peer_count() == 0);
  CHECK(count_events(a, "peerleft") == 1);
}

TEST_CASE("ICE failure triggers a restart that renegotiates", "[session]") {
  World w;
  auto [a, b] = pair_in_room(w);
  auto& pc = a.pcs.begin()->second;
  pc.connection_state = "failed";
  w.input(a, {{"type", "connectionstatechange"}, {"peer", b.session.peer_id()}, {"state", "failed"}});
  w.run();
  CHECK(pc.ice_generation == 1);
  CHECK(pc.signaling_state == "stable");
  CHECK(pc.negotiated_version == pc.local_version);
}

TEST_CASE("reconnect delays grow exponentially with jitter", "[session]") {
  chorus::ClientConfig config;
  config.seed = 42;
  config.backoff.base_ms = 500;
  config.backoff.max_ms = 8000;
  config.connect_attempts = 100;
  ClientSession s(config);
  double now = 0;
  s.handle({{"type", "join"}, {"room", "r"}, {"name", "a"}}, now);
  while (s.poll()) {
  }
  std::vector<double> delays;
  for (int attempt = 0; attempt < 8; ++attempt) {
    s.handle({{"type", "socket-closed"}, {"code", 1006}}, now);
    while (s.poll()) {
    }
    auto t = s.next_timeout();
    REQUIRE(t.has_value());
    delays.push_back(*t - now);
    now = *t;
    s.handle_timeout(now);
    bool reopened = false;
    while (auto o = s.poll()) reopened |= (*o)["action"] == "open-socket";
    REQUIRE(reopened);
  }
  for (std::size_t i = 0; i < delays.size(); ++i) {
    const double cap = std::min(8000.0, 500.0 * (1 << i));
    INFO("attempt " << i << " delay " << delays[i]);
    CHECK(delays[i] >= cap / 2);
    CHECK(delays[i] <= cap);
  }
  CHECK(delays[0] != delays[1]);
}

TEST_CASE("with several servers each reconnect tries the next, and the backoff counts passes", "[session]") {
  chorus::ClientConfig config;
  config.seed = 7;
  config.backoff.base_ms = 500;
  config.backoff.max_ms = 8000;
  config.connect_attempts = 100;
  ClientSession s(config);
  double now = 0;
  s.handle({{"type", "join"}, {"room", "r"}, {"name", "a"}, {"servers", 3}}, now);
  auto open_server = [&]() {
    std::optional<int> server;
    while (auto o = s.poll()) {
      if ((*o)["action"] == "open-socket") server = (*o)["server"].get<int>();
    }
    return server;
  };
  CHECK(open_server() == 0);
  std::vector<int> servers;
  std::vector<double> delays;
  for (int attempt = 0; attempt < 6; ++attempt) {
    s.handle({{"type", "socket-closed"}, {"code", 1006}}, now);
    open_server();
    const double t = s.next_timeout().value();
    delays.push_back(t - now);
    now = t;
    s.handle_timeout(now);
    servers.push_back(open_server().value_or(-1));
  }
  CHECK(servers == std::vector<int>{1, 2, 0, 1, 2, 0});
  // A pass of three: the first attempt waits the backoff of its pass, the next two go at once.
  CHECK(delays[0] >= 250);
  CHECK(delays[0] <= 500);
  CHECK(delays[1] < 100);
  CHECK(delays[2] < 100);
  CHECK(delays[3] >= 500);
  CHECK(delays[3] <= 1000);
  CHECK(delays[4] < 100);
}

TEST_CASE("the first join gives up after the configured attempts", "[session]") {
  World w;
  Client& a = w.add_client("ann", 1);
  w.kill_server();
  w.join(a, "r");
  w.advance(60000);
  CHECK(a.session.state() == ClientSession::State::Left);
  bool fatal = false;
  for (auto& e : a.events) {
    if (e["event"] == "error" && e["code"] == "signaling-unreachable") fatal = e["fatal"];
  }
  CHECK(fatal);
}

TEST_CASE("a silent server is detected by the ping timeout", "[session]") {
  chorus::ClientConfig config;
  config.ping_interval_ms = 1000;
  config.pong_timeout_ms = 3000;
  ClientSession s(config);
  s.handle({{"type", "join"}, {"room", "r"}, {"name", "a"}}, 0);
  s.handle({{"type", "socket-open"}}, 0);
  s.handle_socket_message(
      R"({"type":"welcome","v":1,"room":"r","peerId":"me","secret":"0123456789abcdef","resumed":false,"peers":[]})", 10);
  while (s.poll()) {
  }
  bool closed = false;
  for (double t = 0; t < 5000 && !closed; t += 100) {
    s.handle_timeout(t);
    while (auto o = s.poll()) closed |= (*o)["action"] == "close-socket";
  }
  CHECK(closed);
  CHECK(s.state() == ClientSession::State::Reconnecting);
}

TEST_CASE("a full room is a fatal join error", "[session]") {
  chorus::ServerConfig config;
  config.max_peers_per_room = 1;
  World w(config);
  auto [a, b] = pair_in_room(w);
  CHECK(b.session.state() == ClientSession::State::Left);
  bool full = false;
  for (auto& e : b.events) full |= e["event"] == "error" && e["code"] == "room-full" && e["fatal"] == true;
  CHECK(full);
}

TEST_CASE("bad inputs from the glue or the server become error events", "[session]") {
  ClientSession s;
  s.handle_text("not json", 0);
  s.handle_text(R"({"type":"warp"})", 0);
  s.handle_text(R"({"type":"connectionstatechange"})", 0);
  s.handle({{"type", "join"}, {"room", "r"}, {"name", "a"}}, 0);
  s.handle({{"type", "socket-open"}}, 0);
  s.handle_socket_message("<html>", 0);
  s.handle_socket_message(R"({"type":"signal","from":"x"})", 0);
  std::vector<std::string> codes;
  while (auto o = s.poll()) {
    if ((*o)["event"] == "error") codes.push_back((*o)["code"]);
  }
  CHECK(codes == std::vector<std::string>{"bad-json", "unknown-type", "bad-message", "bad-json", "bad-message"});
  CHECK(s.state() == ClientSession::State::Connecting);
}

TEST_CASE("signaling runs while getUserMedia is pending, offers wait for the media", "[session]") {
  World w;
  Client& a = w.add_client("ann", 1);
  Client& b = w.add_client("bob", 2);
  w.join(a, "r");
  w.run();
  // Bob joins with his media still pending: the socket, join and welcome happen meanwhile.
  w.input(b, {{"type", "join"}, {"room", "r"}, {"name", "bob"}, {"media", "pending"}});
  w.run();
  CHECK(b.session.state() == ClientSession::State::Joined);
  REQUIRE(b.pcs.size() == 1);  // connection made early...
  CHECK(b.pcs.begin()->second.offers_made == 0);  // ...but no offer without tracks
  REQUIRE(a.pcs.size() == 1);  // Ann prepared hers on peer-joined
  CHECK(a.pcs.begin()->second.signaling_state == "stable");
  w.input(b, {{"type", "local-media-ready"}});
  w.run();
  CHECK(fully_connected(a, 1));
  CHECK(fully_connected(b, 1));
  CHECK(b.pcs.begin()->second.offers_made == 1);
  CHECK(a.pcs.begin()->second.offers_made == 0);
}

TEST_CASE("an answer waits for the answerer's pending media", "[session]") {
  World w;
  Client& a = w.add_client("ann", 1);
  Client& b = w.add_client("bob", 2);
  w.input(a, {{"type", "join"}, {"room", "r"}, {"name", "ann"}, {"media", "pending"}});
  w.run();
  w.join(b, "r");
  w.run();
  CHECK(a.pcs.begin()->second.signaling_state == "have-remote-offer");
  w.input(a, {{"type", "local-media-ready"}});
  w.run();
  CHECK(fully_connected(a, 1));
  CHECK(fully_connected(b, 1));
  CHECK(a.pcs.begin()->second.offers_made == 0);  // no extra round
}

TEST_CASE("a peer back after its grace ran out rejoins as a new peer and reconnects", "[session]") {
  World w;
  auto [a, b] = pair_in_room(w);
  const std::string old_b = b.session.peer_id();
  w.drop_network(b);
  w.advance(15000);  // the server's grace (10 s) runs out: Ann closes her connection to Bob
  CHECK(a.session.peer_count() == 0);
  b.offline = false;
  w.advance(15000);
  CHECK(b.session.state() == ClientSession::State::Joined);
  CHECK(b.session.peer_id() != old_b);
  CHECK(fully_connected(a, 1));
  CHECK(fully_connected(b, 1));
}

TEST_CASE("an offer made while the server is down reaches the peer after both resume", "[session]") {
  World w;
  auto [a, b] = pair_in_room(w);
  w.kill_server();
  a.tracks = 2;  // Ann adds a track during the outage: her offer cannot go anywhere yet
  w.input(a, {{"type", "local-tracks-changed"}});
  w.run();
  REQUIRE(a.pcs.begin()->second.signaling_state == "have-local-offer");
  // Ann comes back first; Bob's network is still down for a while.
  b.offline = true;
  w.restart_server();
  w.advance(4000);
  CHECK(a.session.state() == ClientSession::State::Joined);
  CHECK(a.pcs.begin()->second.signaling_state == "have-local-offer");
  b.offline = false;
  w.advance(15000);
  CHECK(fully_connected(a, 1));
  CHECK(fully_connected(b, 1));
  CHECK(a.pcs.begin()->second.negotiated_version == 3);  // her new track was negotiated
  CHECK(w.server().peer_count("r") == 2);
}

TEST_CASE("getUserMedia failing during the join fails it with media-unavailable", "[session]") {
  World w;
  Client& a = w.add_client("ann", 1);
  w.input(a, {{"type", "join"}, {"room", "r"}, {"name", "ann"}, {"media", "pending"}});
  w.run();
  REQUIRE(a.session.state() == ClientSession::State::Joined);
  w.input(a, {{"type", "local-media-failed"}, {"message", "NotAllowedError"}});
  w.run();
  CHECK(a.session.state() == ClientSession::State::Left);
  bool fatal = false;
  for (auto& e : a.events) fatal |= e["event"] == "error" && e["code"] == "media-unavailable" && e["fatal"] == true;
  CHECK(fatal);
  CHECK(w.server().room_count() == 0);  // it left the room on the server too
}

TEST_CASE("signals racing a peer's departure raise no app error", "[session]") {
  ClientSession s;
  s.handle({{"type", "join"}, {"room", "r"}, {"name", "a"}}, 0);
  s.handle({{"type", "socket-open"}}, 0);
  s.handle_socket_message(
      R"({"type":"welcome","v":1,"room":"r","peerId":"me","secret":"0123456789abcdef","resumed":false,"peers":[]})", 1);
  while (s.poll()) {
  }
  // Our candidates reached the server just after the peer left.
  s.handle_socket_message(R"({"type":"error","code":"unknown-peer","message":"no peer x","ref":"signal"})", 2);
  CHECK_FALSE(s.poll().has_value());
  // Other errors still reach the app.
  s.handle_socket_message(R"({"type":"error","code":"not-joined","message":"?","ref":"broadcast"})", 3);
  auto e = s.poll();
  REQUIRE(e.has_value());
  CHECK((*e)["code"] == "not-joined");
}
