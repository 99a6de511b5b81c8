// Push-to-talk floor control: the pure Floor, the room machine's arbitration (who gets it,
// who is told, when it ends) and the client core's view of it, all with a fake clock.
#include <catch2/catch.hpp>
#include <limits>

#include "server_harness.hpp"
#include "signaling/floor.hpp"
#include "sim_world.hpp"

using chorus::ClientSession;
using chorus::Floor;
using chorus::Json;
using chorus::ServerConfig;
using test::Harness;
namespace p = chorus::protocol;

namespace {

const Json kRequest = {{"type", "floor-request"}, {"id", 1}};
const Json kRelease = {{"type", "floor-release"}};

Json floor_msg(const Json& holder, std::uint32_t epoch, const std::string& reason) {
  return {{"type", "floor"}, {"holder", holder}, {"epoch", epoch}, {"reason", reason}};
}

// Three talkers in room "r" on connections 1, 2, 3, with the join traffic drained.
struct Room3 {
  explicit Room3(ServerConfig config = {}) : h(config) {
    for (chorus::ConnId c = 1; c <= 3; ++c) id[c] = h.join(c, "r", "p" + std::to_string(c))["peerId"];
    for (chorus::ConnId c = 1; c <= 3; ++c) h.take(c);
  }
  Harness h;
  std::map<chorus::ConnId, std::string> id;
};

std::vector<Json> events_of(const sim::Client& c, const std::string& type) {
  std::vector<Json> out;
  for (const auto& e : c.events) {
    if (e["event"] == type) out.push_back(e);
  }
  return out;
}

}  // namespace

// ---- the pure Floor ----------------------------------------------------------------------

TEST_CASE("Floor: first come first served, dispatchers preempt talkers only", "[floor]") {
  Floor f;
  auto a = f.request("a", p::Role::Talker, 0, 1000);
  CHECK((a.granted && a.changed && a.epoch == 1));
  CHECK_FALSE(f.request("b", p::Role::Talker, 1, 1000).granted);
  auto again = f.request("a", p::Role::Talker, 500, 1000);
  CHECK((again.granted && !again.changed && again.epoch == 1));
  CHECK(*f.deadline() == 1000);  // asking again does not extend the grant

  auto d = f.request("d", p::Role::Dispatcher, 2, 1000);
  CHECK((d.granted && d.changed && d.epoch == 2));
  CHECK(f.state().reason == p::FloorReason::Preempted);
  CHECK_FALSE(f.request("e", p::Role::Dispatcher, 3, 1000).granted);
  CHECK_FALSE(f.request("a", p::Role::Talker, 3, 1000).granted);
  CHECK(*f.state().holder == "d");
}

TEST_CASE("Floor: release by a non-holder changes nothing; the deadline ends a grant", "[floor]") {
  Floor f;
  f.request("a", p::Role::Talker, 0, 100);
  CHECK_FALSE(f.release("b", p::FloorReason::Released));
  CHECK(*f.state().holder == "a");
  CHECK_FALSE(f.expire(99));
  CHECK(f.expire(100));
  CHECK(f.state() == p::FloorState{std::nullopt, 1, p::FloorReason::Timeout});
  CHECK_FALSE(f.deadline());
  CHECK_FALSE(f.expire(200));
}

TEST_CASE("Floor: an epoch is never reused; the last one ends the grants", "[floor]") {
  const auto max = std::numeric_limits<std::uint32_t>::max();
  Floor f(max - 1);
  CHECK(f.request("a", p::Role::Talker, 0, 100).epoch == max);
  CHECK(f.release("a", p::FloorReason::Released));
  auto denied = f.request("a", p::Role::Talker, 1, 100);
  CHECK_FALSE(denied.granted);
  CHECK_FALSE(f.state().holder);
  CHECK(f.state().epoch == max);
}

// ---- arbitration in the room machine -----------------------------------------------------

