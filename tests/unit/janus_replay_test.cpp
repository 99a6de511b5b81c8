// The Janus machines against REAL Janus 1.1.2 replies (tests/vectors/janus/, recorded by
// tools/janus/record-replies.mjs with Chromium's SDP): the recordings answer what the machines
// send (janus_replay.hpp). Each test follows one recorded client through its whole life.
#include "janus_replay.hpp"

using chorus::Json;
using chorus::janus::AudioBridgeConfig;
using chorus::janus::AudioBridgeParticipant;
using chorus::janus::JanusSession;
using chorus::janus::PublisherConfig;
using chorus::janus::SessionConfig;
using chorus::janus::SubscriberConfig;
using chorus::janus::VideoRoomPublisher;
using chorus::janus::VideoRoomSubscriber;
using janus_replay::find_exchange;
using janus_replay::load;
using janus_replay::Player;
using janus_test::Harness;

namespace {

// Placeholder ids of the recordings (README: numbered by first appearance per file).
const Json kSession1 = 1000000000000001ULL;
const Json kHandle1 = 2000000000000001ULL;
const Json kFeed1 = 3000000000000001ULL, kFeed2 = 3000000000000002ULL, kFeed3 = 3000000000000003ULL;

void open(Harness& h, Player& p) {
  h.session.connect(h.now);
  h.input({{"type", "janus-socket-open"}});
  p.answer();
  REQUIRE(h.session.state() == JanusSession::State::Ready);
}

// The glue's part of a publish: the offer is set, the recorded candidates are gathered.
void publish_offer(Harness& h, Player& p, const std::string& pc, const janus_replay::Exchange& x) {
  h.local_description(pc, "offer", "<our offer>");
  p.answer();
  for (const auto& c : Player::candidates(x)) h.candidate(pc, c);
  h.candidate(pc, nullptr);
  p.answer();
}

// The glue's part of answering Janus's offer on the subscriber pc.
void answer_offer(Harness& h, Player& p) {
  REQUIRE(h.last_action()["action"] == "janus-set-remote-description");
  h.remote_description_set("subscriber");
  REQUIRE(h.last_action()["action"] == "janus-set-local-description");
  h.local_description("subscriber", "answer", "<our answer>");
  p.answer();
}

std::vector<Json> substreams(const Harness& h) {
  std::vector<Json> r;
  for (const auto& e : h.events_named("janus-substream")) r.push_back(e["substream"]);
  return r;
}

}  // namespace

TEST_CASE("replay session.json: create, attach, keepalive, detach, destroy", "[janus][replay]") {
  const auto all = load("session");
  SessionConfig config;
  config.request_timeout_ms = 1e9;  // the joins below are not part of this recording
  Harness h(config);
  Player p(h, all, "ann");
  open(h, p);
  CHECK(h.last_event("janus-state")["sessionId"] == kSession1);
  PublisherConfig pc;
  pc.room = 1001;
  pc.publish_on_join = false;
  auto* pub = h.session.attach<VideoRoomPublisher>(pc, h.now);
  AudioBridgeConfig ac;
  ac.room = 1002;
  auto* ab = h.session.attach<AudioBridgeParticipant>(ac, h.now);
  h.pump();
  p.answer();
  CHECK(pub->attached());
  CHECK(ab->attached());
  h.take_next("message", "join");
  h.take_next("message", "join");
  h.advance(25000);
  p.answer();  // the keepalive, acked as recorded
  CHECK(p.unused("keepalive").empty());
  h.session.remove("audiobridge", h.now);
  p.answer();  // success, then `detached` for a handle we no longer have
  h.session.remove("publisher", h.now);
  p.answer();
  CHECK(p.unused("detach").empty());
  h.session.close(h.now);
  h.pump();
  p.answer();
  CHECK(p.unused("destroy session").empty());
  CHECK(h.errors().empty());
}

