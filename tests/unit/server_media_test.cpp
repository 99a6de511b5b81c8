// ServerMedia (wasm/topology/server_media.hpp): one client's make-before-break moves between the
// mesh and Janus, against a scripted Janus (janus_harness.hpp) and a glue played by the test.
#include "janus_harness.hpp"
#include "topology/server_media.hpp"

using chorus::Json;
using chorus::topology::ServerMedia;
using chorus::topology::ServerMediaConfig;
using janus_test::answer_jsep;
using janus_test::offer;
using janus_test::publisher_info;
using janus_test::sub_stream;

namespace {

constexpr std::uint64_t kRoom = 77001;
constexpr std::uint64_t kPubHandle = 11;
constexpr std::uint64_t kSubHandle = 12;
constexpr std::uint64_t kBridgeHandle = 13;
const char* kVr = "janus.plugin.videoroom";
const char* kAb = "janus.plugin.audiobridge";

using Media = janus_test::BasicHarness<ServerMedia>;

Json sfu(std::uint32_t epoch) {
  return {{"type", "topology"}, {"mode", "sfu"}, {"epoch", epoch}, {"reason", "participants"},
          {"server", {{"url", "ws://10.77.0.1:8188"}, {"room", kRoom}}}};
}
Json mesh(std::uint32_t epoch) {
  return {{"type", "topology"}, {"mode", "mesh"}, {"epoch", epoch}, {"reason", "participants"}};
}

// Actions of one kind for one peer (the test reads the glue's work list).
std::vector<Json> acts(const Media& m, const std::string& name, const std::string& peer) {
  std::vector<Json> r;
  for (const auto& a : m.actions) {
    if (a["action"] == name && a.value("peer", a.value("to", "")) == peer) r.push_back(a);
  }
  return r;
}

// A client "me" in a room with alice and bob, on the mesh with media flowing both ways.
struct Client {
  Media m{ServerMediaConfig{}};
  Client() {
    m.input({{"type", "self"}, {"peerId", "me"}, {"iceServers", Json::array()}});
    for (const char* p : {"alice", "bob"}) {
      m.input({{"type", "peer-added"}, {"peer", p}});
      m.input({{"type", "media-flowing"}, {"path", "mesh"}, {"peer", p}, {"flowing", true}});
    }
    REQUIRE(m.actions.empty());  // a room that never left the mesh does nothing
    REQUIRE(m.events.empty());
  }

  // sfu: the session opens, our publisher joins (alice publishes already), we subscribe.
  Json go_sfu() {
    m.input(sfu(1));
    m.open();
    m.attach(kPubHandle, kVr);
    Json join = m.take("message", "join");
    CHECK(join["body"]["ptype"] == "publisher");
    CHECK(join["body"]["display"] == "me");
    m.videoroom(join, {{"videoroom", "joined"}, {"room", kRoom}, {"id", 500}, {"private_id", 9},
                       {"publishers", Json::array({publisher_info(601, "alice")})}});
    // We publish with simulcast, and subscribe to alice's feed.
    auto offers = m.actions_named("janus-create-offer", "publisher");
    REQUIRE(offers.size() == 1);
    CHECK(offers[0]["encodings"].size() == 3);
    m.attach(kSubHandle, kVr);
    Json sub = m.take("message", "join");
    CHECK(sub["body"]["ptype"] == "subscriber");
    CHECK(sub["body"]["streams"] == Json::array({{{"feed", 601}, {"substream", 2}}}));
    m.videoroom(sub, {{"videoroom", "attached"}, {"room", kRoom},
                      {"streams", Json::array({sub_stream(0, "audio", 601, "0", "alice"),
                                               sub_stream(1, "video", 601, "1", "alice")})}},
                offer("sub-offer"));
    // The glue applies Janus's offer and answers; Janus starts the subscription.
    m.input({{"type", "remote-description-set"}, {"pc", "subscriber"}});
    REQUIRE(m.last_action()["action"] == "janus-set-local-description");
    m.local_description("subscriber", "answer", "sub-answer");
    Json start = m.take_next("message", "start");
    CHECK(start["jsep"] == answer_jsep("sub-answer"));
    m.videoroom(start, {{"videoroom", "event"}, {"room", kRoom}, {"started", "ok"}});
    return sub;
  }
  void server_flows(const std::string& mid, bool flowing = true) {
    m.input({{"type", "media-flowing"}, {"path", "server"}, {"pc", "subscriber"}, {"mid", mid}, {"flowing", flowing}});
  }
};

}  // namespace

