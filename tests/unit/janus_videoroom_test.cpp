// VideoRoomPublisher and VideoRoomSubscriber against scripted Janus replies written from
// janus_videoroom.c's header (Janus 1.1.2): room created on demand, publish with simulcast,
// publishers coming and going feeding one multistream subscription, queued updates, Janus's own
// `updated` offers, 428, substream switching, hangups and errors.
#include "janus_harness.hpp"

using chorus::Json;
using chorus::janus::PublisherConfig;
using chorus::janus::SubscriberConfig;
using chorus::janus::VideoRoomPublisher;
using chorus::janus::VideoRoomSubscriber;
using janus_test::answer_jsep;
using janus_test::Harness;
using janus_test::offer;
using janus_test::publisher_info;
using janus_test::sub_stream;

namespace {

constexpr std::uint64_t kRoom = 1234;
constexpr std::uint64_t kPubHandle = 10;
constexpr std::uint64_t kSubHandle = 11;
constexpr std::uint64_t kOurFeed = 501;
constexpr std::uint64_t kPrivateId = 777;
const char* kVr = "janus.plugin.videoroom";

Json joined(Json publishers) {
  return {{"videoroom", "joined"}, {"room", kRoom}, {"description", "r"}, {"id", kOurFeed},
          {"private_id", kPrivateId}, {"publishers", std::move(publishers)}};
}
Json publishers_event(Json list) { return {{"videoroom", "event"}, {"room", kRoom}, {"publishers", std::move(list)}}; }

// A session with a publisher (and optionally a following subscriber) attached and joined.
struct Room {
  Harness h;
  VideoRoomPublisher* pub = nullptr;
  VideoRoomSubscriber* sub = nullptr;

  explicit Room(bool with_subscriber = true, bool publish = false, Json others = Json::array()) {
    h.open();
    PublisherConfig pc;
    pc.room = kRoom;
    pc.display = "ann";
    pc.publish_on_join = publish;
    pub = h.session.attach<VideoRoomPublisher>(pc, h.now);
    if (with_subscriber) {
      SubscriberConfig sc;
      sc.room = kRoom;
      sub = h.session.attach<VideoRoomSubscriber>(sc, h.now);
    }
    h.pump();
    h.attach(kPubHandle, kVr);
    if (with_subscriber) h.attach(kSubHandle, kVr);
    Json join = h.take("message", "join");
    CHECK(join["body"] == Json{{"request", "join"}, {"ptype", "publisher"}, {"room", kRoom}, {"display", "ann"}});
    h.videoroom(join, joined(std::move(others)));
  }

  // Plays the glue for one subscriber offer: answer it and send `start`; returns the start.
  Json answer_offer(const std::string& answer_sdp = "sub-answer") {
    auto srd = h.actions_named("janus-set-remote-description", "subscriber");
    REQUIRE(!srd.empty());
    CHECK(srd.back()["description"]["type"] == "offer");
    h.remote_description_set("subscriber");
    CHECK(h.last_action() == Json{{"action", "janus-set-local-description"}, {"pc", "subscriber"}});
    h.local_description("subscriber", "answer", answer_sdp);
    Json start = h.take("message", "start");
    CHECK(start["jsep"] == answer_jsep(answer_sdp));
    CHECK(start["handle_id"] == kSubHandle);
    return start;
  }
  void started(const Json& start) { h.videoroom(start, {{"videoroom", "event"}, {"room", kRoom}, {"started", "ok"}}); }
};

}  // namespace