TEST_CASE("replay videoroom.json (alice): publish with simulcast, one multistream subscription through publishers coming and going", "[janus][replay]") {
  const auto all = load("videoroom");
  Harness h;
  Player p(h, all, "alice");
  open(h, p);

  PublisherConfig pc;
  pc.room = 1001;
  pc.display = "alice";
  auto* pub = h.session.attach<VideoRoomPublisher>(pc, h.now);
  h.pump();
  p.answer();
  CHECK(h.last_event("janus-joined")["id"] == kFeed1);
  CHECK(h.last_event("janus-joined")["privateId"] == 4000000001);
  CHECK(h.last_event("janus-publishers")["publishers"] == Json::array());
  REQUIRE(h.last_action()["action"] == "janus-create-offer");
  publish_offer(h, p, "publisher", find_exchange(all, "publish: configure with a simulcast offer"));
  CHECK(h.last_action()["action"] == "janus-set-remote-description");
  CHECK(h.last_action()["description"]["type"] == "answer");
  h.remote_description_set("publisher");
  CHECK(h.handle_state("publisher") == "published");
  CHECK(h.last_event("janus-webrtcup")["pc"] == "publisher");
  CHECK(h.events_named("janus-media").size() >= 2);

  p.deliver("publishers event: another publisher");
  p.deliver("publishers event: audio-only publisher");
  Json list = h.last_event("janus-publishers")["publishers"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["display"] == "bob");
  CHECK(list[1]["display"] == "carol");

  // The subscriber, attached now, takes both from the publisher handle and joins once.
  SubscriberConfig sc;
  sc.room = 1001;
  auto* sub = h.session.attach<VideoRoomSubscriber>(sc, h.now);
  h.pump();
  CHECK(h.sent.back()["janus"] == "attach");
  Json before = h.sent.back();
  p.answer();
  CHECK(h.handle_state("subscriber") == "active");
  Json streams = h.last_event("janus-streams")["streams"];
  REQUIRE(streams.size() == 3);
  CHECK(streams[0] == Json{{"mid", "0"}, {"type", "audio"}, {"active", true}, {"feed", kFeed2}, {"feedMid", "0"}, {"display", "bob"}});
  CHECK(sub->feed_for_mid("1") == kFeed2);
  CHECK(sub->feed_for_mid("2") == kFeed3);
  answer_offer(h, p);
  for (const auto& c : Player::candidates(find_exchange(all, "subscriber start with answer"))) h.candidate("subscriber", c);
  h.candidate("subscriber", nullptr);
  p.answer();
  CHECK(h.last_event("janus-webrtcup")["pc"] == "subscriber");
  CHECK(substreams(h) == std::vector<Json>{2});

  // Simulcast: down to 0 (through 1), back to 2.
  sub->set_substream("1", 0, h.now);
  p.answer();
  CHECK(substreams(h) == std::vector<Json>{2, 1, 0});
  CHECK(h.last_event("janus-substream")["feed"] == kFeed2);
  sub->set_substream("1", 2, h.now);
  p.answer();
  CHECK(substreams(h).back() == 2);

  // Carol adds video: only that stream is asked for, by mid, exactly as recorded.
  p.deliver("publishers event: a publisher adds a stream");
  CHECK(p.unused("subscribe to an added stream: updated with a new offer").size() == 1);  // its start waits
  answer_offer(h, p);
  CHECK(p.unused("subscribe to an added stream: updated with a new offer").empty());
  CHECK(sub->feed_for_mid("3") == kFeed3);
  CHECK(h.last_event("janus-streams")["streams"].size() == 4);

  // Bob unpublishes: Janus's own re-offer (autoupdate), nothing asked.
  p.deliver("a publisher unpublishes: unpublished event and autoupdate re-offer");
  answer_offer(h, p);
  CHECK(sub->feed_for_mid("0").is_null());
  CHECK(sub->feed_for_mid("1").is_null());
  CHECK(h.last_event("janus-publishers")["publishers"].size() == 1);
  p.deliver("leaving event");
  CHECK(h.nothing_sent());

  // Carol leaves while publishing: Janus leaves her streams; we unsubscribe them by mid.
  p.deliver("a publisher leaves while publishing");
  CHECK(h.last_event("janus-publishers")["publishers"] == Json::array());
  Json un = h.take("message", "unsubscribe");
  CHECK(un["body"]["streams"] == Json::array({{{"sub_mid", "2"}}, {{"sub_mid", "3"}}}));
  // (Not in the recordings: answered as the VideoRoom docs say.)
  Json gone = Json::array();
  for (int m = 0; m < 4; ++m) {
    gone.push_back({{"type", m % 2 ? "video" : "audio"}, {"active", false}, {"mindex", m}, {"mid", std::to_string(m)}, {"ready", false}, {"send", true}});
  }
  h.videoroom(un, {{"videoroom", "updated"}, {"room", 1001}, {"streams", gone}}, janus_test::offer("<re-offer>"));
  h.remote_description_set("subscriber");
  h.local_description("subscriber", "answer", "<our answer>");
  h.videoroom(h.take("message", "start"), {{"videoroom", "event"}, {"room", 1001}, {"started", "ok"}});
  CHECK(sub->subscribed_feeds() == 0);

  // Teardown as recorded: subscriber leave, publisher leave (we unpublish first), detach, destroy.
  sub->leave(h.now);
  p.answer();
  CHECK(h.handle_state("subscriber") == "left");
  pub->leave(h.now);
  h.pump();
  p.answer();
  CHECK(h.handle_state("publisher") == "left");
  h.videoroom(h.take("message", "unpublish"), {{"videoroom", "event"}, {"room", 1001}, {"unpublished", "ok"}});
  h.session.close(h.now);
  h.pump();
  p.answer();
  CHECK(p.unused("teardown").empty());
  CHECK(h.errors().empty());
  (void)before;
}

