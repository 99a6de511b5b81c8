// PeerNegotiation alone, scripted step by step: perfect negotiation on glare, candidate
// queuing, ICE restart timers.
#include <catch2/catch.hpp>
#include <vector>

#include "signaling/peer_negotiation.hpp"

using chorus::Json;
using chorus::NegotiationConfig;
using chorus::PeerNegotiation;
namespace p = chorus::protocol;

namespace {

struct Sink : chorus::PeerSink {
  std::vector<Json> actions, events;
  std::vector<p::Signal> signals;
  void action(Json a) override { actions.push_back(std::move(a)); }
  void signal(p::Signal s) override { signals.push_back(std::move(s)); }
  void event(Json e) override { events.push_back(std::move(e)); }
  std::vector<std::string> action_names() {
    std::vector<std::string> names;
    for (auto& a : actions) names.push_back(a["action"]);
    actions.clear();
    return names;
  }
};

p::Signal description(p::SignalKind kind, std::string sdp) {
  p::Signal s;
  s.peer = "remote";
  s.kind = kind;
  s.sdp = std::move(sdp);
  return s;
}

p::Signal candidate(std::string line) {
  p::Signal s;
  s.peer = "remote";
  s.kind = p::SignalKind::Candidate;
  s.candidate.candidate = std::move(line);
  s.candidate.sdp_mid = "0";
  return s;
}

const Json kNoIce = Json::array();

// Brings a peer to "have-local-offer" with its offer sent.
void make_offer(PeerNegotiation& n, Sink& sink, const std::string& sdp) {
  n.on_negotiation_needed(sink);
  n.on_signaling_state("have-local-offer");
  n.on_local_description_set({{"type", "offer"}, {"sdp", sdp}}, sink);
}

}  // namespace

TEST_CASE("the initiator creates the connection, adds tracks and offers", "[negotiation]") {
  Sink sink;
  PeerNegotiation n("remote", true, {});
  n.start(sink, kNoIce);
  CHECK(sink.action_names() == std::vector<std::string>{"create-peer-connection", "sync-senders"});
  n.on_negotiation_needed(sink);
  CHECK(sink.action_names() == std::vector<std::string>{"set-local-description"});
  n.on_signaling_state("have-local-offer");
  n.on_local_description_set({{"type", "offer"}, {"sdp", "OFFER"}}, sink);
  REQUIRE(sink.signals.size() == 1);
  CHECK(sink.signals[0].kind == p::SignalKind::Offer);
  CHECK(sink.signals[0].sdp == "OFFER");
  n.on_remote_signal(description(p::SignalKind::Answer, "ANSWER"), sink, kNoIce);
  auto srd = sink.actions;
  REQUIRE(srd.size() == 1);
  CHECK(srd[0]["description"] == Json{{"type", "answer"}, {"sdp", "ANSWER"}});
}

TEST_CASE("the answerer creates its connection on the offer and attaches tracks before answering",
          "[negotiation]") {
  Sink sink;
  PeerNegotiation n("remote", false, {});
  n.on_remote_signal(description(p::SignalKind::Offer, "OFFER"), sink, kNoIce);
  CHECK(sink.action_names() ==
        std::vector<std::string>{"create-peer-connection", "set-remote-description"});
  n.on_signaling_state("have-remote-offer");
  n.on_remote_description_set(sink);
  CHECK(sink.action_names() == std::vector<std::string>{"sync-senders", "set-local-description"});
  n.on_signaling_state("stable");
  n.on_local_description_set({{"type", "answer"}, {"sdp", "ANSWER"}}, sink);
  REQUIRE(sink.signals.size() == 1);
  CHECK(sink.signals[0].kind == p::SignalKind::Answer);
}

TEST_CASE("glare: the polite peer rolls back, the impolite one ignores", "[negotiation]") {
  Sink polite_sink, impolite_sink;
  PeerNegotiation polite("remote", true, {}), impolite("remote", false, {});
  polite.start(polite_sink, kNoIce);
  impolite.start(impolite_sink, kNoIce);

  SECTION("both offers already sent") {
    make_offer(polite, polite_sink, "P-OFFER");
    make_offer(impolite, impolite_sink, "I-OFFER");
  }
  SECTION("offers cross while setLocalDescription is still in flight") {
    polite.on_negotiation_needed(polite_sink);
    impolite.on_negotiation_needed(impolite_sink);
  }
  polite_sink.actions.clear();
  impolite_sink.actions.clear();

  impolite.on_remote_signal(description(p::SignalKind::Offer, "P-OFFER"), impolite_sink, kNoIce);
  CHECK(impolite_sink.actions.empty());  // ignored

  polite.on_remote_signal(description(p::SignalKind::Offer, "I-OFFER"), polite_sink, kNoIce);
  REQUIRE(polite_sink.actions.size() == 1);
  CHECK(polite_sink.actions[0]["action"] == "set-remote-description");
  CHECK(polite_sink.actions[0]["description"]["sdp"] == "I-OFFER");
}