TEST_CASE("publisher: join, publish with simulcast h/m/l, trickle, answer applied", "[janus]") {
  Room r(false, true);
  CHECK(r.h.last_event("janus-joined") ==
        Json{{"event", "janus-joined"}, {"room", kRoom}, {"id", kOurFeed}, {"privateId", kPrivateId}, {"pc", "publisher"}});
  CHECK(r.h.last_event("janus-publishers")["publishers"] == Json::array());
  CHECK(r.pub->feed_id() == kOurFeed);
  auto create = r.h.actions_named("janus-create-peer-connection", "publisher");
  REQUIRE(create.size() == 1);
  CHECK(create[0]["direction"] == "sendonly");
  Json offer_action = r.h.last_action();
  CHECK(offer_action["action"] == "janus-create-offer");
  CHECK(offer_action["audio"] == true);
  CHECK(offer_action["video"] == true);
  REQUIRE(offer_action["encodings"].size() == 3);
  CHECK(offer_action["encodings"][0]["rid"] == "h");
  CHECK(offer_action["encodings"][1]["rid"] == "m");
  CHECK(offer_action["encodings"][1]["scaleResolutionDownBy"] == 2);
  CHECK(offer_action["encodings"][2]["rid"] == "l");
  CHECK(r.h.handle_state("publisher") == "publishing");

  // Candidates gathered before the offer went out wait for it.
  Json c1 = {{"candidate", "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host"}, {"sdpMid", "0"}, {"sdpMLineIndex", 0}};
  r.h.local_description("publisher", "offer", "pub-offer");
  Json conf = r.h.take("message", "configure");
  CHECK(conf["jsep"] == offer("pub-offer"));
  CHECK(conf["body"] == Json{{"request", "configure"}});
  r.h.candidate("publisher", c1);
  Json t = r.h.take("trickle");
  CHECK(t["candidate"] == c1);
  CHECK(t["handle_id"] == kPubHandle);
  // Only what Janus reads, with the types it accepts (a null sdpMid would be refused: 467).
  r.h.candidate("publisher", {{"candidate", "candidate:2 1 tcp 1 10.0.0.2 9 typ host"}, {"sdpMid", nullptr},
                              {"sdpMLineIndex", 1}, {"usernameFragment", "abcd"}});
  CHECK(r.h.take("trickle")["candidate"] == Json{{"candidate", "candidate:2 1 tcp 1 10.0.0.2 9 typ host"}, {"sdpMLineIndex", 1}});
  r.h.candidate("publisher", nullptr);
  CHECK(r.h.take("trickle")["candidate"] == Json{{"completed", true}});

  r.h.videoroom(conf, {{"videoroom", "event"}, {"room", kRoom}, {"configured", "ok"}, {"audio_codec", "opus"}, {"video_codec", "vp8"}},
                answer_jsep("pub-answer"));
  CHECK(r.h.last_action() == Json{{"action", "janus-set-remote-description"},
                                   {"description", answer_jsep("pub-answer")}, {"pc", "publisher"}});
  CHECK(r.h.handle_state("publisher") == "publishing");
  r.h.remote_description_set("publisher");
  CHECK(r.h.handle_state("publisher") == "published");
  CHECK(r.pub->published());
  r.h.core_event("webrtcup", kPubHandle);
  CHECK(r.h.last_event("janus-webrtcup")["pc"] == "publisher");
  CHECK(r.h.errors().empty());

  SECTION("publish() again renegotiates (tracks changed)") {
    r.pub->publish(r.h.now);
    r.h.pump();
    CHECK(r.h.last_action()["action"] == "janus-create-offer");
    CHECK(r.h.actions_named("janus-create-peer-connection").size() == 1);  // same pc
    r.h.local_description("publisher", "offer", "pub-offer-2");
    Json conf2 = r.h.take("message", "configure");
    r.h.videoroom(conf2, {{"videoroom", "event"}, {"configured", "ok"}}, answer_jsep("pub-answer-2"));
    r.h.remote_description_set("publisher");
    CHECK(r.h.handle_state("publisher") == "published");
  }
  SECTION("unpublish closes the pc at once, then leave detaches") {
    r.pub->unpublish(r.h.now);
    r.h.pump();
    CHECK(r.h.last_action() == Json{{"action", "janus-close-peer-connection"}, {"pc", "publisher"}});
    Json un = r.h.take("message", "unpublish");
    CHECK(r.h.handle_state("publisher") == "joined");
    r.h.videoroom(un, {{"videoroom", "event"}, {"room", kRoom}, {"unpublished", "ok"}});
    r.h.core_event("hangup", kPubHandle, {{"reason", "Close PC"}});  // we closed it: nothing to do
    CHECK(r.h.handle_state("publisher") == "joined");
    r.pub->leave(r.h.now);
    r.h.pump();
    Json leave = r.h.take("message", "leave");
    CHECK(r.h.handle_state("publisher") == "leaving");
    r.h.videoroom(leave, {{"videoroom", "event"}, {"room", kRoom}, {"leaving", "ok"}});
    CHECK(r.h.handle_state("publisher") == "left");
    Json detach = r.h.take("detach");
    CHECK(detach["handle_id"] == kPubHandle);
    r.h.success(detach, Json::object());
    r.h.core_event("detached", kPubHandle);
    CHECK(r.h.errors().empty());
  }
  SECTION("Janus hangs up (ICE failed): back to joined, publish() again") {
    r.h.core_event("hangup", kPubHandle, {{"reason", "ICE failed"}});
    CHECK(r.h.last_event("janus-hangup")["reason"] == "ICE failed");
    CHECK(r.h.handle_state("publisher") == "joined");
    CHECK(r.h.last_action()["action"] == "janus-close-peer-connection");
    r.pub->publish(r.h.now);
    r.h.pump();
    CHECK(r.h.actions_named("janus-create-peer-connection").size() == 2);
    CHECK(r.h.last_action()["action"] == "janus-create-offer");
  }
}