TEST_CASE("server media: mesh -> sfu is make-before-break in both directions", "[topology][media]") {
  Client c;
  c.go_sfu();
  CHECK(c.m.last_event("media-server")["state"] == "ready");
  // The subscriber's tracks are named for the glue before the offer is applied.
  Json streams = c.m.last_event("server-streams");
  CHECK(streams["pc"] == "subscriber");
  CHECK(streams["streams"] == Json::array({{{"mid", "0"}, {"kind", "audio"}, {"peer", "alice"}},
                                            {{"mid", "1"}, {"kind", "video"}, {"peer", "alice"}}}));

  // Nothing moves before alice's feed decodes here: her mesh media stays shown, ours to her
  // keeps flowing, and she is not told anything yet.
  CHECK(acts(c.m, "show", "alice").empty());
  CHECK(acts(c.m, "send-media-path", "alice").empty());
  CHECK(acts(c.m, "mesh-sending", "alice").empty());

  c.server_flows("1");
  auto shows = acts(c.m, "show", "alice");
  REQUIRE(shows.size() == 1);
  CHECK(shows[0]["path"] == "server");
  CHECK(shows[0]["kinds"] == Json::array({"audio", "video"}));
  auto told = acts(c.m, "send-media-path", "alice");
  REQUIRE(told.size() == 1);
  CHECK(told[0]["path"] == "server");
  CHECK(told[0]["using"] == true);

  // Our mesh media to alice stops only once she says she uses our feed; bob says nothing
  // (his subscription is not up yet), so he keeps getting mesh media.
  CHECK(acts(c.m, "mesh-sending", "alice").empty());
  c.m.input({{"type", "media-path"}, {"from", "alice"}, {"path", "server"}, {"using", true}});
  auto paused = acts(c.m, "mesh-sending", "alice");
  REQUIRE(paused.size() == 1);
  CHECK(paused[0]["on"] == false);
  CHECK(acts(c.m, "mesh-sending", "bob").empty());
  CHECK(c.m.events_named("error").empty());

  SECTION("back to the mesh: the server feed is kept until the mesh media flows again") {
    // Alice paused her mesh media to us when we told her we use her feed.
    c.m.input({{"type", "media-flowing"}, {"path", "mesh"}, {"peer", "alice"}, {"flowing", false}});
    CHECK(acts(c.m, "show", "alice").size() == 1);
    c.m.clear();
    c.m.input(mesh(2));
    // Alice is asked to resume her mesh media for us; we still show her server feed.
    auto ask = acts(c.m, "send-media-path", "alice");
    REQUIRE(ask.size() == 1);
    CHECK(ask[0]["path"] == "mesh");
    CHECK(ask[0]["using"] == false);
    CHECK(acts(c.m, "show", "alice").empty());
    // She asks the same of us: our mesh media to her comes back at once.
    c.m.input({{"type", "media-path"}, {"from", "alice"}, {"path", "mesh"}, {"using", false}});
    auto resumed = acts(c.m, "mesh-sending", "alice");
    REQUIRE(resumed.size() == 1);
    CHECK(resumed[0]["on"] == true);
    // Her mesh media flows again.
    c.m.input({{"type", "media-flowing"}, {"path", "mesh"}, {"peer", "alice"}, {"flowing", true}});
    auto shown = acts(c.m, "show", "alice");
    REQUIRE(shown.size() == 1);
    CHECK(shown[0]["path"] == "mesh");
    // The subscription to her feed goes, and we tell her we use her mesh media.
    Json unsub = c.m.take_next("message", "unsubscribe");
    CHECK(unsub["body"]["streams"] == Json::array({{{"sub_mid", "0"}}, {{"sub_mid", "1"}}}));
    CHECK(acts(c.m, "send-media-path", "alice").back()["using"] == true);
    // Our publisher stays until alice says she uses our mesh media; then the session closes.
    CHECK(c.m.actions_named("janus-close-socket").empty());
    c.m.input({{"type", "media-path"}, {"from", "alice"}, {"path", "mesh"}, {"using", true}});
    CHECK(c.m.actions_named("janus-close-socket").size() == 1);
    CHECK(c.m.last_event("media-server")["state"] == "closed");
  }

  SECTION("Janus goes away: the mesh takes over, and the session comes back") {
    c.m.clear();
    c.m.input({{"type", "janus-socket-closed"}, {"code", 1006}});
    CHECK(c.m.last_event("media-server")["state"] == "lost");
    auto errors = c.m.events_named("error");
    REQUIRE(!errors.empty());
    CHECK(errors.back()["code"] == "janus-unreachable");
    CHECK(errors.back()["fatal"] == false);
    // Alice's server feed is gone: we ask for her mesh media back (not using the server).
    auto told = acts(c.m, "send-media-path", "alice");
    REQUIRE(!told.empty());
    CHECK(told.back() == Json{{"action", "send-media-path"}, {"to", "alice"}, {"path", "server"}, {"using", false}});
    // ... and a new session after the backoff.
    CHECK(c.m.actions_named("janus-open-socket").empty());
    c.m.advance(1000);
    CHECK(c.m.actions_named("janus-open-socket").size() == 1);
  }
}

