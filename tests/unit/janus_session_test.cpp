// JanusSession against scripted Janus replies written from the Janus docs (mainpage.dox, "The
// session endpoint", "WebSockets Interface", "WebRTC-related events"): lifecycle, transactions,
// keepalive cadence, timeouts, session loss, routing, garbage.
#include <set>

#include "janus_harness.hpp"

using chorus::Json;
using chorus::janus::AudioBridgeConfig;
using chorus::janus::AudioBridgeParticipant;
using chorus::janus::JanusSession;
using chorus::janus::PublisherConfig;
using chorus::janus::SessionConfig;
using chorus::janus::SubscriberConfig;
using chorus::janus::VideoRoomPublisher;
using chorus::janus::VideoRoomSubscriber;
using janus_test::Harness;
using janus_test::kSessionId;

namespace {

PublisherConfig pub_config(bool publish = false) {
  PublisherConfig c;
  c.room = 1234;
  c.display = "ann";
  c.publish_on_join = publish;
  return c;
}

}  // namespace

TEST_CASE("session lifecycle: open, create, attach, destroy", "[janus]") {
  Harness h;
  h.session.connect(h.now);
  h.pump();
  REQUIRE(h.actions.size() == 1);
  CHECK(h.actions[0] == Json{{"action", "janus-open-socket"}, {"protocol", "janus-protocol"}});
  CHECK(h.last_event("janus-state")["state"] == "connecting");
  CHECK(h.nothing_sent());  // nothing before the socket is open

  // A handle asked for before the session exists waits for it.
  auto* pub = h.session.attach<VideoRoomPublisher>(pub_config(), h.now);
  REQUIRE(pub != nullptr);
  h.pump();
  CHECK(h.handle_state("publisher") == "attaching");
  CHECK(h.nothing_sent());

  h.input({{"type", "janus-socket-open"}});
  Json create = h.take("create");
  CHECK(create["transaction"].is_string());
  CHECK(!create.contains("session_id"));
  h.success(create, {{"id", kSessionId}});
  CHECK(h.session.state() == JanusSession::State::Ready);
  CHECK(h.last_event("janus-state") == Json{{"event", "janus-state"}, {"state", "ready"}, {"sessionId", kSessionId}});

  Json attach = h.take("attach");
  CHECK(attach["plugin"] == "janus.plugin.videoroom");
  CHECK(attach["session_id"] == kSessionId);
  h.success(attach, {{"id", 77}});
  CHECK(pub->attached());
  Json join = h.take("message", "join");
  CHECK(join["handle_id"] == 77);
  CHECK(join["session_id"] == kSessionId);

  h.session.close(h.now);
  h.pump();
  Json destroy = h.take("destroy");
  CHECK(destroy["session_id"] == kSessionId);
  CHECK(h.last_action() == Json{{"action", "janus-close-socket"}, {"code", 1000}});
  CHECK(h.last_event("janus-state")["state"] == "closed");
  CHECK(h.handle_state("publisher") == "closed");
  CHECK(h.session.transactions_in_flight() == 0);
  CHECK(h.errors().empty());
  // A late frame after the close goes nowhere.
  h.videoroom(join, {{"videoroom", "joined"}, {"room", 1234}, {"id", 5}, {"publishers", Json::array()}});
  CHECK(h.errors().empty());
}

TEST_CASE("every request has its own transaction id; token and apisecret ride along", "[janus]") {
  SessionConfig config;
  config.token = "tok";
  config.apisecret = "sec";
  Harness h(config);
  h.open();
  h.session.attach<VideoRoomPublisher>(pub_config(), h.now);
  PublisherConfig c2 = pub_config();
  c2.pc = "publisher2";
  h.session.attach<VideoRoomPublisher>(c2, h.now);
  h.pump();
  std::set<std::string> ids;
  for (const auto& m : h.sent) {
    ids.insert(m["transaction"].get<std::string>());
    CHECK(m["token"] == "tok");
    CHECK(m["apisecret"] == "sec");
  }
  CHECK(ids.size() == h.sent.size());
  CHECK(h.sent.size() == 2);
  // A second handle with a taken pc name is refused.
  CHECK(h.session.attach<VideoRoomPublisher>(pub_config(), h.now) == nullptr);
  h.pump();
  CHECK(h.errors().back()["code"] == "bad-message");
}