TEST_CASE("replay videoroom.json (bob): join with a publishers list, publish, unpublish, leave", "[janus][replay]") {
  const auto all = load("videoroom");
  Harness h;
  Player p(h, all, "bob");
  open(h, p);
  PublisherConfig pc;
  pc.room = 1001;
  pc.display = "bob";
  auto* pub = h.session.attach<VideoRoomPublisher>(pc, h.now);
  h.pump();
  p.answer();
  Json list = h.last_event("janus-publishers")["publishers"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["id"] == kFeed1);
  CHECK(list[0]["display"] == "alice");
  CHECK(list[0]["streams"][1]["simulcast"] == true);
  publish_offer(h, p, "publisher", find_exchange(all, "bob: publish with simulcast"));
  h.remote_description_set("publisher");
  CHECK(pub->published());
  pub->unpublish(h.now);
  h.pump();
  p.answer();  // unpublished ok, and Janus's hangup for the pc we closed
  CHECK(h.handle_state("publisher") == "joined");
  CHECK(h.events_named("janus-hangup").empty());
  pub->leave(h.now);
  h.pump();
  p.answer();
  CHECK(h.handle_state("publisher") == "left");
  h.take("detach");  // bob's recording destroys the session instead
  h.session.close(h.now);
  h.pump();
  p.answer();
  CHECK(h.errors().empty());
}

TEST_CASE("replay audiobridge.json (dave, erin): join, configure with the offer, participants, mute", "[janus][replay]") {
  const auto all = load("audiobridge");
  SECTION("dave") {
    Harness h;
    Player p(h, all, "dave");
    open(h, p);
    AudioBridgeConfig c;
    c.room = 1002;
    c.display = "dave";
    auto* ab = h.session.attach<AudioBridgeParticipant>(c, h.now);
    h.pump();
    p.answer();
    CHECK(ab->participant_id() == kFeed1);
    CHECK(h.last_event("janus-participants")["participants"] == Json::array());
    publish_offer(h, p, "audiobridge", find_exchange(all, "configure with offer", "dave"));
    h.remote_description_set("audiobridge");
    CHECK(h.handle_state("audiobridge") == "connected");
    CHECK(h.last_event("janus-muted")["muted"] == false);
    CHECK(h.last_event("janus-webrtcup")["pc"] == "audiobridge");

    auto erin = [&] { return h.last_event("janus-participants")["participants"].at(0); };
    p.deliver("participants event: someone joins");
    CHECK(erin()["display"] == "erin");
    CHECK(erin()["setup"] == false);
    p.deliver("participants event: someone connects audio");
    CHECK(erin()["setup"] == true);
    p.deliver("participants event: muted");
    CHECK(erin()["muted"] == true);
    p.deliver("participants event: unmuted");
    CHECK(erin()["muted"] == false);
    p.deliver("leaving event");
    CHECK(h.last_event("janus-participants")["participants"] == Json::array());
    h.session.close(h.now);
    h.pump();
    p.answer();
    CHECK(h.errors().empty());
  }
  SECTION("erin") {
    Harness h;
    Player p(h, all, "erin");
    open(h, p);
    AudioBridgeConfig c;
    c.room = 1002;
    c.display = "erin";
    auto* ab = h.session.attach<AudioBridgeParticipant>(c, h.now);
    h.pump();
    p.answer();
    Json others = h.last_event("janus-participants")["participants"];
    REQUIRE(others.size() == 1);
    CHECK(others[0]["id"] == kFeed1);
    CHECK(others[0]["setup"] == true);
    publish_offer(h, p, "audiobridge", find_exchange(all, "erin: configure with offer"));
    h.remote_description_set("audiobridge");
    CHECK(h.handle_state("audiobridge") == "connected");
    ab->mute(true, h.now);
    p.answer();
    CHECK(ab->muted());
    CHECK(h.last_event("janus-muted")["muted"] == true);
    ab->mute(false, h.now);
    p.answer();
    CHECK(!ab->muted());
    ab->leave(h.now);
    p.answer();
    CHECK(h.handle_state("audiobridge") == "left");
    h.take("detach");
    CHECK(h.errors().empty());
  }
}