TEST_CASE("two requests in the same tick: the first wins, everyone hears it once", "[floor][server]") {
  Room3 r;
  r.h.send(1, kRequest);
  r.h.send(2, {{"type", "floor-request"}, {"id", 7}});
  const auto granted = floor_msg(r.id[1], 1, "granted");
  auto to1 = r.h.take(1);
  REQUIRE(to1.size() == 2);
  CHECK(to1[0] == granted);  // the state first, then the answer
  CHECK(to1[1] == Json{{"type", "floor-granted"}, {"id", 1}, {"epoch", 1}, {"maxTalkMs", 60000}});
  auto to2 = r.h.take(2);
  REQUIRE(to2.size() == 2);
  CHECK(to2[0] == granted);
  CHECK(to2[1]["type"] == "error");
  CHECK(to2[1]["code"] == "floor-denied");
  CHECK(to2[1]["ref"] == "floor-request");
  CHECK(to2[1]["id"] == 7);
  CHECK(to2[1]["holder"] == r.id[1]);
  CHECK(r.h.take(3) == std::vector<Json>{granted});
}

TEST_CASE("the holder asking again is granted the same epoch, and nobody is told", "[floor][server]") {
  Room3 r;
  r.h.send(1, kRequest);
  r.h.take(1), r.h.take(2), r.h.take(3);
  r.h.send(1, {{"type", "floor-request"}, {"id", 2}});
  CHECK(r.h.take(1) == std::vector<Json>{{{"type", "floor-granted"}, {"id", 2}, {"epoch", 1}, {"maxTalkMs", 60000}}});
  CHECK(r.h.take(2).empty());
}

TEST_CASE("a dispatcher preempts a talker but not another dispatcher", "[floor][server]") {
  Room3 r;
  Json d = r.h.join(4, "r", "dispatch", {{"role", "dispatcher"}});
  Json e = r.h.join(5, "r", "dispatch 2", {{"role", "dispatcher"}});
  for (chorus::ConnId c = 1; c <= 5; ++c) r.h.take(c);
  // Everyone knows who may preempt.
  CHECK(e["peers"].size() == 4);
  for (const auto& peer : e["peers"]) CHECK(peer["role"] == (peer["id"] == d["peerId"] ? "dispatcher" : "talker"));

  r.h.send(1, kRequest);
  for (chorus::ConnId c = 1; c <= 5; ++c) r.h.take(c);
  r.h.send(4, {{"type", "floor-request"}, {"id", 9}});
  const auto preempted = floor_msg(d["peerId"], 2, "preempted");
  CHECK(r.h.take(1) == std::vector<Json>{preempted});  // the talker learns it lost the floor
  CHECK(r.h.take(4) == std::vector<Json>{preempted, {{"type", "floor-granted"}, {"id", 9}, {"epoch", 2}, {"maxTalkMs", 60000}}});
  CHECK(r.h.take(5) == std::vector<Json>{preempted});
  r.h.take(2), r.h.take(3);

  SECTION("another dispatcher is denied") {
    r.h.send(5, kRequest);
    auto to5 = r.h.take(5);
    REQUIRE(to5.size() == 1);
    CHECK(to5[0]["code"] == "floor-denied");
    CHECK(to5[0]["holder"] == d["peerId"]);
    CHECK(r.h.take(4).empty());
  }
  SECTION("a talker is denied") {
    r.h.send(2, kRequest);
    auto to2 = r.h.take(2);
    REQUIRE(to2.size() == 1);
    CHECK(to2[0]["code"] == "floor-denied");
    CHECK(r.h.server.floor_state("r").holder == d["peerId"].get<std::string>());
  }
}

