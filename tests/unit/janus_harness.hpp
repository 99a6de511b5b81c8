// A scripted Janus for the JanusSession tests: the test plays Janus (it reads what the session
// sent and answers with frames written as the Janus docs show them) and the glue (it reports
// what the peer connections did). Everything the session outputs is kept, in order.
// BasicHarness<M> drives any machine that owns a Janus session with the same calls (handle,
// handle_socket_message, handle_timeout, poll, next_timeout): ServerMedia's tests use it too.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <deque>
#include <iostream>
#include <string>
#include <type_traits>
#include <vector>

#include "common/json.hpp"
#include "janus/audiobridge_participant.hpp"
#include "janus/janus_session.hpp"
#include "janus/videoroom_publisher.hpp"
#include "janus/videoroom_subscriber.hpp"

namespace janus_test {

using chorus::Json;
using chorus::janus::JanusSession;

constexpr std::uint64_t kSessionId = 4000000001ULL;

template <typename Machine>
class BasicHarness {
 public:
  template <typename Config>
  explicit BasicHarness(Config config) : session(std::move(config)) {}
  BasicHarness() = default;

  Machine session;
  double now = 0;
  std::vector<Json> events;   // every event, in order
  std::vector<Json> actions;  // every action except janus-send, in order
  std::deque<Json> sent;      // Janus requests sent and not yet taken by the test

  // Drains the session's outputs.
  void pump() {
    while (auto out = session.poll()) {
      if (std::getenv("JANUS_TRACE")) std::cerr << "OUT " << out->dump().substr(0, 300) << "\n";
      if (out->contains("event")) {
        events.push_back(*out);
        continue;
      }
      if ((*out)["action"] == "janus-send") {
        auto m = chorus::parse_json((*out)["data"].template get<std::string>());
        REQUIRE(m);
        sent.push_back(*m);
      } else {
        actions.push_back(*out);
      }
    }
  }

  void input(Json in) {
    session.handle(in, now);
    pump();
  }
  void frame(const Json& message) { raw(message.dump()); }
  void raw(const std::string& text) {
    if (std::getenv("JANUS_TRACE")) std::cerr << "IN  " << text.substr(0, 300) << "\n";
    session.handle_socket_message(text, now);
    pump();
  }
  // Moves the clock, firing every timer due on the way.
  void advance(double ms) {
    const double end = now + ms;
    for (;;) {
      auto t = session.next_timeout();
      if (!t || *t > end) break;
      now = std::max(now, *t);
      session.handle_timeout(now);
      pump();
    }
    now = end;
    session.handle_timeout(now);
    pump();
  }

  // The oldest request not taken yet; it must be a `janus` verb (and plugin `request`).
  Json take(const std::string& verb, const std::string& request = "") {
    INFO("expected a Janus `" << verb << "` " << request);
    REQUIRE(!sent.empty());
    Json m = sent.front();
    sent.pop_front();
    INFO("got " << m.dump());
    REQUIRE(m["janus"] == verb);
    if (!request.empty()) REQUIRE(m["body"]["request"] == request);
    return m;
  }
  // Skips keepalives and trickles to the next request of that kind.
  Json take_next(const std::string& verb, const std::string& request = "") {
    while (!sent.empty() && sent.front()["janus"] != verb) sent.pop_front();
    return take(verb, request);
  }
  bool nothing_sent() const { return sent.empty(); }

  // ---- Janus's side, as its docs write it ----
  // The session's id once it has one (a replayed recording brings its own), else ours.
  Json sid() const {
    if constexpr (std::is_same_v<Machine, JanusSession>) {
      if (!session.session_id().is_null()) return session.session_id();
    }
    return kSessionId;
  }
  void success(const Json& req, Json data) {
    frame({{"janus", "success"}, {"session_id", sid()}, {"transaction", req["transaction"]},
           {"data", std::move(data)}});
  }
  void ack(const Json& req) {
    frame({{"janus", "ack"}, {"session_id", sid()}, {"transaction", req["transaction"]}});
  }
  void error(const Json& req, int code, const std::string& reason) {
    frame({{"janus", "error"}, {"session_id", sid()}, {"transaction", req["transaction"]},
           {"error", {{"code", code}, {"reason", reason}}}});
  }
  // A plugin event on a handle; `req` null for an unsolicited one.
  void plugin_event(const Json& req, std::uint64_t handle, const std::string& plugin, Json data,
                    Json jsep = nullptr) {
    Json m = {{"janus", "event"}, {"session_id", sid()}, {"sender", handle},
              {"plugindata", {{"plugin", plugin}, {"data", std::move(data)}}}};
    if (!req.is_null()) m["transaction"] = req["transaction"];
    if (!jsep.is_null()) m["jsep"] = std::move(jsep);
    frame(m);
  }
  // The usual asynchronous answer: ack, then the event with the same transaction.
  void answer(const Json& req, const std::string& plugin, Json data, Json jsep = nullptr) {
    ack(req);
    plugin_event(req, req["handle_id"].get<std::uint64_t>(), plugin, std::move(data), std::move(jsep));
  }
  void videoroom(const Json& req, Json data, Json jsep = nullptr) {
    answer(req, "janus.plugin.videoroom", std::move(data), std::move(jsep));
  }
  void audiobridge(const Json& req, Json data, Json jsep = nullptr) {
    answer(req, "janus.plugin.audiobridge", std::move(data), std::move(jsep));
  }
  // A synchronous plugin answer (create, exists ...): `success` with plugindata.
  void plugin_success(const Json& req, const std::string& plugin, Json data) {
    frame({{"janus", "success"}, {"session_id", sid()}, {"transaction", req["transaction"]},
           {"sender", req["handle_id"]}, {"plugindata", {{"plugin", plugin}, {"data", std::move(data)}}}});
  }
  void core_event(const std::string& kind, std::uint64_t handle, Json fields = Json::object()) {
    Json m = {{"janus", kind}, {"session_id", sid()}, {"sender", handle}};
    for (auto it = fields.begin(); it != fields.end(); ++it) m[it.key()] = it.value();
    frame(m);
  }