TEST_CASE("publisher: the room is created on demand with the room config", "[janus]") {
  Harness h;
  h.open();
  PublisherConfig pc;
  pc.room = kRoom;
  pc.publish_on_join = false;
  pc.create = {{"bitrate", 1500000}, {"fir_freq", 5}, {"videocodec", "vp8"}, {"publishers", 20}};
  h.session.attach<VideoRoomPublisher>(pc, h.now);
  h.pump();
  h.attach(kPubHandle, kVr);
  Json join = h.take("message", "join");
  h.videoroom(join, {{"videoroom", "event"}, {"error_code", 426}, {"error", "No such room (1234)"}});
  CHECK(h.handle_state("publisher") == "creating-room");
  Json create = h.take("message", "create");
  CHECK(create["body"] == Json{{"request", "create"}, {"room", kRoom}, {"bitrate", 1500000}, {"fir_freq", 5},
                               {"videocodec", "vp8"}, {"publishers", 20}});
  SECTION("created") {
    // create is synchronous: `success` with plugindata.
    h.plugin_success(create, kVr, {{"videoroom", "created"}, {"room", kRoom}, {"permanent", false}});
  }
  SECTION("someone else created it first") {
    h.plugin_success(create, kVr, {{"videoroom", "event"}, {"error_code", 427}, {"error", "Room 1234 already exists"}});
  }
  Json join2 = h.take("message", "join");
  h.videoroom(join2, joined(Json::array()));
  CHECK(h.handle_state("publisher") == "joined");
  CHECK(h.errors().empty());
}

TEST_CASE("publisher: errors are typed with Janus's code", "[janus]") {
  SECTION("no room and no room config") {
    Harness h;
    h.open();
    PublisherConfig pc;
    pc.room = kRoom;
    pc.create = nullptr;
    h.session.attach<VideoRoomPublisher>(pc, h.now);
    h.pump();
    h.attach(kPubHandle, kVr);
    h.videoroom(h.take("message", "join"), {{"videoroom", "event"}, {"error_code", 426}, {"error", "No such room (1234)"}});
    Json err = h.errors().back();
    CHECK(err["code"] == "janus-error");
    CHECK(err["janusCode"] == 426);
    CHECK(err["message"] == "No such room (1234)");
    CHECK(err["fatal"] == true);
    CHECK(h.handle_state("publisher") == "failed");
  }
  SECTION("create refused (admin_key)") {
    Harness h;
    h.open();
    PublisherConfig pc;
    pc.room = kRoom;
    h.session.attach<VideoRoomPublisher>(pc, h.now);
    h.pump();
    h.attach(kPubHandle, kVr);
    h.videoroom(h.take("message", "join"), {{"videoroom", "event"}, {"error_code", 426}, {"error", "No such room (1234)"}});
    h.plugin_success(h.take("message", "create"), kVr, {{"videoroom", "event"}, {"error_code", 433}, {"error", "Unauthorized (wrong admin_key)"}});
    CHECK(h.errors().back()["janusCode"] == 433);
    CHECK(h.errors().back()["request"] == "create");
    CHECK(h.handle_state("publisher") == "failed");
  }
  SECTION("configure refused: publishers full") {
    Room r(false, true);
    r.h.local_description("publisher", "offer", "o");
    r.h.videoroom(r.h.take("message", "configure"),
                  {{"videoroom", "event"}, {"error_code", 432}, {"error", "Maximum number of publishers (3) already reached"}});
    Json err = r.h.errors().back();
    CHECK(err["janusCode"] == 432);
    CHECK(err["fatal"] == false);
    CHECK(r.h.handle_state("publisher") == "joined");
    CHECK(r.h.last_action()["action"] == "janus-close-peer-connection");
    r.h.take("message", "unpublish");  // whatever Janus set up goes
  }
  SECTION("the glue fails to apply Janus's answer") {
    Room r(false, true);
    r.h.local_description("publisher", "offer", "o");
    r.h.videoroom(r.h.take("message", "configure"), {{"videoroom", "event"}, {"configured", "ok"}}, answer_jsep("a"));
    r.h.input({{"type", "operation-failed"}, {"pc", "publisher"}, {"operation", "setRemoteDescription"},
               {"name", "OperationError"}, {"message", "bad answer"}});
    CHECK(r.h.errors().back()["code"] == "negotiation-failed");
    CHECK(r.h.handle_state("publisher") == "joined");
    r.h.take("message", "unpublish");
  }
  SECTION("configure answered without SDP") {
    Room r(false, true);
    r.h.local_description("publisher", "offer", "o");
    r.h.videoroom(r.h.take("message", "configure"), {{"videoroom", "event"}, {"configured", "ok"}});
    CHECK(r.h.errors().back()["code"] == "bad-message");
    CHECK(r.h.handle_state("publisher") == "joined");
  }
}