TEST_CASE("keepalives go out only when nothing else was sent for the interval", "[janus]") {
  SessionConfig config;
  config.keepalive_interval_ms = 25000;
  config.request_timeout_ms = 1e9;  // the join below stays unanswered
  Harness h(config);
  h.open();
  const double t0 = h.now;
  h.advance(24999);
  CHECK(h.nothing_sent());
  h.advance(1);
  Json k = h.take("keepalive");
  CHECK(k["session_id"] == kSessionId);
  h.ack(k);
  // Traffic postpones the next one: a request at +10 s moves it to +35 s.
  h.advance(10000);
  h.session.attach<AudioBridgeParticipant>(AudioBridgeConfig{"audiobridge", 9}, h.now);
  h.pump();
  Json attach = h.take("attach");
  h.success(attach, {{"id", 5}});
  h.take("message", "join");  // sent at the same time
  h.advance(24999);
  CHECK(h.nothing_sent());
  h.advance(1);
  h.ack(h.take("keepalive"));
  // Idle for 100 s more: exactly 4 keepalives, 25 s apart, each acked.
  int count = 0;
  for (int i = 0; i < 100; ++i) {
    h.advance(1000);
    while (!h.sent.empty()) {
      Json m = h.take("keepalive");
      h.ack(m);
      ++count;
    }
  }
  CHECK(count == 4);
  CHECK(h.now - t0 == Approx(160000));
  CHECK(h.session.state() == JanusSession::State::Ready);
  CHECK(h.errors().empty());
  CHECK(h.session.transactions_in_flight() == 1);  // the join nobody answered yet
}

TEST_CASE("an unanswered keepalive loses the session", "[janus]") {
  SessionConfig config;
  config.keepalive_interval_ms = 25000;
  config.request_timeout_ms = 5000;
  Harness h(config);
  h.open();
  auto* pub = h.session.attach<VideoRoomPublisher>(pub_config(true), h.now);
  h.pump();
  h.attach(10, "janus.plugin.videoroom");
  Json join = h.take("message", "join");
  h.videoroom(join, {{"videoroom", "joined"}, {"room", 1234}, {"id", 5}, {"private_id", 6}, {"publishers", Json::array()}});
  REQUIRE(h.actions_named("janus-create-peer-connection").size() == 1);
  h.advance(25000);
  h.take("keepalive");  // Janus went silent
  h.advance(4999);
  CHECK(h.session.state() == JanusSession::State::Ready);
  h.advance(1);
  CHECK(h.session.state() == JanusSession::State::Lost);
  Json err = h.errors().back();
  CHECK(err["code"] == "janus-timeout");
  CHECK(err["fatal"] == true);
  CHECK(!err.contains("pc"));
  CHECK(h.last_event("janus-state")["state"] == "lost");
  CHECK(h.actions_named("janus-close-socket").size() == 1);
  CHECK(h.actions_named("janus-close-peer-connection", "publisher").size() == 1);
  CHECK(h.handle_state("publisher") == "lost");
  CHECK(!pub->attached());
  CHECK(!h.session.next_timeout());  // nothing left to wake up for
  // Lost is terminal: inputs do nothing, new handles are refused.
  h.input({{"type", "janus-socket-closed"}, {"code", 1006}});
  CHECK(h.session.attach<VideoRoomPublisher>(pub_config(), h.now) == nullptr);
}

TEST_CASE("connect failures: no socket, no create answer, socket closed, Janus timeout", "[janus]") {
  SECTION("the socket cannot open") {
    Harness h;
    h.session.connect(h.now);
    h.pump();
    h.input({{"type", "janus-socket-closed"}, {"code", 1006}});
    CHECK(h.session.state() == JanusSession::State::Lost);
    CHECK(h.errors().back()["code"] == "janus-unreachable");
    CHECK(h.actions_named("janus-close-socket").empty());  // it is closed already
  }
  SECTION("the socket never opens") {
    SessionConfig config;
    config.connect_timeout_ms = 3000;
    Harness h(config);
    h.session.connect(h.now);
    h.pump();
    h.advance(3000);
    CHECK(h.session.state() == JanusSession::State::Lost);
    CHECK(h.errors().back()["code"] == "janus-unreachable");
    CHECK(h.actions_named("janus-close-socket").size() == 1);
  }
  SECTION("create is never answered") {
    SessionConfig config;
    config.request_timeout_ms = 4000;
    Harness h(config);
    h.session.connect(h.now);
    h.input({{"type", "janus-socket-open"}});
    h.take("create");
    h.advance(4000);
    CHECK(h.session.state() == JanusSession::State::Lost);
    CHECK(h.errors().back()["code"] == "janus-timeout");
  }
  SECTION("create is refused") {
    Harness h;
    h.session.connect(h.now);
    h.input({{"type", "janus-socket-open"}});
    h.error(h.take("create"), 472, "Not accepting new sessions");
    CHECK(h.session.state() == JanusSession::State::Lost);
    CHECK(h.errors().back()["code"] == "janus-error");
  }
  SECTION("the socket closes under a ready session") {
    Harness h;
    h.open();
    h.input({{"type", "janus-socket-closed"}, {"code", 1006}});
    CHECK(h.session.state() == JanusSession::State::Lost);
    CHECK(h.errors().back()["code"] == "janus-unreachable");
    CHECK(h.errors().back()["fatal"] == true);
  }
  SECTION("Janus times the session out") {
    Harness h;
    h.open();
    h.frame({{"janus", "timeout"}, {"session_id", kSessionId}});
    CHECK(h.session.state() == JanusSession::State::Lost);
    CHECK(h.errors().back()["code"] == "janus-timeout");
    CHECK(h.actions_named("janus-close-socket").size() == 1);
  }
}