TEST_CASE("candidates before the remote description are queued, then follow it in order",
          "[negotiation]") {
  Sink sink;
  PeerNegotiation n("remote", true, {});
  n.on_remote_signal(candidate("c1"), sink, kNoIce);
  n.on_remote_signal(candidate("c2"), sink, kNoIce);
  CHECK(sink.actions.empty());
  n.on_remote_signal(description(p::SignalKind::Offer, "OFFER"), sink, kNoIce);
  // setRemoteDescription, then the queued candidates: the browser's operations chain runs
  // them in this order, so they need not wait for the description to finish applying.
  CHECK(sink.action_names() == std::vector<std::string>{"create-peer-connection", "set-remote-description",
                                                         "add-ice-candidate", "add-ice-candidate"});
  n.on_remote_signal(candidate("c3"), sink, kNoIce);
  REQUIRE(sink.actions.size() == 1);
  CHECK(sink.actions[0]["candidate"]["candidate"] == "c3");
}

TEST_CASE("candidates for an ignored offer wait for our own exchange", "[negotiation]") {
  Sink sink;
  PeerNegotiation impolite("remote", false, {});
  impolite.start(sink, kNoIce);
  make_offer(impolite, sink, "MINE");
  impolite.on_remote_signal(description(p::SignalKind::Offer, "THEIRS"), sink, kNoIce);  // ignored
  sink.actions.clear();
  impolite.on_remote_signal(candidate("c1"), sink, kNoIce);
  CHECK(sink.actions.empty());
  impolite.on_remote_signal(description(p::SignalKind::Answer, "ANSWER"), sink, kNoIce);
  CHECK(sink.action_names() == std::vector<std::string>{"set-remote-description", "add-ice-candidate"});
}

TEST_CASE("the candidate queue is bounded", "[negotiation]") {
  Sink sink;
  NegotiationConfig config;
  config.max_queued_candidates = 4;
  PeerNegotiation n("remote", true, config);
  for (int i = 0; i < 1000; ++i) n.on_remote_signal(candidate("c" + std::to_string(i)), sink, kNoIce);
  n.on_remote_signal(description(p::SignalKind::Offer, "OFFER"), sink, kNoIce);
  std::vector<std::string> added;
  for (auto& a : sink.actions) {
    if (a["action"] == "add-ice-candidate") added.push_back(a["candidate"]["candidate"]);
  }
  CHECK(added == std::vector<std::string>{"c996", "c997", "c998", "c999"});
}

TEST_CASE("a stale negotiationneeded does not start a second offer", "[negotiation]") {
  Sink sink;
  PeerNegotiation n("remote", true, {});
  n.start(sink, kNoIce);
  n.on_negotiation_needed(sink);
  sink.actions.clear();
  n.on_negotiation_needed(sink);  // while our offer is being made
  CHECK(sink.actions.empty());
  n.on_signaling_state("have-local-offer");
  n.on_local_description_set({{"type", "offer"}, {"sdp", "OFFER"}}, sink);
  n.on_negotiation_needed(sink);  // while waiting for the answer
  CHECK(sink.actions.empty());
  n.on_remote_signal(description(p::SignalKind::Answer, "ANSWER"), sink, kNoIce);
  n.on_signaling_state("stable");
  n.on_remote_description_set(sink);
  sink.actions.clear();
  n.on_negotiation_needed(sink);  // the browser fires again once stable: now it counts
  CHECK(sink.action_names() == std::vector<std::string>{"set-local-description"});
}

TEST_CASE("negotiationneeded from the default channel before the answer is ignored",
          "[negotiation]") {
  Sink sink;
  PeerNegotiation n("remote", true, {});
  n.on_remote_signal(description(p::SignalKind::Offer, "OFFER"), sink, kNoIce);
  sink.actions.clear();
  n.on_negotiation_needed(sink);
  CHECK(sink.actions.empty());
}

TEST_CASE("a stale answer is not applied", "[negotiation]") {
  Sink sink;
  PeerNegotiation n("remote", true, {});
  n.start(sink, kNoIce);
  sink.actions.clear();
  n.on_remote_signal(description(p::SignalKind::Answer, "LATE"), sink, kNoIce);
  CHECK(sink.actions.empty());
}