TEST_CASE("publisher keeps the room's publishers from joined, publishers, unpublished, leaving", "[janus]") {
  Room r(false, false, Json::array({publisher_info(601, "bob")}));
  auto list = [&] { return r.h.last_event("janus-publishers")["publishers"]; };
  REQUIRE(list().size() == 1);
  CHECK(list()[0]["id"] == 601);
  CHECK(list()[0]["display"] == "bob");
  CHECK(list()[0]["streams"].size() == 2);
  r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(602, "cy")})));
  CHECK(list().size() == 2);
  // Ourselves and dummies are not others.
  Json dummy = publisher_info(603, "");
  dummy["dummy"] = true;
  const auto reports = r.h.events_named("janus-publishers").size();
  r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(kOurFeed, "ann"), dummy})));
  CHECK(r.h.events_named("janus-publishers").size() == reports);
  // The same announcement again changes nothing.
  r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(602, "cy")})));
  CHECK(r.h.events_named("janus-publishers").size() == reports);
  r.h.plugin_event(nullptr, kPubHandle, kVr, {{"videoroom", "event"}, {"room", kRoom}, {"unpublished", 601}});
  CHECK(list().size() == 1);
  CHECK(list()[0]["id"] == 602);
  r.h.plugin_event(nullptr, kPubHandle, kVr, {{"videoroom", "event"}, {"room", kRoom}, {"leaving", 602}});
  CHECK(list().empty());
  // Someone who never published leaving changes nothing; garbage ids are ignored.
  r.h.plugin_event(nullptr, kPubHandle, kVr, {{"videoroom", "event"}, {"room", kRoom}, {"leaving", 999}});
  r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({{{"id", -3}}, 7, {{"display", "x"}}})));
  CHECK(r.h.events_named("janus-publishers").size() == reports + 2);
  CHECK(r.h.errors().empty());
}

TEST_CASE("subscriber: one multistream subscription follows the room's publishers", "[janus]") {
  Room r(true, false, Json::array({publisher_info(601, "bob")}));
  CHECK(r.h.handle_state("subscriber") == "joining");
  Json join = r.h.take("message", "join");
  CHECK(join["handle_id"] == kSubHandle);
  CHECK(join["body"] == Json{{"request", "join"}, {"ptype", "subscriber"}, {"room", kRoom},
                             {"streams", Json::array({{{"feed", 601}}})}, {"private_id", kPrivateId}});
  r.h.videoroom(join, {{"videoroom", "attached"}, {"room", kRoom},
                       {"streams", Json::array({sub_stream(0, "audio", 601, "0", "bob"), sub_stream(1, "video", 601, "1", "bob")})}},
                offer("sub-offer-1"));
  CHECK(r.h.handle_state("subscriber") == "active");
  // The mid -> feed map comes before the offer is applied (ontrack fires during it).
  const auto& evs = r.h.events;
  Json streams = r.h.last_event("janus-streams");
  REQUIRE(streams.is_object());
  CHECK(streams["streams"].size() == 2);
  CHECK(streams["streams"][1] == Json{{"mid", "1"}, {"type", "video"}, {"active", true}, {"feed", 601}, {"feedMid", "1"}, {"display", "bob"}});
  CHECK(r.h.actions_named("janus-create-peer-connection", "subscriber")[0]["direction"] == "recvonly");
  CHECK(r.sub->feed_for_mid("1") == 601);
  (void)evs;
  Json start = r.answer_offer("sub-answer-1");
  CHECK(start["body"] == Json{{"request", "start"}});
  // Our candidates follow the answer.
  r.h.candidate("subscriber", {{"candidate", "candidate:9 1 udp 1 10.0.0.2 6000 typ host"}, {"sdpMid", "0"}, {"sdpMLineIndex", 0}});
  r.h.take("trickle");
  r.started(start);
  CHECK(r.sub->subscribed_feeds() == 1);

  SECTION("a new publisher: subscribe, re-offer, re-answer") {
    r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(602, "cy")})));
    Json sub = r.h.take("message", "subscribe");
    CHECK(sub["body"] == Json{{"request", "subscribe"}, {"streams", Json::array({{{"feed", 602}}})}});
    r.h.videoroom(sub, {{"videoroom", "updated"}, {"room", kRoom},
                        {"streams", Json::array({sub_stream(0, "audio", 601, "0", "bob"), sub_stream(1, "video", 601, "1", "bob"),
                                                 sub_stream(2, "audio", 602, "0", "cy"), sub_stream(3, "video", 602, "1", "cy")})}},
                  offer("sub-offer-2"));
    CHECK(r.sub->feed_for_mid("3") == 602);
    CHECK(r.h.last_event("janus-streams")["streams"].size() == 4);
    r.started(r.answer_offer("sub-answer-2"));
    CHECK(r.sub->subscribed_feeds() == 2);
    CHECK(r.h.actions_named("janus-create-peer-connection", "subscriber").size() == 1);  // one pc

    // Bob leaves: Janus updates the subscription itself (autoupdate); we only answer.
    r.h.plugin_event(nullptr, kPubHandle, kVr, {{"videoroom", "event"}, {"room", kRoom}, {"unpublished", 601}});
    CHECK(r.h.nothing_sent());
    Json gone0 = {{"type", "audio"}, {"active", false}, {"mindex", 0}, {"mid", "0"}, {"ready", true}, {"send", true}};
    Json gone1 = {{"type", "video"}, {"active", false}, {"mindex", 1}, {"mid", "1"}, {"ready", true}, {"send", true}};
    r.h.plugin_event(nullptr, kSubHandle, kVr, {{"videoroom", "updated"}, {"room", kRoom},
                                                {"streams", Json::array({gone0, gone1, sub_stream(2, "audio", 602, "0", "cy"), sub_stream(3, "video", 602, "1", "cy")})}},
                     offer("sub-offer-3"));
    CHECK(r.sub->feed_for_mid("1").is_null());
    r.started(r.answer_offer("sub-answer-3"));
    CHECK(r.h.nothing_sent());  // no unsubscribe: Janus did it
    CHECK(r.sub->subscribed_feeds() == 1);
    CHECK(r.h.errors().empty());
  }
  SECTION("substream switching, confirmed by Janus's event") {
    r.sub->set_substream("1", 0, r.h.now);
    r.h.pump();
    Json conf = r.h.take("message", "configure");
    CHECK(conf["body"] == Json{{"request", "configure"}, {"streams", Json::array({{{"mid", "1"}, {"substream", 0}}})}});
    r.h.videoroom(conf, {{"videoroom", "event"}, {"room", kRoom}, {"configured", "ok"}});
    CHECK(r.h.events_named("janus-substream").empty());  // not switched yet
    r.h.plugin_event(nullptr, kSubHandle, kVr, {{"videoroom", "event"}, {"room", kRoom}, {"mid", "1"}, {"substream", 0}});
    CHECK(r.h.last_event("janus-substream") ==
          Json{{"event", "janus-substream"}, {"mid", "1"}, {"feed", 601}, {"substream", 0}, {"pc", "subscriber"}});
    // By feed: every video mid of it.
    r.sub->set_feed_substream(601, 2, r.h.now);
    r.h.pump();
    CHECK(r.h.take("message", "configure")["body"]["streams"][0] == Json{{"mid", "1"}, {"substream", 2}});
    // Bad asks are typed errors, nothing sent.
    r.sub->set_substream("0", 1, r.h.now);  // audio
    r.sub->set_substream("1", 3, r.h.now);
    r.sub->set_substream("9", 1, r.h.now);
    r.h.pump();
    CHECK(r.h.nothing_sent());
    CHECK(r.h.errors().size() == 3);
    CHECK(r.h.errors().back()["code"] == "bad-message");
  }
  SECTION("ICE restart: Janus sends a new offer") {
    r.sub->restart_ice(r.h.now);
    r.h.pump();
    Json conf = r.h.take("message", "configure");
    CHECK(conf["body"] == Json{{"request", "configure"}, {"restart", true}});
    r.h.videoroom(conf, {{"videoroom", "event"}, {"room", kRoom}, {"configured", "ok"}}, offer("sub-offer-restart"));
    r.started(r.answer_offer("sub-answer-restart"));
    CHECK(r.h.errors().empty());
  }
  SECTION("leave") {
    r.sub->leave(r.h.now);
    r.h.pump();
    CHECK(r.h.last_action() == Json{{"action", "janus-close-peer-connection"}, {"pc", "subscriber"}});
    Json leave = r.h.take("message", "leave");
    r.h.videoroom(leave, {{"videoroom", "event"}, {"room", kRoom}, {"left", "ok"}});
    CHECK(r.h.handle_state("subscriber") == "left");
    r.h.take("detach");
  }
}

