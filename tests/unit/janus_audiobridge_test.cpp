// AudioBridgeParticipant against scripted Janus replies written from janus_audiobridge.c's
// header (Janus 1.1.2): room created on demand, join muted, configure with the offer, the
// participants list, mute/unmute, leave, errors.
#include "janus_harness.hpp"

using chorus::Json;
using chorus::janus::AudioBridgeConfig;
using chorus::janus::AudioBridgeParticipant;
using janus_test::answer_jsep;
using janus_test::Harness;

namespace {

constexpr std::uint64_t kRoom = 4321;
constexpr std::uint64_t kHandle = 30;
constexpr std::uint64_t kOurId = 9001;
const char* kAb = "janus.plugin.audiobridge";

Json participant(std::uint64_t id, const std::string& display, bool muted, bool setup = true) {
  return {{"id", id}, {"display", display}, {"setup", setup}, {"muted", muted}};
}

struct Bridge {
  Harness h;
  AudioBridgeParticipant* ab = nullptr;

  explicit Bridge(bool muted = false, Json create = {{"sampling_rate", 48000}}) {
    h.open();
    AudioBridgeConfig c;
    c.room = kRoom;
    c.display = "ann";
    c.muted = muted;
    c.create = std::move(create);
    ab = h.session.attach<AudioBridgeParticipant>(c, h.now);
    h.pump();
    h.attach(kHandle, kAb);
  }

  void joined(const Json& join, Json others) {
    h.audiobridge(join, {{"audiobridge", "joined"}, {"room", kRoom}, {"id", kOurId}, {"participants", std::move(others)}});
  }
  // The offer/answer after joined; returns the configure that carried the offer.
  Json connect() {
    auto offer = h.actions_named("janus-create-offer", "audiobridge");
    REQUIRE(offer.size() == 1);
    CHECK(offer[0]["audio"] == true);
    CHECK(offer[0]["video"] == false);
    CHECK(offer[0]["encodings"] == Json::array());
    CHECK(h.actions_named("janus-create-peer-connection", "audiobridge")[0]["direction"] == "sendrecv");
    h.local_description("audiobridge", "offer", "ab-offer");
    Json conf = h.take("message", "configure");
    CHECK(conf["jsep"] == janus_test::offer("ab-offer"));
    h.audiobridge(conf, {{"audiobridge", "event"}, {"result", "ok"}}, answer_jsep("ab-answer"));
    CHECK(h.last_action()["action"] == "janus-set-remote-description");
    h.remote_description_set("audiobridge");
    CHECK(h.handle_state("audiobridge") == "connected");
    return conf;
  }
  void event(Json data) { h.plugin_event(nullptr, kHandle, kAb, std::move(data)); }
  Json participants() { return h.last_event("janus-participants")["participants"]; }
};

}  // namespace

TEST_CASE("audiobridge: room created on demand, join muted, configure with the offer", "[janus]") {
  Bridge b(true, {{"sampling_rate", 16000}, {"audiolevel_event", true}});
  Json join = b.h.take("message", "join");
  CHECK(join["body"] == Json{{"request", "join"}, {"room", kRoom}, {"muted", true}, {"display", "ann"}});
  b.h.audiobridge(join, {{"audiobridge", "event"}, {"error_code", 485}, {"error", "No such room (4321)"}});
  CHECK(b.h.handle_state("audiobridge") == "creating-room");
  Json create = b.h.take("message", "create");
  CHECK(create["body"] == Json{{"request", "create"}, {"room", kRoom}, {"sampling_rate", 16000}, {"audiolevel_event", true}});
  b.h.plugin_success(create, kAb, {{"audiobridge", "created"}, {"room", kRoom}, {"permanent", false}});
  Json join2 = b.h.take("message", "join");
  b.joined(join2, Json::array({participant(9002, "bob", false)}));
  CHECK(b.h.last_event("janus-joined") == Json{{"event", "janus-joined"}, {"room", kRoom}, {"id", kOurId}, {"pc", "audiobridge"}});
  CHECK(b.participants() == Json::array({{{"id", 9002}, {"display", "bob"}, {"muted", false}, {"setup", true}, {"talking", false}}}));
  CHECK(b.h.handle_state("audiobridge") == "connecting");
  Json conf = b.connect();
  CHECK(conf["body"] == Json{{"request", "configure"}, {"muted", true}});
  CHECK(b.h.last_event("janus-muted")["muted"] == true);
  CHECK(b.ab->muted());
  CHECK(b.h.errors().empty());
}

