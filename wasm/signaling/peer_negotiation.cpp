#include "signaling/peer_negotiation.hpp"

#include <algorithm>

namespace chorus {

namespace p = protocol;

PeerNegotiation::PeerNegotiation(std::string peer_id, bool polite, NegotiationConfig config)
    : peer_id_(std::move(peer_id)), polite_(polite), config_(config) {}

void PeerNegotiation::ensure_peer_connection(PeerSink& sink, const Json& ice_servers) {
  if (pc_created_) return;
  pc_created_ = true;
  sink.action({{"action", "create-peer-connection"},
               {"peer", peer_id_},
               {"polite", polite_},
               {"iceServers", ice_servers}});
}

void PeerNegotiation::prepare(PeerSink& sink, const Json& ice_servers) {
  ensure_peer_connection(sink, ice_servers);
}

void PeerNegotiation::await_offer(PeerSink& sink, const Json& ice_servers, bool media_ready) {
  ensure_peer_connection(sink, ice_servers);
  awaiting_offer_ = true;
  if (media_ready) sync_senders(sink);
}

void PeerNegotiation::start(PeerSink& sink, const Json& ice_servers) {
  ensure_peer_connection(sink, ice_servers);
  // Adding tracks (and the default channel the glue creates) fires negotiationneeded.
  sync_senders(sink);
}

void PeerNegotiation::on_local_tracks_changed(PeerSink& sink) {
  if (pc_created_) sync_senders(sink);
}

void PeerNegotiation::sync_senders(PeerSink& sink) {
  senders_synced_ = true;
  sink.action({{"action", "sync-senders"}, {"peer", peer_id_}});
  // A negotiationneeded we set aside while the connection had no tracks is not fired again
  // (the browser's flag is still set): act on it now that the tracks are attached.
  if (negotiation_needed_swallowed_) on_negotiation_needed(sink);
}

void PeerNegotiation::on_remote_signal(const p::Signal& signal, PeerSink& sink,
                                       const Json& ice_servers) {
  switch (signal.kind) {
    case p::SignalKind::Offer:
    case p::SignalKind::Answer:
      // The answering side creates its connection when the first offer arrives, so the
      // offer's transceivers exist before our tracks are attached to them.
      ensure_peer_connection(sink, ice_servers);
      on_remote_description(signal.kind, signal.sdp, sink);
      break;
    case p::SignalKind::Candidate: {
      const auto& c = signal.candidate;
      Json init = {{"candidate", c.candidate}};
      init["sdpMid"] = c.sdp_mid ? Json(*c.sdp_mid) : Json(nullptr);
      init["sdpMLineIndex"] = c.sdp_mline_index ? Json(*c.sdp_mline_index) : Json(nullptr);
      if (c.username_fragment) init["usernameFragment"] = *c.username_fragment;
      on_remote_candidate(init, sink);
      break;
    }
    case p::SignalKind::EndOfCandidates:
      on_remote_candidate(Json(nullptr), sink);
      break;
    case p::SignalKind::MediaPath:
    case p::SignalKind::Layers:
      break;  // the client session hands these to the media cores
  }
}

void PeerNegotiation::on_remote_description(p::SignalKind kind, const std::string& sdp,
                                            PeerSink& sink) {
  const bool is_offer = kind == p::SignalKind::Offer;
  if (!is_offer && signaling_state_ != "have-local-offer") {
    // An answer to an offer we no longer have (rolled back on glare): applying it would
    // only fail with InvalidStateError.
    return;
  }
  // W3C's isSettingRemoteAnswerPending: while the answer to our offer is being applied we
  // are as good as stable, and an offer right behind it (the peer renegotiating) is no glare.
  const bool setting_remote_answer = !srd_in_flight_.empty() && srd_in_flight_.back() == "answer";
  const bool ready_for_offer =
      !making_offer_ && (signaling_state_ == "stable" || setting_remote_answer);
  const bool offer_collision = is_offer && !ready_for_offer;
  if (!polite_ && offer_collision) return;  // impolite: our offer wins; the polite peer answers it
  srd_in_flight_.push_back(is_offer ? "offer" : "answer");
  // A polite peer in have-local-offer gets an implicit rollback from setRemoteDescription.
  sink.action({{"action", "set-remote-description"},
               {"peer", peer_id_},
               {"description", {{"type", is_offer ? "offer" : "answer"}, {"sdp", sdp}}}});
  remote_description_requested_ = true;
  flush_candidates(sink);
}

void PeerNegotiation::flush_candidates(PeerSink& sink) {
  while (!queued_candidates_.empty()) {
    sink.action({{"action", "add-ice-candidate"},
                 {"peer", peer_id_},
                 {"candidate", std::move(queued_candidates_.front())}});
    queued_candidates_.pop_front();
  }
}

void PeerNegotiation::on_remote_candidate(const Json& candidate, PeerSink& sink) {
  if (!remote_description_requested_) {
    // addIceCandidate before setRemoteDescription fails; keep them (bounded) until then.
    if (queued_candidates_.size() >= config_.max_queued_candidates) queued_candidates_.pop_front();
    queued_candidates_.push_back(candidate);
    return;
  }
  sink.action({{"action", "add-ice-candidate"}, {"peer", peer_id_}, {"candidate", candidate}});
}

void PeerNegotiation::on_negotiation_needed(PeerSink& sink) {
  if (!pc_created_) return;
  // The browser fires negotiationneeded only when it is stable with an empty operations
  // chain, and fires it again when a description exchange returns to "stable" while
  // negotiation is still needed (webrtc-pc "update the negotiation-needed flag"). So an event
  // that finds us busy is stale: the exchange in flight ends in a fresh one if it matters.
  if (busy() || signaling_state_ != "stable") return;
  // Before our tracks are attached (a connection prepared for the peer that will offer, or
  // answering its first offer) the only change is the default channel, which that offer's
  // answer covers: offering now would only collide with it.
  if (!senders_synced_ || awaiting_offer_) {
    // Remembered: the browser will not fire again while its flag stays set.
    negotiation_needed_swallowed_ = true;
    return;
  }
  negotiation_needed_swallowed_ = false;
  making_offer_ = true;
  sld_in_flight_.push_back("offer");
  sink.action({{"action", "set-local-description"}, {"peer", peer_id_}});
}

bool PeerNegotiation::busy() const {
  return making_offer_ || !sld_in_flight_.empty() || !srd_in_flight_.empty();
}

void PeerNegotiation::on_signaling_state(const std::string& state) { signaling_state_ = state; }

void PeerNegotiation::resend_pending_offer(PeerSink& sink) {
  if (signaling_state_ != "have-local-offer" || making_offer_ || last_sent_offer_.empty()) return;
  p::Signal s;
  s.peer = peer_id_;
  s.kind = p::SignalKind::Offer;
  s.sdp = last_sent_offer_;
  sink.signal(std::move(s));
}

void PeerNegotiation::on_local_description_set(const Json& description, PeerSink& sink) {
  if (!sld_in_flight_.empty()) {
    if (sld_in_flight_.front() == "offer") making_offer_ = false;
    sld_in_flight_.pop_front();
  }
  auto type = get_string(description, "type");
  auto sdp = get_string(description, "sdp");
  // After a glare rollback the reported description can be the answer we already sent.
  if (type && sdp && !sdp->empty() && *sdp != last_sent_sdp_ &&
      (*type == "offer" || *type == "answer")) {
    last_sent_sdp_ = *sdp;
    p::Signal s;
    s.peer = peer_id_;
    s.kind = *type == "offer" ? p::SignalKind::Offer : p::SignalKind::Answer;
    s.sdp = *sdp;
    if (s.kind == p::SignalKind::Offer) last_sent_offer_ = *sdp;
    sink.signal(std::move(s));
  }
}

void PeerNegotiation::on_remote_description_set(PeerSink& sink, bool media_ready) {
  std::string type = "answer";
  if (!srd_in_flight_.empty()) {
    type = srd_in_flight_.front();
    srd_in_flight_.pop_front();
  }
  if (type != "offer") return;
  if (!senders_synced_ && !media_ready) {
    answer_waits_for_media_ = true;
    return;
  }
  answer(sink);
}

void PeerNegotiation::on_media_ready(PeerSink& sink) {
  if (answer_waits_for_media_) {
    answer_waits_for_media_ = false;
    answer(sink);
  } else if (awaiting_offer_ && !senders_synced_) {
    sync_senders(sink);  // ready before the offer came: attach now, answer at once later
  }
}

void PeerNegotiation::answer(PeerSink& sink) {
  awaiting_offer_ = false;
  // The answer covers the default channel and every track the offer has room for; what it
  // leaves out, the browser flags again once the exchange is back to "stable".
  negotiation_needed_swallowed_ = false;
  if (!senders_synced_) {
    // Attach our tracks now: addTrack reuses the transceivers the offer created, so the
    // answer carries our media without another round.
    senders_synced_ = true;
    sink.action({{"action", "sync-senders"}, {"peer", peer_id_}});
  }
  sld_in_flight_.push_back("answer");
  sink.action({{"action", "set-local-description"}, {"peer", peer_id_}});
}

void PeerNegotiation::on_operation_failed(const std::string& operation, const std::string& name,
                                          const std::string& message, PeerSink& sink) {
  // The glue reports promise rejections by method name and actions that threw by action name.
  if (operation == "setLocalDescription" || operation == "set-local-description") {
    if (!sld_in_flight_.empty()) {
      if (sld_in_flight_.front() == "offer") making_offer_ = false;
      sld_in_flight_.pop_front();
    }
    report_error("setLocalDescription failed: " + name + ": " + message, sink);
  } else if (operation == "setRemoteDescription" || operation == "set-remote-description") {
    if (!srd_in_flight_.empty()) srd_in_flight_.pop_front();
    report_error("setRemoteDescription failed: " + name + ": " + message, sink);
  } else if (operation != "addIceCandidate" && operation != "add-ice-candidate") {
    // An action the glue could not carry out at all (e.g. new RTCPeerConnection refused its
    // ICE servers): the app must hear of it.
    report_error(operation + " failed: " + name + ": " + message, sink);
  }
  // addIceCandidate failures are expected around ICE restarts and ignored offers (a candidate
  // for a description we never applied); the connection state tells the real story.
}

void PeerNegotiation::on_local_candidate(const Json& candidate, PeerSink& sink) {
  p::Signal s;
  s.peer = peer_id_;
  if (candidate.is_null()) {
    s.kind = p::SignalKind::EndOfCandidates;
  } else {
    auto cand = get_string(candidate, "candidate");
    if (!cand) return;
    s.kind = p::SignalKind::Candidate;
    s.candidate.candidate = *cand;
    s.candidate.sdp_mid = get_string(candidate, "sdpMid");
    // Clamped before the cast: converting an out-of-range double is undefined behaviour.
    if (auto index = get_number(candidate, "sdpMLineIndex"); index && *index >= 0 && *index <= 65535) {
      s.candidate.sdp_mline_index = static_cast<int>(*index);
    }
    s.candidate.username_fragment = get_string(candidate, "usernameFragment");
  }
  sink.signal(std::move(s));
}

void PeerNegotiation::on_connection_state(const std::string& state, double now_ms, PeerSink& sink) {
  if (state == connection_state_) return;
  connection_state_ = state;
  sink.event({{"event", "peerstatechange"}, {"peerId", peer_id_}, {"state", state}});
  if (state == "connected") {
    ice_restart_at_.reset();
    ice_restarts_ = 0;
  } else if (state == "disconnected") {
    // Often transient (a lost burst of consent checks): give ICE a few seconds first.
    if (!ice_restart_at_) ice_restart_at_ = now_ms + config_.ice_disconnected_restart_ms;
  } else if (state == "failed") {
    restart_ice(now_ms, sink);
  } else if (state == "closed") {
    ice_restart_at_.reset();
  }
}

void PeerNegotiation::restart_ice(double now_ms, PeerSink& sink) {
  ++ice_restarts_;
  sink.action({{"action", "restart-ice"}, {"peer", peer_id_}});
  // If this restart does not bring the connection back, try again, backing off up to 8x.
  const double factor = std::min(1 << std::min(ice_restarts_ - 1, 3), 8);
  ice_restart_at_ = now_ms + config_.ice_restart_retry_ms * factor;
}

void PeerNegotiation::handle_timeout(double now_ms, PeerSink& sink) {
  if (!ice_restart_at_ || now_ms < *ice_restart_at_) return;
  if (connection_state_ == "connected" || connection_state_ == "closed") {
    ice_restart_at_.reset();
    return;
  }
  restart_ice(now_ms, sink);
}

std::optional<double> PeerNegotiation::next_timeout() const { return ice_restart_at_; }

void PeerNegotiation::close(PeerSink& sink) {
  if (pc_created_) sink.action({{"action", "close-peer-connection"}, {"peer", peer_id_}});
  pc_created_ = false;
  ice_restart_at_.reset();
  queued_candidates_.clear();
}

void PeerNegotiation::report_error(const std::string& message, PeerSink& sink) {
  sink.event({{"event", "error"},
              {"code", to_string(ErrorCode::NegotiationFailed)},
              {"message", message},
              {"peer", peer_id_},
              {"fatal", false}});
}

}  // namespace chorus