TEST_CASE("replay timeout.json: Janus times a silent session out; the others see it leave", "[janus][replay]") {
  const auto all = load("timeout");
  SECTION("gina goes silent") {
    Harness h;
    Player p(h, all, "gina");
    open(h, p);
    PublisherConfig pc;
    pc.room = 1004;
    pc.display = "gina";
    pc.video = false;
    h.session.attach<VideoRoomPublisher>(pc, h.now);
    h.pump();
    p.answer();
    CHECK(h.last_action()["encodings"] == Json::array());
    publish_offer(h, p, "publisher", find_exchange(all, "gina: create session, join, publish audio"));
    h.remote_description_set("publisher");
    CHECK(h.handle_state("publisher") == "published");
    p.deliver("session timeout");
    CHECK(h.session.state() == JanusSession::State::Lost);
    CHECK(h.errors().back()["code"] == "janus-timeout");
    CHECK(h.errors().back()["fatal"] == true);
    CHECK(h.actions_named("janus-close-socket").size() == 1);
    CHECK(h.actions_named("janus-close-peer-connection", "publisher").size() == 1);
  }
  SECTION("hank keeps alive and sees gina's unpublished (twice) and leaving") {
    Harness h;
    Player p(h, all, "hank");
    open(h, p);
    PublisherConfig pc;
    pc.room = 1004;
    pc.display = "hank";
    pc.publish_on_join = false;
    h.session.attach<VideoRoomPublisher>(pc, h.now);
    SubscriberConfig sc;
    sc.room = 1004;
    h.session.attach<VideoRoomSubscriber>(sc, h.now);
    h.pump();
    p.answer();
    h.success(h.take("attach"), {{"id", 77}});  // the recording has no subscriber handle
    p.deliver("others see a timed-out publisher leave");
    CHECK(h.last_event("janus-publishers")["publishers"].size() == 1);
    Json join = h.take("message", "join");  // the subscriber wants gina: left unanswered
    for (int i = 0; i < 6; ++i) {
      h.advance(25000);
      p.answer();
    }
    CHECK(p.unused("others see a timed-out publisher leave").empty());
    CHECK(h.last_event("janus-publishers")["publishers"] == Json::array());
    CHECK(h.events_named("janus-publishers").size() == 3);  // joined [], gina, [] (the 2nd unpublished changes nothing)
    (void)join;
  }
}