TEST_CASE("a plugin request that times out is a typed error for its handle; a late answer is dropped", "[janus]") {
  SessionConfig config;
  config.request_timeout_ms = 8000;
  Harness h(config);
  h.open();
  h.session.attach<VideoRoomPublisher>(pub_config(), h.now);
  h.pump();
  h.attach(10, "janus.plugin.videoroom");
  Json join = h.take("message", "join");
  h.ack(join);  // accepted, but the event never comes
  h.advance(8000);
  Json err = h.errors().back();
  CHECK(err["code"] == "janus-timeout");
  CHECK(err["pc"] == "publisher");
  CHECK(err["request"] == "join");
  CHECK(err["fatal"] == true);
  CHECK(h.handle_state("publisher") == "failed");
  CHECK(h.session.state() == JanusSession::State::Ready);  // the session goes on
  const auto n = h.errors().size();
  h.videoroom(join, {{"videoroom", "joined"}, {"room", 1234}, {"id", 5}, {"publishers", Json::array()}});
  CHECK(h.errors().size() == n);  // too late, quietly
  CHECK(h.handle_state("publisher") == "failed");
}

TEST_CASE("Janus-level error replies carry Janus's code and reason", "[janus]") {
  Harness h;
  h.open();
  h.session.attach<VideoRoomPublisher>(pub_config(), h.now);
  h.pump();
  SECTION("attach refused: plugin missing") {
    h.error(h.take("attach"), 460, "No such plugin 'janus.plugin.videoroom'");
    Json err = h.errors().back();
    CHECK(err["code"] == "janus-error");
    CHECK(err["janusCode"] == 460);
    CHECK(err["message"] == "No such plugin 'janus.plugin.videoroom'");
    CHECK(err["request"] == "attach");
    CHECK(err["pc"] == "publisher");
    CHECK(h.handle_state("publisher") == "failed");
  }
  SECTION("a message refused by the core (handle gone)") {
    h.attach(10, "janus.plugin.videoroom");
    h.error(h.take("message", "join"), 459, "No such handle 10 in session 4000000001");
    Json err = h.errors().back();
    CHECK(err["janusCode"] == 459);
    CHECK(err["request"] == "join");
    CHECK(h.handle_state("publisher") == "failed");
  }
}