TEST_CASE("the max talk time revokes the floor at its deadline", "[floor][server]") {
  ServerConfig config;
  config.max_talk_ms = 500;
  config.sweep_interval_ms = 1000;
  Room3 r(config);
  r.h.send(1, kRequest);
  CHECK(r.h.take(1).back()["maxTalkMs"] == 500);
  r.h.take(2), r.h.take(3);
  // The machine asks to be woken at the deadline, not at its next 1 s sweep.
  REQUIRE(r.h.server.next_timeout());
  CHECK(*r.h.server.next_timeout() == r.h.now + 500);
  r.h.advance(499);
  CHECK(r.h.take(2).empty());
  r.h.advance(1);
  const auto timeout = floor_msg(nullptr, 1, "timeout");
  CHECK(r.h.take(1) == std::vector<Json>{timeout});
  CHECK(r.h.take(2) == std::vector<Json>{timeout});
  r.h.advance(5000);
  CHECK(r.h.take(2).empty());  // once
  r.h.send(2, kRequest);
  CHECK(r.h.take(2).back()["epoch"] == 2);
}

TEST_CASE("a talker leaving frees the floor before the others hear it left", "[floor][server]") {
  Room3 r;
  r.h.send(1, kRequest);
  r.h.take(1), r.h.take(2), r.h.take(3);
  SECTION("with leave") { r.h.send(1, {{"type", "leave"}}); }
  SECTION("closing its page (1001)") { r.h.server.handle_close(1, 1001, r.h.now); }
  auto to2 = r.h.take(2);
  REQUIRE(to2.size() == 3);
  CHECK(to2[0] == floor_msg(nullptr, 1, "left"));
  CHECK(to2[1]["type"] == "peer-left");
  CHECK(to2[2]["type"] == "topology");  // three peers were a mesh, two are p2p
}

TEST_CASE("a talker whose socket drops loses the floor at once, not after its grace", "[floor][server]") {
  Room3 r;
  r.h.send(1, kRequest);
  r.h.take(1), r.h.take(2), r.h.take(3);
  SECTION("the socket closes abnormally") { r.h.server.handle_close(1, 1006, r.h.now); }
  SECTION("the heartbeat gives up on it") {
    for (int i = 0; i < 31; ++i) {
      r.h.advance(1000);
      for (chorus::ConnId c = 2; c <= 3; ++c) r.h.send(c, {{"type", "ping"}});
    }
    r.h.drain(0);
    REQUIRE(r.h.closed.size() == 1);
    CHECK(r.h.closed[0].code == 4002);
  }
  auto to2 = r.h.take(2);
  auto is_floor = [](const Json& m) { return m["type"] == "floor"; };
  REQUIRE(std::count_if(to2.begin(), to2.end(), is_floor) == 1);
  CHECK(*std::find_if(to2.begin(), to2.end(), is_floor) == floor_msg(nullptr, 1, "dropped"));
  CHECK(r.h.server.peer_count("r") == 3);  // the seat waits for a resume; the floor did not

  r.h.send(2, kRequest);
  CHECK(r.h.take(2).back()["epoch"] == 2);
}

TEST_CASE("a resume on a new socket while the old one looks alive drops the old grant", "[floor][server]") {
  Room3 r;
  Json w = r.h.join(4, "r", "x");
  r.h.take(1), r.h.take(2), r.h.take(3);
  r.h.send(4, kRequest);
  r.h.take(1), r.h.take(4);
  // Its client saw the socket die; the server did not yet.
  Json again = r.h.join(5, "r", "x", {{"resume", {{"peerId", w["peerId"]}, {"secret", w["secret"]}}}});
  CHECK(again["resumed"] == true);
  CHECK(again["floor"] == Json{{"holder", nullptr}, {"epoch", 1}, {"reason", "dropped"}});
  CHECK(r.h.take(1) == std::vector<Json>{floor_msg(nullptr, 1, "dropped")});
  CHECK(r.h.take(5).empty());  // its welcome said it; no floor message after it
}