TEST_CASE("replay errors.json: every recorded error reply becomes a typed error", "[janus][replay]") {
  const auto all = load("errors");
  SECTION("frank: no such room, no such feed") {
    SessionConfig config;
    config.request_timeout_ms = 1e9;
    Harness h(config);
    Player p(h, all, "frank");
    open(h, p);
    PublisherConfig pc;
    pc.room = 999999;
    pc.display = "frank";
    pc.create = nullptr;
    h.session.attach<VideoRoomPublisher>(pc, h.now);
    AudioBridgeConfig ac;
    ac.room = 999999;
    ac.display = "frank";
    ac.create = nullptr;
    h.session.attach<AudioBridgeParticipant>(ac, h.now);
    h.pump();
    p.answer();
    auto errs = h.errors();
    REQUIRE(errs.size() == 2);
    CHECK(errs[0]["pc"] == "publisher");
    CHECK(errs[0]["janusCode"] == 426);
    CHECK(errs[0]["message"] == "No such room (999999)");
    CHECK(errs[1]["pc"] == "audiobridge");
    CHECK(errs[1]["janusCode"] == 485);
    CHECK(h.handle_state("publisher") == "failed");
    CHECK(h.handle_state("audiobridge") == "failed");

    SubscriberConfig sc;
    sc.room = 1003;
    sc.follow = false;
    auto* sub = h.session.attach<VideoRoomSubscriber>(sc, h.now);
    h.pump();
    p.answer();
    sub->want(123456, h.now);
    p.answer();
    Json e428 = h.errors().back();
    CHECK(e428["janusCode"] == 428);
    CHECK(e428["feed"] == 123456);
    CHECK(e428["fatal"] == false);
    CHECK(h.handle_state("subscriber") == "idle");

    // Janus errors without a transaction (bad JSON, a request without one): reported, not fatal.
    for (const char* name : {"invalid JSON (454)", "request without transaction (456)"}) {
      const auto& x = find_exchange(all, name);
      h.frame(x.steps.back().message);
      CHECK(h.errors().back()["code"] == "janus-error");
      CHECK(h.errors().back()["fatal"] == false);
    }
    CHECK(h.errors().back()["janusCode"] == 456);
    CHECK(h.session.state() == JanusSession::State::Ready);

    // A plugin that is not loaded (460), as the answer to our attach.
    AudioBridgeConfig ac2;
    ac2.pc = "audiobridge2";
    ac2.room = 5;
    h.session.attach<AudioBridgeParticipant>(ac2, h.now);
    h.pump();
    p.answer_with(h.take("attach"), find_exchange(all, "attach a plugin that is not loaded (460)").steps.back().message);
    CHECK(h.errors().back()["janusCode"] == 460);
    CHECK(h.errors().back()["pc"] == "audiobridge2");
    CHECK(h.handle_state("audiobridge2") == "failed");

    // 458 to a keepalive: Janus no longer knows the session.
    h.advance(25000);
    p.answer_with(h.take_next("keepalive"), find_exchange(all, "keepalive on a destroyed session (458)").steps[3].message);
    CHECK(h.session.state() == JanusSession::State::Lost);
    CHECK(h.errors().back()["code"] == "janus-error");
    CHECK(h.errors().back()["fatal"] == true);
  }
  SECTION("427 on create: the room exists, join it") {
    Harness h;
    h.open();
    PublisherConfig pc;
    pc.room = 1003;
    pc.publish_on_join = false;
    h.session.attach<VideoRoomPublisher>(pc, h.now);
    h.pump();
    h.attach(10, "janus.plugin.videoroom");
    Player p(h, all, "frank");
    p.answer_with(h.take("message", "join"), find_exchange(all, "videoroom join: no such room (426)").steps.back().message);
    p.answer_with(h.take("message", "create"), find_exchange(all, "create a room that exists (427)").steps.back().message);
    p.answer_with(h.take("message", "join"), find_exchange(all, "subscribe to a publisher that is not up yet (428)").steps[2].message);
    CHECK(h.handle_state("publisher") == "joined");
    CHECK(h.errors().empty());
  }
  SECTION("every plugin error code, as the answer to a join") {
    // 424 423 482 429 430 425 and the admin_key ones: whatever a request gets, it is typed.
    std::vector<std::pair<std::string, int>> cases;
    for (const auto& x : all) {
      for (const auto& s : x.steps) {
        if (s.send) continue;
        const Json& m = s.message;
        const Json* pd = chorus::find_field(m, "plugindata");
        const Json* data = pd != nullptr ? chorus::find_field(*pd, "data") : nullptr;
        const Json* code = data != nullptr ? chorus::find_field(*data, "error_code") : nullptr;
        if (code == nullptr && m.value("janus", "") != "error") continue;
        if (!m.contains("transaction")) continue;
        cases.emplace_back(m.dump(), code != nullptr ? code->get<int>() : m["error"]["code"].get<int>());
      }
    }
    CHECK(cases.size() >= 15);
    for (const auto& [text, code] : cases) {
      Harness h;
      h.open();
      PublisherConfig pc;
      pc.room = 1003;
      pc.create = nullptr;
      h.session.attach<VideoRoomPublisher>(pc, h.now);
      h.pump();
      h.attach(10, "janus.plugin.videoroom");
      Json recorded = *chorus::parse_json(text);
      recorded["transaction"] = h.take("message", "join")["transaction"];
      if (recorded["janus"] == "event" || recorded.contains("plugindata")) recorded["sender"] = 10;
      if (recorded.contains("session_id")) recorded["session_id"] = janus_test::kSessionId;
      h.frame(recorded);
      INFO(text);
      if (code == 458) {
        CHECK(h.session.state() == JanusSession::State::Lost);
        continue;
      }
      REQUIRE(!h.errors().empty());
      CHECK(h.errors().back()["janusCode"] == code);
      CHECK(h.errors().back()["code"] == "janus-error");
      CHECK(h.handle_state("publisher") == "failed");
      CHECK(h.session.state() == JanusSession::State::Ready);
    }
  }
}