TEST_CASE("server media: what we publish follows the local tracks", "[topology][media]") {
  Client c;
  CHECK(c.m.actions.empty());
  c.go_sfu();
  CHECK(c.m.actions_named("janus-open-socket")[0]["url"] == "ws://10.77.0.1:8188");
  // The publisher's offer goes out and Janus answers: published.
  c.m.local_description("publisher", "offer", "pub-offer-1");
  Json conf = c.m.take_next("message", "configure");
  c.m.videoroom(conf, {{"videoroom", "event"}, {"room", kRoom}, {"configured", "ok"}}, answer_jsep("pub-answer-1"));
  c.m.input({{"type", "remote-description-set"}, {"pc", "publisher"}});
  c.m.clear();
  // A screen share joins the camera: a new offer with video.
  c.m.input({{"type", "local-media"}, {"audio", true}, {"video", true}, {"videoTracks", 2}});
  auto offers = c.m.actions_named("janus-create-offer", "publisher");
  REQUIRE(offers.size() == 1);
  CHECK(offers[0]["video"] == true);
  // The camera goes (audio only now): another offer, without video.
  c.m.local_description("publisher", "offer", "pub-offer-2");
  conf = c.m.take_next("message", "configure");
  c.m.videoroom(conf, {{"videoroom", "event"}, {"room", kRoom}, {"configured", "ok"}}, answer_jsep("pub-answer-2"));
  c.m.input({{"type", "remote-description-set"}, {"pc", "publisher"}});
  c.m.input({{"type", "local-media"}, {"audio", true}, {"video", false}, {"videoTracks", 0}});
  offers = c.m.actions_named("janus-create-offer", "publisher");
  REQUIRE(offers.size() == 2);
  CHECK(offers[1]["video"] == false);
  CHECK(offers[1]["encodings"] == Json::array());
  // A candidate the browser refuses is an error, not the end of publishing.
  c.m.input({{"type", "operation-failed"}, {"pc", "publisher"}, {"operation", "addIceCandidate"}, {"name", "OperationError"}, {"message", "bad"}});
  CHECK(c.m.last_event("error")["fatal"] == false);
  CHECK(c.m.actions_named("janus-close-peer-connection", "publisher").empty());
}

TEST_CASE("server media: a client without media subscribes but does not publish", "[topology][media]") {
  Media m{ServerMediaConfig{}};
  m.input({{"type", "self"}, {"peerId", "me"}, {"iceServers", Json::array()}});
  m.input({{"type", "local-media"}, {"audio", false}, {"video", false}, {"videoTracks", 0}});
  m.input({{"type", "peer-added"}, {"peer", "alice"}});
  m.input(sfu(1));
  m.open();
  // No publisher: the first handle attached is nothing until a feed is listed.
  CHECK(m.nothing_sent());
  // Media comes: now we publish.
  m.input({{"type", "local-media"}, {"audio", true}, {"video", false}, {"videoTracks", 0}});
  m.attach(kPubHandle, kVr);
  CHECK(m.take("message", "join")["body"]["ptype"] == "publisher");
}