TEST_CASE("subscriber: updates wait while one is in flight or an offer is being answered", "[janus]") {
  Room r(true, false, Json::array({publisher_info(601, "bob")}));
  Json join = r.h.take("message", "join");
  // Two publishers arrive while the join is on its way: nothing else is sent yet.
  r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(602, "cy")})));
  r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(603, "di")})));
  CHECK(r.h.nothing_sent());
  r.h.videoroom(join, {{"videoroom", "attached"}, {"room", kRoom},
                       {"streams", Json::array({sub_stream(0, "audio", 601, "0", "bob"), sub_stream(1, "video", 601, "1", "bob")})}},
                offer("o1"));
  CHECK(r.h.nothing_sent());  // still answering
  Json start = r.answer_offer();
  CHECK(r.h.nothing_sent());  // the start is not answered yet
  r.started(start);
  // Now one request for both.
  Json sub = r.h.take("message", "subscribe");
  CHECK(sub["body"]["streams"] == Json::array({{{"feed", 602}}, {{"feed", 603}}}));
  CHECK(r.h.nothing_sent());
  // Meanwhile 602 leaves and 604 comes: the next request waits for this one.
  r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(604, "ed")})));
  CHECK(r.h.nothing_sent());

  SECTION("Janus postpones its offer (`updating`), then sends it unsolicited") {
    r.h.videoroom(sub, {{"videoroom", "updating"}, {"room", kRoom}});
    CHECK(r.h.nothing_sent());  // its offer is due first
    r.h.plugin_event(nullptr, kSubHandle, kVr, {{"videoroom", "updated"}, {"room", kRoom}, {"streams", Json::array({
        sub_stream(0, "audio", 601, "0", "bob"), sub_stream(1, "video", 601, "1", "bob"),
        sub_stream(2, "video", 602, "1", "cy"), sub_stream(3, "video", 603, "1", "di")})}}, offer("o2"));
    r.started(r.answer_offer());
  }
  SECTION("Janus promises an offer that never comes: the subscription restarts") {
    r.h.videoroom(sub, {{"videoroom", "updating"}, {"room", kRoom}});
    r.h.advance(9999);
    CHECK(r.h.nothing_sent());
    r.h.advance(1);
    CHECK(r.h.handle_state("subscriber") == "attaching");
    CHECK(r.h.take("detach")["handle_id"] == kSubHandle);
    r.h.success(r.h.take("attach"), {{"id", 12}});
    // All four wanted feeds, on the fresh handle, in one join.
    CHECK(r.h.take("message", "join")["body"]["streams"].size() == 4);
    return;
  }
  SECTION("Janus answers with the offer") {
    r.h.videoroom(sub, {{"videoroom", "updated"}, {"room", kRoom}, {"streams", Json::array({
        sub_stream(0, "audio", 601, "0", "bob"), sub_stream(1, "video", 601, "1", "bob"),
        sub_stream(2, "video", 602, "1", "cy"), sub_stream(3, "video", 603, "1", "di")})}}, offer("o2"));
    r.started(r.answer_offer());
  }
  Json sub2 = r.h.take("message", "subscribe");
  CHECK(sub2["body"]["streams"] == Json::array({{{"feed", 604}}}));
  CHECK(r.sub->subscribed_feeds() == 3);
}