TEST_CASE("audiobridge: mute and unmute, one request at a time, the latest wish wins", "[janus]") {
  Bridge b;
  b.joined(b.h.take("message", "join"), Json::array());
  // A wish before the connection is up rides with the offer's configure.
  b.ab->mute(true, b.h.now);
  b.h.pump();
  CHECK(b.h.nothing_sent());
  Json conf = b.connect();
  CHECK(conf["body"]["muted"] == true);
  CHECK(b.ab->muted());
  b.ab->mute(false, b.h.now);
  b.h.pump();
  Json m1 = b.h.take("message", "configure");
  CHECK(m1["body"] == Json{{"request", "configure"}, {"muted", false}});
  b.ab->mute(true, b.h.now);
  b.ab->mute(false, b.h.now);
  b.ab->mute(true, b.h.now);
  b.h.pump();
  CHECK(b.h.nothing_sent());  // waits for the answer
  b.h.audiobridge(m1, {{"audiobridge", "event"}, {"result", "ok"}});
  CHECK(b.h.last_event("janus-muted")["muted"] == false);
  Json m2 = b.h.take("message", "configure");
  CHECK(m2["body"]["muted"] == true);
  b.h.audiobridge(m2, {{"audiobridge", "event"}, {"result", "ok"}});
  CHECK(b.ab->muted());
  CHECK(b.h.nothing_sent());
  // A refused mute is reported and nothing is assumed.
  b.ab->mute(false, b.h.now);
  b.h.pump();
  b.h.audiobridge(b.h.take("message", "configure"), {{"audiobridge", "event"}, {"error_code", 487}, {"error", "Can't configure (not in a room)"}});
  CHECK(b.h.errors().back()["janusCode"] == 487);
  CHECK(b.ab->muted());
}

TEST_CASE("audiobridge: the participants list follows joined, mute changes, talking, leaving", "[janus]") {
  Bridge b;
  b.joined(b.h.take("message", "join"), Json::array({participant(9002, "bob", false)}));
  b.connect();
  b.event({{"audiobridge", "joined"}, {"room", kRoom}, {"participants", Json::array({participant(9003, "cy", false, false)})}});
  CHECK(b.participants().size() == 2);
  CHECK(b.participants()[1]["setup"] == false);
  b.event({{"audiobridge", "event"}, {"room", kRoom}, {"participants", Json::array({participant(9003, "cy", true)})}});
  CHECK(b.participants()[1]["muted"] == true);
  CHECK(b.participants()[1]["setup"] == true);
  b.event({{"audiobridge", "talking"}, {"room", kRoom}, {"id", 9002}, {"audio-level-dBov-avg", 40}});
  CHECK(b.participants()[0]["talking"] == true);
  const auto reports = b.h.events_named("janus-participants").size();
  b.event({{"audiobridge", "talking"}, {"room", kRoom}, {"id", 9002}});
  CHECK(b.h.events_named("janus-participants").size() == reports);  // no change, no report
  b.event({{"audiobridge", "stopped-talking"}, {"room", kRoom}, {"id", 9002}});
  CHECK(b.participants()[0]["talking"] == false);
  b.event({{"audiobridge", "event"}, {"room", kRoom}, {"leaving", 9002}});
  CHECK(b.participants().size() == 1);
  CHECK(b.participants()[0]["id"] == 9003);
  // Our own entry never shows; entries without an id are skipped; a string id is one (rooms
  // with string_ids); fields of the wrong type read as absent.
  b.event({{"audiobridge", "event"}, {"room", kRoom}, {"participants", Json::array({participant(kOurId, "ann", true), 5, {{"display", "x"}}, {{"id", "a b"}, {"muted", "no"}}})}});
  CHECK(b.participants().size() == 2);
  CHECK(b.participants()[0]["id"] == "a b");
  CHECK(b.participants()[0]["muted"] == false);
  CHECK(b.h.errors().empty());

  b.ab->leave(b.h.now);
  b.h.pump();
  CHECK(b.h.last_action() == Json{{"action", "janus-close-peer-connection"}, {"pc", "audiobridge"}});
  Json leave = b.h.take("message", "leave");
  b.h.audiobridge(leave, {{"audiobridge", "left"}, {"room", kRoom}, {"id", kOurId}});
  CHECK(b.h.handle_state("audiobridge") == "left");
  b.h.take("detach");
}