TEST_CASE("server media: a peer's server media flows when its video does", "[topology][media]") {
  Client c;
  c.go_sfu();
  c.server_flows("0");  // audio comes first: her picture would freeze if we moved now
  CHECK(acts(c.m, "show", "alice").empty());
  c.server_flows("1");  // video
  REQUIRE(acts(c.m, "show", "alice").size() == 1);
  c.server_flows("0", false);  // the audio stalls (she muted): still shown from there
  CHECK(acts(c.m, "show", "alice").size() == 1);
  c.server_flows("1", false);
  auto shows = acts(c.m, "show", "alice");
  REQUIRE(shows.size() == 2);
  CHECK(shows[1]["path"] == "mesh");
}

TEST_CASE("server media: simulcast layers per peer", "[topology][media]") {
  Client c;
  c.go_sfu();
  c.m.input({{"type", "set-layer"}, {"peer", "alice"}, {"layer", "low"}});
  Json conf = c.m.take_next("message", "configure");
  CHECK(conf["handle_id"] == kSubHandle);
  CHECK(conf["body"]["streams"] == Json::array({{{"mid", "1"}, {"substream", 0}}}));
  // Janus confirms the switch: the app hears which layer it gets.
  c.m.plugin_event(nullptr, kSubHandle, kVr, {{"videoroom", "event"}, {"room", kRoom}, {"mid", "1"}, {"substream", 0}});
  CHECK(c.m.last_event("layer") == Json{{"event", "layer"}, {"peer", "alice"}, {"layer", "low"}});
  // The same layer again asks Janus nothing.
  c.m.input({{"type", "set-layer"}, {"peer", "alice"}, {"layer", "low"}});
  CHECK(c.m.nothing_sent());
  c.m.input({{"type", "set-layer"}, {"peer", "alice"}, {"layer", "ultra"}});
  CHECK(c.m.last_event("error")["code"] == "bad-message");
}

TEST_CASE("server media: mcu-audio joins the AudioBridge and moves audio only", "[topology][media]") {
  Client c;
  c.m.input({{"type", "topology"}, {"mode", "mcu-audio"}, {"epoch", 1}, {"reason", "policy"},
             {"server", {{"url", "ws://10.77.0.1:8188"}, {"room", kRoom}}}});
  c.m.open();
  c.m.attach(kBridgeHandle, kAb);
  Json join = c.m.take("message", "join");
  CHECK(join["body"]["display"] == "me");
  c.m.audiobridge(join, {{"audiobridge", "joined"}, {"room", kRoom}, {"id", 42},
                         {"participants", Json::array({{{"id", 43}, {"display", "alice"}, {"setup", true}, {"muted", false}}})}});
  Json streams = c.m.last_event("server-streams");
  CHECK(streams["pc"] == "audiobridge");
  CHECK(streams["streams"][0]["peer"].is_null());  // the mix is nobody's
  CHECK(acts(c.m, "show", "alice").empty());
  // The mix decodes: alice (in it) is heard from there; bob (not in the bridge yet) is not.
  c.m.input({{"type", "media-flowing"}, {"path", "server"}, {"pc", "audiobridge"}, {"mid", "0"}, {"flowing", true}});
  auto shown = acts(c.m, "show", "alice");
  REQUIRE(shown.size() == 1);
  CHECK(shown[0]["kinds"] == Json::array({"audio"}));
  CHECK(acts(c.m, "show", "bob").empty());
  c.m.input({{"type", "media-path"}, {"from", "alice"}, {"path", "server"}, {"using", true}});
  auto paused = acts(c.m, "mesh-sending", "alice");
  REQUIRE(paused.size() == 1);
  CHECK(paused[0]["kinds"] == Json::array({"audio"}));  // video stays on the mesh
  // Bob gets into the bridge.
  c.m.plugin_event(nullptr, kBridgeHandle, kAb, {{"audiobridge", "joined"}, {"room", kRoom},
                                                 {"participants", Json::array({{{"id", 44}, {"display", "bob"}, {"setup", true}, {"muted", false}}})}});
  CHECK(acts(c.m, "show", "bob").size() == 1);
  CHECK(c.m.events_named("error").empty());
}