TEST_CASE("subscriber: unsubscribe when the owner drops a feed; update when both at once", "[janus]") {
  Harness h;
  h.open();
  SubscriberConfig sc;
  sc.room = kRoom;
  sc.follow = false;
  sc.substream = 0;  // thumbnails
  auto* sub = h.session.attach<VideoRoomSubscriber>(sc, h.now);
  h.pump();
  h.attach(kSubHandle, kVr);
  CHECK(h.handle_state("subscriber") == "idle");
  CHECK(h.nothing_sent());  // nothing wanted yet
  sub->want(601, h.now);
  sub->want(publisher_info(602, "cy"), h.now);  // the first join is already on its way
  h.pump();
  Json join = h.take("message", "join");
  CHECK(join["body"]["streams"] == Json::array({{{"feed", 601}, {"substream", 0}}}));
  CHECK(!join["body"].contains("private_id"));
  h.videoroom(join, {{"videoroom", "attached"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob")})}}, offer("o1"));
  Harness& hh = h;
  auto answer = [&] {
    hh.remote_description_set("subscriber");
    hh.local_description("subscriber", "answer", "a");
    hh.videoroom(hh.take("message", "start"), {{"videoroom", "event"}, {"started", "ok"}});
  };
  answer();
  Json s = h.take("message", "subscribe");
  CHECK(s["body"]["streams"] == Json::array({{{"feed", 602}, {"substream", 0}}}));
  h.videoroom(s, {{"videoroom", "updated"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob"), sub_stream(1, "video", 602, "1", "cy")})}}, offer("o2"));
  answer();
  sub->drop(601, h.now);
  h.pump();
  Json un = h.take("message", "unsubscribe");
  CHECK(un["body"]["streams"] == Json::array({{{"sub_mid", "0"}}}));  // its m-lines in the subscription
  h.videoroom(un, {{"videoroom", "updated"}, {"room", kRoom}, {"streams", Json::array({sub_stream(1, "video", 602, "1", "cy")})}}, offer("o3"));
  // Both kinds of change waiting: one `update` request.
  sub->drop(602, h.now);
  sub->want(605, h.now);
  h.pump();
  CHECK(h.nothing_sent());
  answer();
  Json up = h.take("message", "update");
  CHECK(up["body"] == Json{{"request", "update"}, {"subscribe", Json::array({{{"feed", 605}, {"substream", 0}}})},
                           {"unsubscribe", Json::array({{{"sub_mid", "1"}}})}});
  Json inactive = {{"type", "video"}, {"active", false}, {"mindex", 0}, {"mid", "0"}, {"ready", true}, {"send", true}};
  h.videoroom(up, {{"videoroom", "updated"}, {"room", kRoom},
                   {"streams", Json::array({inactive, sub_stream(1, "audio", 605, "0", "fy"), sub_stream(2, "video", 605, "1", "fy")})}},
              offer("o4"));
  answer();
  CHECK(sub->feed_for_mid("2") == 605);
  // A publisher adds a stream (screen share): only that one is asked for, by mid.
  Json with_screen = publisher_info(605, "fy");
  with_screen["streams"].push_back({{"type", "video"}, {"mindex", 2}, {"mid", "2"}, {"codec", "vp8"}});
  sub->want(with_screen, h.now);
  h.pump();
  Json s2 = h.take("message", "subscribe");
  CHECK(s2["body"]["streams"] == Json::array({{{"feed", 605}, {"mid", "2"}, {"substream", 0}}}));
  // A change that needs no renegotiation: `updated` without streams or jsep.
  h.videoroom(s2, {{"videoroom", "updated"}, {"room", kRoom}});
  CHECK(h.nothing_sent());
  CHECK(h.errors().empty());
  CHECK(sub->subscribed_feeds() == 1);
}

TEST_CASE("subscriber: 428 no such feed retries the others at once and that feed when announced", "[janus]") {
  Room r(true, false, Json::array({publisher_info(601, "bob"), publisher_info(602, "cy")}));
  Json join = r.h.take("message", "join");
  CHECK(join["body"]["streams"] == Json::array({{{"feed", 601}}, {{"feed", 602}}}));
  r.h.videoroom(join, {{"videoroom", "event"}, {"error_code", 428}, {"error", "No such feed (602)"}});
  Json err = r.h.errors().back();
  CHECK(err["code"] == "janus-error");
  CHECK(err["janusCode"] == 428);
  CHECK(err["feed"] == 602);
  CHECK(err["fatal"] == false);
  CHECK(err["request"] == "join");
  Json join2 = r.h.take("message", "join");
  CHECK(join2["body"]["streams"] == Json::array({{{"feed", 601}}}));
  r.h.videoroom(join2, {{"videoroom", "attached"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob")})}}, offer("o1"));
  r.started(r.answer_offer());
  CHECK(r.h.nothing_sent());  // 602 waits
  // 602 becomes active: Janus announces it; subscribe now. A second 428 is not reported again.
  r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(602, "cy")})));
  Json sub = r.h.take("message", "subscribe");
  CHECK(sub["body"]["streams"] == Json::array({{{"feed", 602}}}));
  r.h.videoroom(sub, {{"videoroom", "event"}, {"error_code", 428}, {"error", "No such feed (602)"}});
  CHECK(r.h.errors().size() == 1);
  CHECK(r.h.nothing_sent());
  r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(602, "cy", false)})));
  Json sub2 = r.h.take("message", "subscribe");
  r.h.videoroom(sub2, {{"videoroom", "updated"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob"), sub_stream(1, "video", 602, "1", "cy")})}}, offer("o2"));
  r.started(r.answer_offer());
  CHECK(r.sub->subscribed_feeds() == 2);
  SECTION("a 428 for a feed that has gone meanwhile is not reported") {
    r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(603, "di")})));
    Json sub3 = r.h.take("message", "subscribe");
    r.h.plugin_event(nullptr, kPubHandle, kVr, {{"videoroom", "event"}, {"room", kRoom}, {"unpublished", 603}});
    r.h.videoroom(sub3, {{"videoroom", "event"}, {"error_code", 428}, {"error", "No such feed (603)"}});
    CHECK(r.h.errors().size() == 1);
    CHECK(r.h.nothing_sent());
  }
  SECTION("a 428 without a feed in its reason holds every feed of the request") {
    r.h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(603, "di")})));
    r.h.videoroom(r.h.take("message", "subscribe"), {{"videoroom", "event"}, {"error_code", 428}, {"error", "No such feed"}});
    CHECK(r.h.errors().back()["feed"] == 603);
    CHECK(r.h.nothing_sent());
  }
}