  // connect -> socket open -> create -> success: the session is ready.
  void open() {
    if constexpr (std::is_same_v<Machine, JanusSession>) session.connect(now);
    pump();
    REQUIRE(last_action()["action"] == "janus-open-socket");
    input({{"type", "janus-socket-open"}});
    Json create = take("create");
    CHECK(!create.contains("session_id"));
    success(create, {{"id", kSessionId}});
    if constexpr (std::is_same_v<Machine, JanusSession>) {
      REQUIRE(session.state() == JanusSession::State::Ready);
    }
  }
  // Answers the pending attach for `pc` with handle id `handle`.
  void attach(std::uint64_t handle, const std::string& plugin) {
    Json a = take("attach");
    CHECK(a["plugin"] == plugin);
    CHECK(a["session_id"] == kSessionId);
    success(a, {{"id", handle}});
  }

  // ---- the glue's side ----
  void local_description(const std::string& pc, const std::string& type, const std::string& sdp) {
    input({{"type", "local-description-set"}, {"pc", pc}, {"description", {{"type", type}, {"sdp", sdp}}}});
  }
  void remote_description_set(const std::string& pc) {
    input({{"type", "remote-description-set"}, {"pc", pc}});
  }
  void candidate(const std::string& pc, Json c) { input({{"type", "icecandidate"}, {"pc", pc}, {"candidate", std::move(c)}}); }

  // ---- looking at the outputs ----
  Json last_action() const { return actions.empty() ? Json(nullptr) : actions.back(); }
  std::vector<Json> actions_named(const std::string& name, const std::string& pc = "") const {
    std::vector<Json> r;
    for (const auto& a : actions) {
      if (a["action"] == name && (pc.empty() || a.value("pc", "") == pc)) r.push_back(a);
    }
    return r;
  }
  std::vector<Json> events_named(const std::string& name) const {
    std::vector<Json> r;
    for (const auto& e : events) {
      if (e["event"] == name) r.push_back(e);
    }
    return r;
  }
  Json last_event(const std::string& name) const {
    auto all = events_named(name);
    return all.empty() ? Json(nullptr) : all.back();
  }
  std::vector<Json> errors() const { return events_named("janus-error"); }
  std::string handle_state(const std::string& pc) const {
    std::string state;
    for (const auto& e : events) {
      if (e["event"] == "janus-handle" && e["pc"] == pc) state = e["state"];
    }
    return state;
  }
  void clear() {
    events.clear();
    actions.clear();
  }
};

using Harness = BasicHarness<JanusSession>;

inline Json offer(const std::string& sdp) { return {{"type", "offer"}, {"sdp", sdp}}; }
inline Json answer_jsep(const std::string& sdp) { return {{"type", "answer"}, {"sdp", sdp}}; }

// A VideoRoom publisher object as Janus lists it.
inline Json publisher_info(std::uint64_t id, const std::string& display, bool simulcast = true) {
  return {{"id", id},
          {"display", display},
          {"audio_codec", "opus"},
          {"video_codec", "vp8"},
          {"streams", Json::array({{{"type", "audio"}, {"mindex", 0}, {"mid", "0"}, {"codec", "opus"}},
                                   {{"type", "video"}, {"mindex", 1}, {"mid", "1"}, {"codec", "vp8"},
                                    {"simulcast", simulcast}}})}};
}

// A subscription's stream summary entry (attached / updated).
inline Json sub_stream(int mindex, const std::string& type, std::uint64_t feed, const std::string& feed_mid,
                       const std::string& display) {
  return {{"type", type},          {"active", true},       {"mindex", mindex},
          {"mid", std::to_string(mindex)}, {"ready", false}, {"send", true},
          {"feed_id", feed},       {"feed_mid", feed_mid}, {"feed_display", display}};
}

}  // namespace janus_test