TEST_CASE("server media: bad input is a typed error and changes nothing", "[topology][media]") {
  Client c;
  c.m.session.handle_text("{not json", 0);
  c.m.session.handle_text("[]", 0);
  c.m.input({{"type", "media-path"}, {"from", "alice"}, {"path", "elsewhere"}, {"using", true}});
  c.m.input({{"type", "media-flowing"}, {"path", "server"}, {"flowing", true}});
  c.m.input({{"type", "topology"}, {"mode", "sfu"}, {"epoch", 1}});  // sfu without a server
  c.m.input({{"type", "warp"}});
  c.m.pump();
  std::vector<std::string> codes;
  for (const auto& e : c.m.events_named("error")) codes.push_back(e["code"]);
  CHECK(codes == std::vector<std::string>{"bad-json", "bad-json", "bad-message", "bad-message", "bad-message", "unknown-type"});
  CHECK(c.m.actions.empty());
  CHECK(c.m.session.mode() == chorus::topology::Topology::P2P);
}

TEST_CASE("server media: a newcomer that never takes our feed gets our mesh media back", "[topology][media]") {
  Client c;
  c.go_sfu();
  c.m.clear();
  // Carl comes while the room is on the server: he is to take our feed there, so no mesh media.
  c.m.input({{"type", "peer-added"}, {"peer", "carl"}});
  auto off = acts(c.m, "mesh-sending", "carl");
  REQUIRE(off.size() == 1);
  CHECK(off[0]["on"] == false);
  // He says nothing (his media module failed to load): after the grace period he gets it.
  c.m.advance(5000);
  CHECK(acts(c.m, "mesh-sending", "carl").size() == 1);
  c.m.advance(4000);
  auto on = acts(c.m, "mesh-sending", "carl");
  REQUIRE(on.size() == 2);
  CHECK(on[1]["on"] == true);
  // A newcomer that does speak up in time keeps the server path.
  c.m.input({{"type", "peer-added"}, {"peer", "dana"}});
  c.m.input({{"type", "media-path"}, {"from", "dana"}, {"path", "server"}, {"using", true}});
  c.m.advance(10000);
  CHECK(acts(c.m, "mesh-sending", "dana").size() == 1);
}

TEST_CASE("server media: a handle that gives up starts the session over", "[topology][media]") {
  Media m{ServerMediaConfig{}};
  m.input({{"type", "self"}, {"peerId", "me"}, {"iceServers", Json::array()}});
  m.input({{"type", "peer-added"}, {"peer", "alice"}});
  m.input(sfu(1));
  m.open();
  m.attach(kPubHandle, kVr);
  Json join = m.take("message", "join");
  m.videoroom(join, {{"videoroom", "event"}, {"error_code", 436}, {"error", "User ID 1 already exists"}});
  CHECK(m.last_event("media-server")["state"] == "lost");
  CHECK(m.last_event("error")["fatal"] == false);
  const auto opened = m.actions_named("janus-open-socket").size();
  m.advance(1000);
  CHECK(m.actions_named("janus-open-socket").size() == opened + 1);
}

TEST_CASE("server media: sfu -> mesh -> sfu on the same server keeps the session", "[topology][media]") {
  Client c;
  c.go_sfu();
  c.server_flows("1");
  c.m.input({{"type", "media-path"}, {"from", "alice"}, {"path", "server"}, {"using", true}});
  // Back to the mesh: alice is still shown from the server (her mesh media is paused) and
  // takes our feed there, so the session stays; the room flips back before it could close.
  c.m.input(mesh(2));
  c.m.input(sfu(3));
  CHECK(c.m.actions_named("janus-close-socket").empty());
  CHECK(c.m.actions_named("janus-open-socket").size() == 1);
}

TEST_CASE("server media: a new seat starts over; leaving tells no peer anything", "[topology][media]") {
  Client c;
  c.go_sfu();
  c.server_flows("1");
  c.m.input({{"type", "self"}, {"peerId", "me-again"}, {"iceServers", Json::array()}});
  CHECK(c.m.actions_named("janus-close-socket").size() == 1);
  CHECK(c.m.actions_named("janus-open-socket").size() == 2);
  c.m.clear();
  c.m.input({{"type", "leave"}});
  CHECK(c.m.actions_named("send-media-path").empty());
  CHECK(c.m.actions_named("show").empty());
  CHECK(c.m.actions_named("janus-close-socket").size() == 1);
  c.m.input({{"type", "set-layer"}, {"peer", "alice"}, {"layer", "low"}});
  CHECK(c.m.last_event("error")["code"] == "unknown-peer");
}