TEST_CASE("subscriber: other errors, hangup and bad negotiation restart it on a fresh handle", "[janus]") {
  SECTION("join refused otherwise: fatal") {
    Room r(true, false, Json::array({publisher_info(601, "bob")}));
    r.h.videoroom(r.h.take("message", "join"), {{"videoroom", "event"}, {"error_code", 433}, {"error", "Unauthorized (not a valid private_id)"}});
    CHECK(r.h.errors().back()["janusCode"] == 433);
    CHECK(r.h.errors().back()["fatal"] == true);
    CHECK(r.h.handle_state("subscriber") == "failed");
  }
  SECTION("hangup: detach, attach, subscribe again") {
    Room r(true, false, Json::array({publisher_info(601, "bob")}));
    Json join = r.h.take("message", "join");
    r.h.videoroom(join, {{"videoroom", "attached"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob")})}}, offer("o1"));
    r.started(r.answer_offer());
    r.h.core_event("hangup", kSubHandle, {{"reason", "DTLS alert"}});
    CHECK(r.h.last_event("janus-hangup")["pc"] == "subscriber");
    CHECK(r.h.errors().back()["fatal"] == false);
    CHECK(r.h.take("detach")["handle_id"] == kSubHandle);
    CHECK(r.h.actions_named("janus-close-peer-connection", "subscriber").size() == 1);
    CHECK(r.h.handle_state("subscriber") == "attaching");
    Json attach = r.h.take("attach");
    r.h.success(attach, {{"id", 12}});
    Json join2 = r.h.take("message", "join");
    CHECK(join2["handle_id"] == 12);
    CHECK(join2["body"]["streams"] == Json::array({{{"feed", 601}}}));
    // Events of the old handle are not the new one's.
    const auto n = r.h.events.size();
    r.h.core_event("webrtcup", kSubHandle);
    CHECK(r.h.events.size() == n);
  }
  SECTION("failing again and again gives up") {
    Room r(true, false, Json::array({publisher_info(601, "bob")}));
    std::uint64_t handle = kSubHandle;
    for (int i = 0; i < 4; ++i) {
      Json join = r.h.take_next("message", "join");
      r.h.videoroom(join, {{"videoroom", "attached"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob")})}}, offer("o"));
      r.h.input({{"type", "operation-failed"}, {"pc", "subscriber"}, {"operation", "setRemoteDescription"}, {"name", "InvalidAccessError"}, {"message", "m"}});
      if (i < 3) r.h.success(r.h.take_next("attach"), {{"id", ++handle + 100}});
    }
    CHECK(r.h.handle_state("subscriber") == "failed");
    CHECK(r.h.errors().back()["fatal"] == true);
  }
  SECTION("Janus refuses our answer") {
    Room r(true, false, Json::array({publisher_info(601, "bob")}));
    r.h.videoroom(r.h.take("message", "join"), {{"videoroom", "attached"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob")})}}, offer("o1"));
    Json start = r.answer_offer();
    r.h.videoroom(start, {{"videoroom", "event"}, {"error_code", 437}, {"error", "Invalid SDP"}});
    CHECK(r.h.errors()[0]["janusCode"] == 437);
    CHECK(r.h.handle_state("subscriber") == "attaching");  // restarting
  }
  SECTION("an offer while another is being answered waits its turn") {
    Room r(true, false, Json::array({publisher_info(601, "bob")}));
    r.h.videoroom(r.h.take("message", "join"), {{"videoroom", "attached"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob")})}}, offer("o1"));
    r.h.plugin_event(nullptr, kSubHandle, kVr, {{"videoroom", "updated"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob")})}}, offer("o2"));
    CHECK(r.h.actions_named("janus-set-remote-description").size() == 1);
    r.started(r.answer_offer("a1"));
    auto srd = r.h.actions_named("janus-set-remote-description");
    REQUIRE(srd.size() == 2);
    CHECK(srd[1]["description"]["sdp"] == "o2");
    r.started(r.answer_offer("a2"));
    CHECK(r.h.errors().empty());
  }
}

TEST_CASE("subscriber without follow: the owner picks feeds; the publisher handle's news still apply", "[janus]") {
  Harness h;
  h.open();
  PublisherConfig pc;
  pc.room = kRoom;
  pc.publish_on_join = false;
  h.session.attach<VideoRoomPublisher>(pc, h.now);
  SubscriberConfig sc;
  sc.room = kRoom;
  sc.follow = false;
  auto* sub = h.session.attach<VideoRoomSubscriber>(sc, h.now);
  h.pump();
  h.attach(kPubHandle, kVr);
  h.attach(kSubHandle, kVr);
  h.videoroom(h.take("message", "join"), joined(Json::array({publisher_info(601, "bob"), publisher_info(602, "cy")})));
  CHECK(h.nothing_sent());  // nobody picked yet
  sub->want(601, h.now);
  sub->want(603, h.now);  // not up yet
  h.pump();
  Json join = h.take("message", "join");
  CHECK(join["body"]["streams"] == Json::array({{{"feed", 601}}}));
  h.videoroom(join, {{"videoroom", "attached"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob")})}}, janus_test::offer("o1"));
  h.remote_description_set("subscriber");
  h.local_description("subscriber", "answer", "a1");
  h.videoroom(h.take("message", "start"), {{"videoroom", "event"}, {"started", "ok"}});
  Json s = h.take("message", "subscribe");
  CHECK(s["body"]["streams"] == Json::array({{{"feed", 603}}}));
  h.videoroom(s, {{"videoroom", "event"}, {"error_code", 428}, {"error", "No such feed (603)"}});
  CHECK(h.errors().back()["feed"] == 603);
  // Someone else is announced: not picked. 603 is announced: tried again.
  h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(604, "di")})));
  CHECK(h.nothing_sent());
  h.plugin_event(nullptr, kPubHandle, kVr, publishers_event(Json::array({publisher_info(603, "ed")})));
  Json s2 = h.take("message", "subscribe");
  CHECK(s2["body"]["streams"] == Json::array({{{"feed", 603}}}));
  h.videoroom(s2, {{"videoroom", "updated"}, {"room", kRoom}, {"streams", Json::array({sub_stream(0, "video", 601, "1", "bob"), sub_stream(1, "video", 603, "1", "ed")})}}, janus_test::offer("o2"));
  h.remote_description_set("subscriber");
  h.local_description("subscriber", "answer", "a2");
  h.videoroom(h.take("message", "start"), {{"videoroom", "event"}, {"started", "ok"}});
  CHECK(sub->subscribed_feeds() == 2);
  // 601 unpublishes: Janus updates the subscription itself. 603 leaves while publishing: we
  // unsubscribe its m-line.
  h.plugin_event(nullptr, kPubHandle, kVr, {{"videoroom", "event"}, {"room", kRoom}, {"unpublished", 601}});
  CHECK(h.nothing_sent());
  h.plugin_event(nullptr, kPubHandle, kVr, {{"videoroom", "event"}, {"room", kRoom}, {"leaving", 603}});
  CHECK(h.take("message", "unsubscribe")["body"]["streams"] == Json::array({{{"sub_mid", "1"}}}));
  CHECK(sub->subscribed_feeds() == 1);  // until Janus confirms
}