TEST_CASE("events are routed to their handle by sender; WebRTC events are reported", "[janus]") {
  Harness h;
  h.open();
  h.session.attach<VideoRoomPublisher>(pub_config(true), h.now);
  AudioBridgeConfig ab;
  ab.room = 55;
  h.session.attach<AudioBridgeParticipant>(ab, h.now);
  h.pump();
  h.attach(10, "janus.plugin.videoroom");
  h.attach(20, "janus.plugin.audiobridge");
  Json vjoin = h.take("message", "join");
  Json ajoin = h.take("message", "join");
  CHECK(vjoin["handle_id"] == 10);
  CHECK(ajoin["handle_id"] == 20);
  // Answers out of order still find their request.
  h.audiobridge(ajoin, {{"audiobridge", "joined"}, {"room", 55}, {"id", 3}, {"participants", Json::array()}});
  h.videoroom(vjoin, {{"videoroom", "joined"}, {"room", 1234}, {"id", 5}, {"publishers", Json::array()}});
  CHECK(h.handle_state("publisher") == "publishing");
  CHECK(h.handle_state("audiobridge") == "connecting");

  h.core_event("webrtcup", 20);
  CHECK(h.last_event("janus-webrtcup")["pc"] == "audiobridge");
  h.core_event("media", 10, {{"mid", "1"}, {"type", "video"}, {"receiving", true}});
  CHECK(h.last_event("janus-media") ==
        Json{{"event", "janus-media"}, {"mid", "1"}, {"type", "video"}, {"receiving", true}, {"pc", "publisher"}});
  h.core_event("slowlink", 10, {{"mid", "1"}, {"media", "video"}, {"uplink", true}, {"lost", 12}});
  CHECK(h.last_event("janus-slowlink")["lost"] == 12);
  CHECK(h.last_event("janus-slowlink")["pc"] == "publisher");
  // An event for a handle we do not have is not ours to apply.
  const auto n = h.events.size();
  h.core_event("webrtcup", 999);
  CHECK(h.events.size() == n);
  // Janus trickles its candidates: queued until its description is applied.
  h.core_event("trickle", 20, {{"candidate", {{"sdpMid", "0"}, {"sdpMLineIndex", 0}, {"candidate", "candidate:1 1 udp 1 10.0.0.1 5000 typ host"}}}});
  h.core_event("trickle", 20, {{"candidate", {{"completed", true}}}});
  CHECK(h.actions_named("janus-add-ice-candidate").empty());
  h.local_description("audiobridge", "offer", "o-ab");
  Json conf = h.take("message", "configure");
  h.audiobridge(conf, {{"audiobridge", "event"}, {"result", "ok"}}, janus_test::answer_jsep("a-ab"));
  auto adds = h.actions_named("janus-add-ice-candidate", "audiobridge");
  REQUIRE(adds.size() == 2);
  CHECK(adds[0]["candidate"]["sdpMid"] == "0");
  CHECK(adds[1]["candidate"].is_null());
}

TEST_CASE("garbage from Janus is a typed error and the session goes on", "[janus]") {
  SessionConfig config;
  config.request_timeout_ms = 5000;
  Harness h(config);
  h.open();
  h.session.attach<VideoRoomPublisher>(pub_config(), h.now);
  h.pump();
  h.attach(10, "janus.plugin.videoroom");
  Json join = h.take("message", "join");
  auto code_of_last = [&] { return h.errors().back()["code"].get<std::string>(); };

  h.raw("{not json");
  CHECK(code_of_last() == "bad-json");
  h.raw(std::string("{\"janus\":\"ack\"}\0garbage", 23));
  CHECK(code_of_last() == "bad-json");
  h.raw("[1,2,3]");
  CHECK(code_of_last() == "bad-message");
  h.raw("{\"janus\": 7}");
  CHECK(code_of_last() == "bad-message");
  h.raw(std::string(100, '[') + std::string(100, ']'));
  CHECK(code_of_last() == "bad-json");  // nesting beyond the limit
  h.frame({{"janus", "success"}, {"transaction", "never-sent"}});
  CHECK(code_of_last() == "bad-message");
  h.frame({{"janus", "ack"}});
  CHECK(code_of_last() == "bad-message");
  h.frame({{"janus", "surprise"}});
  CHECK(code_of_last() == "unknown-type");
  h.frame({{"janus", "event"}, {"session_id", 1}, {"sender", 10}});
  CHECK(code_of_last() == "bad-message");  // another session's
  h.frame({{"janus", "event"}, {"session_id", kSessionId}, {"sender", 10}, {"plugindata", 5}});
  CHECK(code_of_last() == "bad-message");
  h.frame({{"janus", "event"}, {"session_id", kSessionId}, {"sender", "10"}, {"plugindata", {{"data", {}}}}});
  h.frame({{"janus", "trickle"}, {"session_id", kSessionId}, {"sender", 10}, {"candidate", "x"}});
  CHECK(code_of_last() == "bad-message");
  h.frame({{"janus", "media"}, {"session_id", kSessionId}, {"sender", 10}, {"mid", 5}, {"receiving", "yes"}});
  CHECK(h.last_event("janus-media")["mid"] == "");  // wrong types read as absent

  // Wrong types in an answer to a real request: the request fails, typed.
  h.frame({{"janus", "event"}, {"session_id", kSessionId}, {"sender", 10}, {"transaction", join["transaction"]},
           {"plugindata", {{"plugin", "janus.plugin.videoroom"}, {"data", {{"videoroom", "joined"}, {"id", true}, {"room", 1234}}}}}});
  CHECK(code_of_last() == "bad-message");
  CHECK(h.handle_state("publisher") == "failed");

  // Still alive: keepalives flow and are acked.
  CHECK(h.session.state() == JanusSession::State::Ready);
  h.advance(25000);
  h.ack(h.take_next("keepalive"));
  CHECK(h.session.state() == JanusSession::State::Ready);
  int fatal = 0;
  for (const auto& e : h.errors()) fatal += e["fatal"] == true;
  CHECK(fatal == 1);  // only the handle whose join answer was unusable
}