TEST_CASE("a late joiner's welcome says who holds the floor", "[floor][server]") {
  Room3 r;
  Json fresh = r.h.join(9, "other", "n");
  CHECK(fresh["floor"] == Json{{"holder", nullptr}, {"epoch", 0}, {"reason", nullptr}});
  r.h.send(2, kRequest);
  Json late = r.h.join(4, "r", "late");
  CHECK(late["floor"] == Json{{"holder", r.id[2]}, {"epoch", 1}, {"reason", "granted"}});
}

TEST_CASE("epochs strictly increase across every kind of change", "[floor][server]") {
  ServerConfig config;
  config.max_talk_ms = 100;
  Room3 r(config);
  r.h.join(4, "r", "d", {{"role", "dispatcher"}});
  std::vector<std::uint32_t> grants;
  auto grant = [&](chorus::ConnId c) {
    r.h.send(c, kRequest);
    auto frames = r.h.take(c);
    REQUIRE(frames.back()["type"] == "floor-granted");
    grants.push_back(frames.back()["epoch"].get<std::uint32_t>());
  };
  grant(1);
  r.h.send(1, kRelease);
  grant(2);
  grant(2);  // idempotent: the same epoch
  grant(4);  // preempts
  r.h.advance(100);  // times out
  grant(3);
  r.h.server.handle_close(3, 1006, r.h.now);  // dropped
  grant(1);
  CHECK(grants == std::vector<std::uint32_t>{1, 2, 2, 3, 4, 5});
}

TEST_CASE("a release from someone who does not hold the floor is ignored", "[floor][server]") {
  Room3 r;
  r.h.send(1, kRequest);
  r.h.take(1), r.h.take(2), r.h.take(3);
  r.h.send(2, kRelease);
  CHECK(r.h.take(1).empty());
  CHECK(r.h.take(2).empty());  // no error: it may have crossed a timeout or a preemption
  CHECK(r.h.server.floor_state("r").holder == r.id[1]);

  r.h.connect(8);
  r.h.send(8, kRelease);
  auto to8 = r.h.take(8);
  REQUIRE(to8.size() == 1);
  CHECK(to8[0]["code"] == "not-joined");
  CHECK(to8[0]["ref"] == "floor-release");
}

TEST_CASE("a dispatcher claim the server does not allow is refused, not downgraded", "[floor][server]") {
  ServerConfig config = ServerConfig::from_json({{"floor", {{"maxTalkMs", 2500}, {"dispatchers", false}}}});
  CHECK(config.max_talk_ms == 2500);
  CHECK_FALSE(config.dispatchers);
  Harness h(config);
  Json refused = h.join(1, "r", "boss", {{"role", "dispatcher"}});
  CHECK(refused["type"] == "error");
  CHECK(refused["code"] == "floor-denied");
  CHECK(refused["ref"] == "join");
  CHECK(h.server.peer_count("r") == 0);
  // The socket goes on: the same client may join as a talker.
  h.send(1, {{"type", "join"}, {"v", 1}, {"room", "r"}, {"name", "boss"}});
  CHECK(h.take(1).at(0)["type"] == "welcome");
}

TEST_CASE("an emptied room forgets its floor: no timer left, epochs start again", "[floor][server]") {
  Harness h;
  h.join(1, "r", "a");
  h.send(1, kRequest);
  h.take(1);
  h.server.handle_close(1, 1000, h.now);
  CHECK_FALSE(h.server.next_timeout());
  h.join(2, "r", "b");
  h.send(2, kRequest);
  CHECK(h.take(2).back()["epoch"] == 1);
}

// ---- the client core ---------------------------------------------------------------------