TEST_CASE("audiobridge: errors and hangup", "[janus]") {
  SECTION("join refused") {
    Bridge b;
    b.h.audiobridge(b.h.take("message", "join"), {{"audiobridge", "event"}, {"error_code", 489}, {"error", "Unauthorized (wrong pin)"}});
    Json err = b.h.errors().back();
    CHECK(err["code"] == "janus-error");
    CHECK(err["janusCode"] == 489);
    CHECK(err["request"] == "join");
    CHECK(err["fatal"] == true);
    CHECK(b.h.handle_state("audiobridge") == "failed");
  }
  SECTION("no room and no room config") {
    Bridge b(false, nullptr);
    b.h.audiobridge(b.h.take("message", "join"), {{"audiobridge", "event"}, {"error_code", 485}, {"error", "No such room (4321)"}});
    CHECK(b.h.errors().back()["janusCode"] == 485);
    CHECK(b.h.handle_state("audiobridge") == "failed");
  }
  SECTION("the room exists by the time we create it") {
    Bridge b;
    b.h.audiobridge(b.h.take("message", "join"), {{"audiobridge", "event"}, {"error_code", 485}, {"error", "No such room (4321)"}});
    b.h.plugin_success(b.h.take("message", "create"), kAb, {{"audiobridge", "event"}, {"error_code", 486}, {"error", "Room 4321 already exists"}});
    b.joined(b.h.take("message", "join"), Json::array());
    CHECK(b.h.errors().empty());
  }
  SECTION("configure with the offer refused") {
    Bridge b;
    b.joined(b.h.take("message", "join"), Json::array());
    b.h.local_description("audiobridge", "offer", "o");
    b.h.audiobridge(b.h.take("message", "configure"), {{"audiobridge", "event"}, {"error_code", 493}, {"error", "Invalid SDP"}});
    CHECK(b.h.errors().back()["janusCode"] == 493);
    CHECK(b.h.handle_state("audiobridge") == "failed");
    CHECK(b.h.last_action()["action"] == "janus-close-peer-connection");
  }
  SECTION("hangup takes us out of the mix; rejoin on a fresh handle") {
    Bridge b;
    b.joined(b.h.take("message", "join"), Json::array({participant(9002, "bob", false)}));
    b.connect();
    b.h.core_event("hangup", kHandle, {{"reason", "ICE failed"}});
    CHECK(b.h.handle_state("audiobridge") == "left");
    CHECK(b.h.last_action()["action"] == "janus-close-peer-connection");
    b.ab->rejoin(b.h.now);
    b.h.pump();
    b.h.take("detach");
    b.h.success(b.h.take("attach"), {{"id", 31}});
    Json join = b.h.take("message", "join");
    CHECK(join["handle_id"] == 31);
  }
  SECTION("kicked") {
    Bridge b;
    b.joined(b.h.take("message", "join"), Json::array());
    b.connect();
    b.event({{"audiobridge", "event"}, {"room", kRoom}, {"kicked", kOurId}});
    CHECK(b.h.errors().back()["fatal"] == true);
    CHECK(b.h.handle_state("audiobridge") == "failed");
  }
  SECTION("room destroyed") {
    Bridge b;
    b.joined(b.h.take("message", "join"), Json::array());
    b.event({{"audiobridge", "destroyed"}, {"room", kRoom}});
    CHECK(b.h.handle_state("audiobridge") == "failed");
  }
}