TEST_CASE("inputs from the glue are validated", "[janus]") {
  Harness h;
  h.open();
  h.input(Json::object());
  CHECK(h.errors().back()["code"] == "bad-message");
  h.input({{"type", "warp"}});
  CHECK(h.errors().back()["code"] == "unknown-type");
  h.session.handle_text("nope", h.now);
  h.pump();
  CHECK(h.errors().back()["code"] == "bad-json");
  h.input({{"type", "icecandidate"}});
  CHECK(h.errors().back()["code"] == "bad-message");
  const auto n = h.errors().size();
  h.input({{"type", "icecandidate"}, {"pc", "nobody"}, {"candidate", nullptr}});
  CHECK(h.errors().size() == n);  // a pc we do not know (closed already): ignored
}

TEST_CASE("requests in flight are bounded", "[janus]") {
  SessionConfig config;
  config.max_transactions = 8;
  config.request_timeout_ms = 1000;
  Harness h(config);
  h.open();
  h.session.attach<VideoRoomPublisher>(pub_config(true), h.now);
  h.pump();
  h.attach(10, "janus.plugin.videoroom");
  h.videoroom(h.take("message", "join"), {{"videoroom", "joined"}, {"room", 1234}, {"id", 5}, {"publishers", Json::array()}});
  h.local_description("publisher", "offer", "o");
  h.take("message", "configure");  // never answered
  for (int i = 0; i < 50; ++i) {
    h.candidate("publisher", {{"candidate", "candidate:" + std::to_string(i) + " 1 udp 1 10.0.0.2 1 typ host"},
                              {"sdpMid", "0"}, {"sdpMLineIndex", 0}});
  }
  CHECK(h.sent.size() <= 8);  // the rest was never sent
  h.advance(1000);
  // All expired; the publisher, its configure unanswered, sent an unpublish meanwhile.
  CHECK(h.session.transactions_in_flight() <= 1);
  bool configure_timed_out = false;
  for (const auto& e : h.errors()) configure_timed_out |= e.value("request", "") == "configure";
  CHECK(configure_timed_out);
  CHECK(h.session.state() == JanusSession::State::Ready);
}

TEST_CASE("remove() detaches one handle; Janus detaching one by itself fails it", "[janus]") {
  Harness h;
  h.open();
  PublisherConfig pc = pub_config(true);
  pc.room = 1234.0;  // a whole number through a double (JavaScript) is sent as an integer
  h.session.attach<VideoRoomPublisher>(pc, h.now);
  AudioBridgeConfig ab;
  ab.room = 55;
  h.session.attach<AudioBridgeParticipant>(ab, h.now);
  h.pump();
  h.attach(10, "janus.plugin.videoroom");
  h.attach(20, "janus.plugin.audiobridge");
  Json join = h.take("message", "join");
  CHECK(join["body"]["room"].is_number_unsigned());
  CHECK(join.dump().find("1234.0") == std::string::npos);
  h.videoroom(join, {{"videoroom", "joined"}, {"room", 1234}, {"id", 5}, {"publishers", Json::array()}});
  h.take("message", "join");  // the audiobridge's
  REQUIRE(h.actions_named("janus-create-peer-connection", "publisher").size() == 1);

  h.session.remove("publisher", h.now);
  h.pump();
  CHECK(h.session.find("publisher") == nullptr);
  CHECK(h.last_action() == Json{{"action", "janus-close-peer-connection"}, {"pc", "publisher"}});
  Json detach = h.take("detach");
  CHECK(detach["handle_id"] == 10);
  h.success(detach, Json::object());
  h.core_event("detached", 10);
  CHECK(h.errors().empty());
  // Its name is free again.
  CHECK(h.session.attach<VideoRoomPublisher>(pub_config(), h.now) != nullptr);

  // Janus drops the audiobridge handle on its own (e.g. the plugin went away).
  h.core_event("detached", 20);
  Json err = h.errors().back();
  CHECK(err["pc"] == "audiobridge");
  CHECK(err["fatal"] == true);
  CHECK(h.handle_state("audiobridge") == "failed");
  CHECK(h.session.state() == JanusSession::State::Ready);
}