TEST_CASE("client: grant, busy, release and a late joiner, through the real server", "[floor][session]") {
  sim::World w;
  auto& a = w.add_client("ann", 1);
  auto& b = w.add_client("bob", 2);
  w.join(a, "r");
  w.join(b, "r");
  w.run();
  w.input(a, {{"type", "floor-request"}, {"id", 11}});
  w.run();
  const std::string ann = a.session.peer_id();
  auto granted = events_of(a, "floorgranted");
  REQUIRE(granted.size() == 1);
  CHECK(granted[0] == Json{{"event", "floorgranted"}, {"id", 11}, {"epoch", 1}, {"maxTalkMs", 60000}});
  const Json held = {{"event", "floor"}, {"holder", ann}, {"epoch", 1}, {"reason", "granted"}};
  CHECK(events_of(a, "floor") == std::vector<Json>{held});
  CHECK(events_of(b, "floor") == std::vector<Json>{held});

  w.input(b, {{"type", "floor-request"}, {"id", 12}});
  w.run();
  auto denied = events_of(b, "floordenied");
  REQUIRE(denied.size() == 1);
  CHECK(denied[0]["id"] == 12);
  CHECK(denied[0]["code"] == "floor-denied");
  CHECK(denied[0]["reason"] == "busy");
  CHECK(denied[0]["holder"] == ann);

  auto& c = w.add_client("cy", 3);
  w.join(c, "r");
  w.run();
  CHECK(events_of(c, "floor") == std::vector<Json>{held});
  CHECK(*c.session.floor().holder == ann);

  w.input(a, kRelease);
  w.run();
  for (auto* x : {&a, &b, &c}) {
    CHECK(events_of(*x, "floor").back() == Json{{"event", "floor"}, {"holder", nullptr}, {"epoch", 1}, {"reason", "released"}});
  }
  CHECK(events_of(a, "floorrevoked").empty());  // released on purpose
}

TEST_CASE("client: preemption and the max talk time are revocations the UI sees", "[floor][session]") {
  ServerConfig config;
  config.max_talk_ms = 2000;
  sim::World w(config);
  auto& a = w.add_client("ann", 1);
  auto& d = w.add_client("dispatch", 2);
  w.join(a, "r");
  w.input(d, {{"type", "join"}, {"room", "r"}, {"name", "dispatch"}, {"role", "dispatcher"}});
  w.run();
  REQUIRE(events_of(a, "peerjoined").size() == 1);
  CHECK(events_of(a, "peerjoined")[0]["peer"]["role"] == "dispatcher");

  w.input(a, kRequest);
  w.run();
  w.input(d, kRequest);
  w.run();
  auto revoked = events_of(a, "floorrevoked");
  REQUIRE(revoked.size() == 1);
  CHECK(revoked[0] == Json{{"event", "floorrevoked"}, {"epoch", 1}, {"reason", "preempted"}, {"holder", d.session.peer_id()}});

  w.advance(2100);
  revoked = events_of(d, "floorrevoked");
  REQUIRE(revoked.size() == 1);
  CHECK(revoked[0]["reason"] == "timeout");
  CHECK(revoked[0]["epoch"] == 2);
  CHECK(events_of(a, "floor").back()["reason"] == "timeout");
}

TEST_CASE("client: a talker whose network drops is told at once, and after its resume once", "[floor][session]") {
  sim::World w;
  auto& a = w.add_client("ann", 1);
  auto& b = w.add_client("bob", 2);
  w.join(a, "r");
  w.join(b, "r");
  w.run();
  w.input(a, kRequest);
  w.run();
  w.drop_network(a);
  w.run();
  const Json dropped = {{"event", "floor"}, {"holder", nullptr}, {"epoch", 1}, {"reason", "dropped"}};
  CHECK(events_of(a, "floor").back() == dropped);
  CHECK(events_of(a, "floorrevoked").at(0)["reason"] == "dropped");
  CHECK(events_of(b, "floor").back() == dropped);

  a.offline = false;
  w.advance(3000);
  REQUIRE(a.session.state() == ClientSession::State::Joined);
  CHECK(events_of(a, "floor").size() == 2);  // granted, dropped: the welcome said nothing new
}