TEST_CASE("ICE restarts on failure and after a long disconnection", "[negotiation]") {
  Sink sink;
  NegotiationConfig config;
  config.ice_disconnected_restart_ms = 4000;
  config.ice_restart_retry_ms = 8000;
  PeerNegotiation n("remote", false, config);
  n.start(sink, kNoIce);
  n.on_connection_state("connected", 0, sink);
  sink.actions.clear();

  SECTION("failed restarts at once, and again with backoff while it stays down") {
    n.on_connection_state("failed", 1000, sink);
    CHECK(sink.action_names() == std::vector<std::string>{"restart-ice"});
    REQUIRE(n.next_timeout() == Approx(9000));
    n.handle_timeout(8999, sink);
    CHECK(sink.actions.empty());
    n.handle_timeout(9000, sink);
    CHECK(sink.action_names() == std::vector<std::string>{"restart-ice"});
    CHECK(n.next_timeout() == Approx(9000 + 16000));
    n.on_connection_state("connected", 10000, sink);
    CHECK_FALSE(n.next_timeout().has_value());
  }
  SECTION("a short disconnection heals by itself") {
    n.on_connection_state("disconnected", 1000, sink);
    n.on_connection_state("connected", 3000, sink);
    n.handle_timeout(6000, sink);
    CHECK(sink.actions.empty());
  }
  SECTION("a long disconnection restarts ICE") {
    n.on_connection_state("disconnected", 1000, sink);
    n.handle_timeout(4999, sink);
    CHECK(sink.actions.empty());
    n.handle_timeout(5000, sink);
    CHECK(sink.action_names() == std::vector<std::string>{"restart-ice"});
  }
  // Every state change is reported to the app.
  bool reported = false;
  for (auto& e : sink.events) reported |= e["event"] == "peerstatechange";
  CHECK(reported);
}

TEST_CASE("an answer waits for local media, then carries it", "[negotiation]") {
  Sink sink;
  PeerNegotiation n("remote", true, {});
  n.prepare(sink, kNoIce);  // made when the peer appeared
  CHECK(sink.action_names() == std::vector<std::string>{"create-peer-connection"});
  n.on_remote_signal(description(p::SignalKind::Offer, "OFFER"), sink, kNoIce);
  CHECK(sink.action_names() == std::vector<std::string>{"set-remote-description"});
  n.on_remote_description_set(sink, /*media_ready=*/false);
  CHECK(sink.actions.empty());
  n.on_media_ready(sink);
  CHECK(sink.action_names() == std::vector<std::string>{"sync-senders", "set-local-description"});
  n.on_media_ready(sink);  // only once
  CHECK(sink.actions.empty());
}

TEST_CASE("an offer right behind the answer being applied is not glare", "[negotiation]") {
  // W3C isSettingRemoteAnswerPending: the impolite peer applies the answer to its offer, and
  // the polite peer's next offer arrives before that finishes.
  Sink sink;
  PeerNegotiation impolite("remote", false, {});
  impolite.start(sink, kNoIce);
  make_offer(impolite, sink, "MINE");
  impolite.on_remote_signal(description(p::SignalKind::Answer, "ANSWER"), sink, kNoIce);
  sink.actions.clear();
  impolite.on_remote_signal(description(p::SignalKind::Offer, "NEXT"), sink, kNoIce);
  REQUIRE(sink.actions.size() == 1);
  CHECK(sink.actions[0]["description"]["sdp"] == "NEXT");
}

TEST_CASE("an unanswered offer is sent again on request, an answered one is not", "[negotiation]") {
  Sink sink;
  PeerNegotiation n("remote", true, {});
  n.start(sink, kNoIce);
  make_offer(n, sink, "OFFER");
  sink.signals.clear();
  n.resend_pending_offer(sink);
  REQUIRE(sink.signals.size() == 1);
  CHECK(sink.signals[0].sdp == "OFFER");
  n.on_remote_signal(description(p::SignalKind::Answer, "ANSWER"), sink, kNoIce);
  n.on_signaling_state("stable");
  n.on_remote_description_set(sink);
  sink.signals.clear();
  n.resend_pending_offer(sink);
  CHECK(sink.signals.empty());
}

TEST_CASE("an action the glue could not carry out is reported to the app", "[negotiation]") {
  Sink sink;
  PeerNegotiation n("remote", true, {});
  n.start(sink, kNoIce);
  n.on_operation_failed("create-peer-connection", "SyntaxError", "bad ICE server URL", sink);
  REQUIRE(sink.events.size() == 1);
  CHECK(sink.events[0]["code"] == "negotiation-failed");
  n.on_negotiation_needed(sink);  // a set-local-description that threw clears "making offer"
  n.on_operation_failed("set-local-description", "InvalidStateError", "closed", sink);
  sink.actions.clear();
  n.on_negotiation_needed(sink);
  CHECK(sink.action_names() == std::vector<std::string>{"set-local-description"});
  n.on_operation_failed("addIceCandidate", "OperationError", "unknown ufrag", sink);
  CHECK(sink.events.size() == 2);  // candidate failures stay quiet
}
