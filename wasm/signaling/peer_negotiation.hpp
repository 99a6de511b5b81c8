// One remote peer's RTCPeerConnection, as a sans-IO state machine implementing W3C "perfect
// negotiation" (webrtc-pc, section 10.7): the polite peer rolls back its own offer on glare,
// the impolite one ignores the colliding offer. Also: candidates that arrive before the
// remote description are queued, and ICE restarts when the connection fails or stays
// disconnected.
//
// The glue runs the actions (set-local-description ...) on the real RTCPeerConnection and
// reports results back; because those calls are asynchronous, this machine tracks what is in
// flight instead of reading pc.signalingState at the wrong moment.
#pragma once

#include <deque>
#include <optional>
#include <string>

#include "common/json.hpp"
#include "signaling/protocol.hpp"

namespace chorus {

// Where a PeerNegotiation's decisions go: actions for the glue, signals for the remote peer,
// events for the app. Implemented by ClientSession.
class PeerSink {
 public:
  virtual ~PeerSink() = default;
  virtual void action(Json action) = 0;
  virtual void signal(protocol::Signal signal) = 0;
  virtual void event(Json event) = 0;
};

struct NegotiationConfig {
  double ice_disconnected_restart_ms = 4000;
  double ice_restart_retry_ms = 8000;
  std::size_t max_queued_candidates = 256;
};

class PeerNegotiation {
 public:
  // `polite` comes from comparing peer ids, so both ends agree without talking.
  PeerNegotiation(std::string peer_id, bool polite, NegotiationConfig config);

  const std::string& peer_id() const { return peer_id_; }

  // Creates the connection ahead of time, off the critical path (the first one warms up the
  // browser's WebRTC stack), without offering.
  void prepare(PeerSink& sink, const Json& ice_servers);
  // The side that will answer, when the peer appears: prepares the connection and, if media is
  // ready, attaches the tracks too (setRemoteDescription pairs the offer's m-lines with
  // transceivers addTrack made), so the answer can go as soon as the offer is applied.
  void await_offer(PeerSink& sink, const Json& ice_servers, bool media_ready);
  // We initiate: create the connection and add our tracks; negotiationneeded follows.
  void start(PeerSink& sink, const Json& ice_servers);
  // Local media became available: an answer held back for it can go now.
  void on_media_ready(PeerSink& sink);
  void on_local_tracks_changed(PeerSink& sink);

  // From the remote peer, through signaling.
  void on_remote_signal(const protocol::Signal& signal, PeerSink& sink, const Json& ice_servers);

  // From the glue.
  void on_negotiation_needed(PeerSink& sink);
  void on_signaling_state(const std::string& state);
  void on_connection_state(const std::string& state, double now_ms, PeerSink& sink);
  void on_local_candidate(const Json& candidate, PeerSink& sink);
  void on_local_description_set(const Json& description, PeerSink& sink);
  // `media_ready`: the local tracks exist; if not, the answer waits for on_media_ready so it
  // carries our media without another round.
  void on_remote_description_set(PeerSink& sink, bool media_ready = true);
  void on_operation_failed(const std::string& operation, const std::string& name,
                           const std::string& message, PeerSink& sink);

  void handle_timeout(double now_ms, PeerSink& sink);
  std::optional<double> next_timeout() const;

  // After signaling was down: our offer may have been lost on the way (a socket that died
  // under it), so send it again if it is still unanswered. A duplicate is answered again.
  void resend_pending_offer(PeerSink& sink);

  // Closes the connection (peer left, or we leave).
  void close(PeerSink& sink);

 private:
  void ensure_peer_connection(PeerSink& sink, const Json& ice_servers);
  void answer(PeerSink& sink);
  void sync_senders(PeerSink& sink);
  void flush_candidates(PeerSink& sink);
  void on_remote_description(protocol::SignalKind kind, const std::string& sdp, PeerSink& sink);
  void on_remote_candidate(const Json& candidate, PeerSink& sink);
  bool busy() const;
  void restart_ice(double now_ms, PeerSink& sink);
  void report_error(const std::string& message, PeerSink& sink);

  std::string peer_id_;
  bool polite_;
  NegotiationConfig config_;

  bool pc_created_ = false;
  bool senders_synced_ = false;
  bool answer_waits_for_media_ = false;
  bool negotiation_needed_swallowed_ = false;
  bool awaiting_offer_ = false;  // the peer offers first: no offer of ours until we answered
  std::string signaling_state_ = "stable";
  bool making_offer_ = false;
  // What each in-flight setLocalDescription / setRemoteDescription was for ("offer"/"answer"),
  // in call order: the browser runs them on its operations chain in that order.
  std::deque<std::string> sld_in_flight_;
  std::deque<std::string> srd_in_flight_;
  // setRemoteDescription has been called: candidates can follow it on the browser's
  // operations chain. Before that they wait here.
  bool remote_description_requested_ = false;
  std::deque<Json> queued_candidates_;
  std::string last_sent_sdp_;
  std::string last_sent_offer_;

  std::string connection_state_ = "new";
  std::optional<double> ice_restart_at_;
  int ice_restarts_ = 0;
};

}  // namespace chorus