TEST_CASE("client: requests without a connection or without an answer are denied", "[floor][session]") {
  ClientSession s;
  auto drain = [&] {
    std::vector<Json> out;
    while (auto o = s.poll()) out.push_back(*o);
    return out;
  };
  auto find = [](const std::vector<Json>& out, const std::string& key, const std::string& value) {
    std::vector<Json> hits;
    for (const auto& o : out) {
      if (o.value(key, "") == value) hits.push_back(o);
    }
    return hits;
  };
  s.handle({{"type", "floor-request"}, {"id", 1}}, 0);
  auto out = find(drain(), "event", "floordenied");
  REQUIRE(out.size() == 1);
  CHECK(out[0]["code"] == "not-connected");

  s.handle({{"type", "join"}, {"room", "r"}, {"name", "a"}, {"role", "dispatcher"}}, 0);
  s.handle({{"type", "socket-open"}}, 0);
  auto sent = find(drain(), "action", "send");
  REQUIRE(sent.size() == 1);
  CHECK(Json::parse(sent[0]["data"].get<std::string>())["role"] == "dispatcher");
  s.handle_socket_message(R"({"type":"welcome","v":1,"room":"r","peerId":"me","secret":"0123456789abcdef","resumed":false,"peers":[]})", 0);
  drain();

  s.handle({{"type", "floor-request"}, {"id", 2}}, 100);
  sent = find(drain(), "action", "send");
  REQUIRE(sent.size() == 1);
  const Json wire = Json::parse(sent[0]["data"].get<std::string>());
  CHECK(wire["type"] == "floor-request");
  CHECK(*s.next_timeout() <= 5100);
  s.handle_timeout(5099);
  CHECK(find(drain(), "event", "floordenied").empty());
  s.handle_timeout(5100);
  out = find(drain(), "event", "floordenied");
  REQUIRE(out.size() == 1);
  CHECK(out[0]["id"] == 2);
  CHECK(out[0]["code"] == "floor-denied");
  CHECK(out[0]["reason"] == "timeout");

  SECTION("a grant that comes after the request gave up is handed back") {
    s.handle_socket_message(R"({"type":"floor-granted","id":)" + wire["id"].dump() + R"(,"epoch":1,"maxTalkMs":60000})", 5200);
    out = drain();
    CHECK(find(out, "event", "floorgranted").empty());
    sent = find(out, "action", "send");
    REQUIRE(sent.size() == 1);
    CHECK(Json::parse(sent[0]["data"].get<std::string>()) == Json{{"type", "floor-release"}});
  }
  SECTION("a pending request fails when the socket goes") {
    s.handle({{"type", "floor-request"}, {"id", 3}}, 6000);
    drain();
    s.handle({{"type", "socket-closed"}, {"code", 1006}}, 6001);
    out = find(drain(), "event", "floordenied");
    REQUIRE(out.size() == 1);
    CHECK(out[0]["id"] == 3);
    CHECK(out[0]["code"] == "not-connected");
    CHECK_FALSE((s.next_timeout() && *s.next_timeout() == 11000));  // its deadline went with it
  }
}

TEST_CASE("client: a refused dispatcher join fails the join with floor-denied", "[floor][session]") {
  ServerConfig config;
  config.dispatchers = false;
  sim::World w(config);
  auto& d = w.add_client("dispatch", 1);
  w.input(d, {{"type", "join"}, {"room", "r"}, {"name", "d"}, {"role", "dispatcher"}});
  w.run();
  CHECK(d.session.state() == ClientSession::State::Left);
  auto errors = events_of(d, "error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["code"] == "floor-denied");
  CHECK(errors[0]["fatal"] == true);

  auto& x = w.add_client("x", 2);
  w.input(x, {{"type", "join"}, {"room", "r"}, {"name", "x"}, {"role", "boss"}});
  CHECK(events_of(x, "error").at(0)["code"] == "bad-message");
  CHECK(x.session.state() == ClientSession::State::Left);
}
