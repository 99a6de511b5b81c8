#include "signaling/client_session.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace chorus {

namespace p = protocol;

namespace {

const char* state_name(ClientSession::State s) {
  switch (s) {
    case ClientSession::State::Idle: return "idle";
    case ClientSession::State::Connecting: return "connecting";
    case ClientSession::State::Joined: return "joined";
    case ClientSession::State::Reconnecting: return "reconnecting";
    case ClientSession::State::Left: return "left";
  }
  return "idle";
}

void earliest(std::optional<double>& acc, std::optional<double> t) {
  if (t && (!acc || *t < *acc)) acc = t;
}


}  // namespace

ClientConfig ClientConfig::from_json(const Json& config) {
  ClientConfig c;
  auto positive = [&](const char* key, auto& field) { read_positive(config, key, field); };
  if (auto seed = get_number(config, "seed"); seed && *seed >= 0 && *seed < 1.8e19) {
    c.seed = static_cast<std::uint64_t>(*seed);
  }
  positive("pingIntervalMs", c.ping_interval_ms);
  positive("pongTimeoutMs", c.pong_timeout_ms);
  positive("reconnectBaseMs", c.backoff.base_ms);
  positive("reconnectMaxMs", c.backoff.max_ms);
  positive("connectAttempts", c.connect_attempts);
  positive("resumeGraceMs", c.resume_grace_ms);
  positive("floorRequestTimeoutMs", c.floor_request_timeout_ms);
  positive("iceDisconnectedRestartMs", c.negotiation.ice_disconnected_restart_ms);
  positive("iceRestartRetryMs", c.negotiation.ice_restart_retry_ms);
  return c;
}

ClientSession::ClientSession(ClientConfig config) : config_(config), random_(config.seed) {}

// ---- inputs --------------------------------------------------------------------------------

void ClientSession::handle_text(std::string_view input, double now_ms) {
  auto value = parse_json(input);
  if (!value || !value->is_object()) {
    return error_event(ErrorCode::BadJson, "core input is not a JSON object", false);
  }
  handle(*value, now_ms);
}

void ClientSession::handle(const Json& input, double now_ms) {
  auto type = get_string(input, "type");
  if (!type) return error_event(ErrorCode::BadMessage, "core input needs a string `type`", false);
  const std::string& t = *type;
  if (t == "join") return on_join(input, now_ms);
  if (t == "leave") return on_leave();
  if (t == "floor-request") return on_floor_request(input, now_ms);
  if (t == "floor-release") return on_floor_release();
  if (t == "socket-open") return on_socket_open(now_ms);
  if (t == "socket-closed") return on_socket_closed(now_ms);
  if (t == "local-media-ready") return on_media_ready();
  if (t == "local-media-failed") {
    // Joining was for this media; without it the join has failed (an app that wants to go
    // on without it joins data-only and turns devices on later).
    if (media_ready_ || state_ == State::Left) return;
    return fail(ErrorCode::MediaUnavailable,
                get_string(input, "message").value_or("getUserMedia failed"));
  }
  if (t == "local-tracks-changed") {
    for (auto& [id, peer] : peers_) peer.negotiation.on_local_tracks_changed(*this);
    return;
  }
  if (t == "uplink-sample") return on_uplink_sample(input);
  if (t == "send-media-path") {
    // From the media-server core (ServerMedia): where we take `to`'s media from.
    auto to = get_string(input, "to");
    auto path = get_string(input, "path");
    auto using_it = get_bool(input, "using");
    if (!to || !path || (*path != "mesh" && *path != "server") || !using_it) {
      return error_event(ErrorCode::BadMessage, "send-media-path needs `to`, `path` and `using`", false);
    }
    if (peers_.count(*to) == 0) return;  // it left meanwhile: nobody to tell
    p::Signal m;
    m.peer = *to;
    m.kind = p::SignalKind::MediaPath;
    m.path_server = *path == "server";
    m.path_using = *using_it;
    return signal(std::move(m));
  }
  if (t == "send-layers") {
    // From the AbrCore: the simulcast layer we watch of `to`'s video on the SFU.
    auto to = get_string(input, "to");
    auto layer = get_string(input, "layer");
    if (!to || !layer || (*layer != "h" && *layer != "m" && *layer != "l")) {
      return error_event(ErrorCode::BadMessage, "send-layers needs `to` and `layer` (h, m or l)", false);
    }
    if (peers_.count(*to) == 0) return;  // it left meanwhile
    p::Signal m;
    m.peer = *to;
    m.kind = p::SignalKind::Layers;
    m.layer = *layer;
    return signal(std::move(m));
  }
  if (t == "broadcast") {
    const Json* data = find_field(input, "data");
    if (data == nullptr) return error_event(ErrorCode::BadMessage, "broadcast needs `data`", false);
    if (state_ == State::Joined && socket_open_) send(p::Broadcast{"", *data});
    else error_event(ErrorCode::NotConnected, "broadcast while the signaling socket is down", false);
    return;
  }
  if (t == "negotiationneeded" || t == "signalingstatechange" || t == "connectionstatechange" ||
      t == "icecandidate" || t == "local-description-set" || t == "remote-description-set" ||
      t == "operation-failed" || t == "datachannel-state") {
    return on_peer_event(t, input, now_ms);
  }
  error_event(ErrorCode::UnknownType, "unknown core input `" + t + "`", false);
}

void ClientSession::on_uplink_sample(const Json& input) {
  // The glue's getStats() of every mesh connection, every few seconds: the server's topology
  // selector reads the room's uplinks from these (docs/protocol.md, `uplink`).
  const Json* conns = find_field(input, "connections");
  if (conns == nullptr || !conns->is_array()) {
    return error_event(ErrorCode::BadMessage, "uplink-sample needs `connections`", false);
  }
  p::Uplink u;
  u.video = get_bool(input, "video").value_or(false);
  for (const Json& c : *conns) {
    // The connections share one uplink: each estimate is its share, their sum the whole.
    if (auto kbps = get_number(c, "availableKbps"); kbps && std::isfinite(*kbps) && *kbps > 0) u.available_kbps += *kbps;
    const std::string why = get_string(c, "qualityLimitationReason").value_or("none");
    u.limited = u.limited || why == "bandwidth" || why == "cpu";
  }
  if (state_ == State::Joined && socket_open_ && !peers_.empty()) send(u);
}

void ClientSession::on_peer_event(const std::string& type, const Json& input, double now_ms) {
  auto id = get_string(input, "peer");
  if (!id) return error_event(ErrorCode::BadMessage, type + " needs `peer`", false);
  auto it = peers_.find(*id);
  if (it == peers_.end()) return;  // a late event from a connection we already closed
  PeerNegotiation& n = it->second.negotiation;
  auto state = get_string(input, "state");
  if (type == "negotiationneeded") {
    n.on_negotiation_needed(*this);
  } else if (type == "signalingstatechange") {
    if (!state) return error_event(ErrorCode::BadMessage, type + " needs `state`", false);
    n.on_signaling_state(*state);
  } else if (type == "connectionstatechange") {
    if (!state) return error_event(ErrorCode::BadMessage, type + " needs `state`", false);
    n.on_connection_state(*state, now_ms, *this);
  } else if (type == "icecandidate") {
    const Json* c = find_field(input, "candidate");
    n.on_local_candidate(c != nullptr ? *c : Json(nullptr), *this);
  } else if (type == "local-description-set") {
    const Json* d = find_field(input, "description");
    n.on_local_description_set(d != nullptr ? *d : Json(nullptr), *this);
  } else if (type == "remote-description-set") {
    n.on_remote_description_set(*this, media_ready_);
  } else if (type == "operation-failed") {
    n.on_operation_failed(get_string(input, "operation").value_or(""),
                          get_string(input, "name").value_or("Error"),
                          get_string(input, "message").value_or(""), *this);
  }
  // datachannel-state: the glue delivers app messages itself; nothing to decide yet.
}

void ClientSession::on_join(const Json& input, double /*now_ms*/) {
  if (state_ != State::Idle) {
    return error_event(ErrorCode::AlreadyJoined, "this room object has already joined", false);
  }
  auto room = get_string(input, "room");
  auto name = get_string(input, "name");
  if (!room || !p::is_valid_room(*room)) {
    return fail(ErrorCode::BadMessage, "room must be 1..128 characters without control characters");
  }
  if (!name || !p::is_valid_name(*name)) {
    return fail(ErrorCode::BadMessage, "name must be 0..64 characters without control characters");
  }
  if (!p::optional_role(input, role_)) return fail(ErrorCode::BadMessage, "role must be talker, dispatcher, teacher or student");
  room_ = *room;
  name_ = *name;
  token_ = get_string(input, "token");
  if (auto n = get_number(input, "servers"); n && *n >= 1 && *n <= 64) servers_ = static_cast<int>(*n);
  if (auto policy = get_string(input, "policy")) {
    policy_ = topology::policy_from_string(*policy);
    if (!policy_) return fail(ErrorCode::BadMessage, "policy must be meeting, classroom or walkie");
  }
  // Signaling and getUserMedia run side by side; offers and answers wait for the media.
  media_ready_ = get_string(input, "media").value_or("ready") != "pending";
  set_state(State::Connecting);
  socket_opening_ = true;
  action({{"action", "open-socket"}, {"server", server_}});
}

void ClientSession::on_leave() {
  if (state_ == State::Left || state_ == State::Idle) return;
  fail_floor_requests("the room was left");
  if (socket_open_) {
    send(p::Leave{});
    action({{"action", "close-socket"}, {"code", 1000}});
  } else if (socket_opening_) {
    action({{"action", "close-socket"}, {"code", 1000}});
  }
  socket_open_ = socket_opening_ = false;
  for (auto& [id, peer] : peers_) peer.negotiation.close(*this);
  peers_.clear();
  outbox_.clear();
  reconnect_at_.reset();
  next_ping_at_.reset();
  set_state(State::Left);
}

void ClientSession::on_media_ready() {
  if (media_ready_) return;
  media_ready_ = true;
  for (auto& [id, peer] : peers_) {
    if (peer.start_waits_for_media) initiate(peer);
    peer.negotiation.on_media_ready(*this);
  }
}

void ClientSession::initiate(Peer& peer) {
  if (media_ready_) {
    peer.start_waits_for_media = false;
    peer.negotiation.start(*this, ice_servers_);
  } else {
    peer.start_waits_for_media = true;
    peer.negotiation.prepare(*this, ice_servers_);
  }
}

void ClientSession::on_socket_open(double now_ms) {
  if (!socket_opening_) return;
  socket_opening_ = false;
  socket_open_ = true;
  last_rx_ = now_ms;
  next_ping_at_ = now_ms + config_.ping_interval_ms;
  send_join();
}

void ClientSession::send_join() {
  p::Join join;
  join.room = room_;
  join.name = name_;
  join.token = token_;
  join.role = role_;
  join.policy = policy_;
  if (!peer_id_.empty()) join.resume = p::Resume{peer_id_, secret_};
  send(join);
}

void ClientSession::on_socket_closed(double now_ms) {
  if (!socket_open_ && !socket_opening_) return;  // a socket we already gave up on
  socket_open_ = socket_opening_ = false;
  next_ping_at_.reset();
  // The server frees the floor of a dropped socket at once, and answers nothing more on it.
  fail_floor_requests("the signaling connection was lost");
  if (holds_floor()) set_floor({std::nullopt, floor_.epoch, p::FloorReason::Dropped});
  if (state_ == State::Joined) set_state(State::Reconnecting);
  if (state_ != State::Connecting && state_ != State::Reconnecting) return;
  ++failed_attempts_;
  server_ = (server_ + 1) % servers_;  // the next attempt goes to the next server
  if (state_ == State::Connecting && failed_attempts_ >= config_.connect_attempts) {
    return fail(ErrorCode::SignalingUnreachable,
                "could not reach the signaling server after " + std::to_string(failed_attempts_) +
                    " attempts");
  }
  // Peer connections are left alone: media and data keep flowing while signaling is away.
  schedule_reconnect(now_ms);
}

void ClientSession::schedule_reconnect(double now_ms) {
  // With several servers the backoff counts passes over the list: the first attempt of a pass
  // waits the backoff, the others follow at once (a refused server says nothing of the next).
  const int attempt = failed_attempts_ - 1;
  const double delay = attempt % servers_ == 0 ? config_.backoff.delay(attempt / servers_, random_)
                                               : random_.next_unit() * kNextServerJitterMs;
  reconnect_at_ = now_ms + delay;
}

void ClientSession::handle_socket_message(std::string_view text, double now_ms) {
  if (!socket_open_) return;
  last_rx_ = now_ms;
  auto parsed = p::parse_server_message(text);
  if (auto* err = std::get_if<p::ProtocolError>(&parsed)) {
    return error_event(err->code, "bad frame from the server: " + err->message, false);
  }
  on_server_message(std::get<p::ServerMessage>(std::move(parsed)), now_ms);
}

void ClientSession::on_server_message(p::ServerMessage message, double now_ms) {
  if (auto* w = std::get_if<p::Welcome>(&message)) return on_welcome(std::move(*w), now_ms);
  if (auto* e = std::get_if<p::Error>(&message)) return on_server_error(*e, now_ms);
  if (state_ != State::Joined) return;  // nothing else is meaningful before welcome
  if (auto* j = std::get_if<p::PeerJoined>(&message)) {
    if (j->peer.id == peer_id_) return;
    auto it = peers_.find(j->peer.id);
    if (it != peers_.end()) {
      // Known from before a server restart: it resumed; keep the connection we have.
      it->second.confirm_deadline.reset();
      it->second.name = j->peer.name;
      flush_outbox_to(j->peer.id);
      it->second.negotiation.resend_pending_offer(*this);
    } else {
      // It will offer to us; make the connection now so that is off the critical path.
      add_peer(j->peer).negotiation.await_offer(*this, ice_servers_, media_ready_);
    }
  } else if (auto* l = std::get_if<p::PeerLeft>(&message)) {
    remove_peer(l->peer_id, l->reason);
  } else if (auto* s = std::get_if<p::Signal>(&message)) {
    // The server announces every peer before relaying its signals; one we do not know
    // has left already (its late candidates), so there is nothing to apply them to.
    auto it = peers_.find(s->peer);
    if (it == peers_.end()) return;
    it->second.confirm_deadline.reset();  // it talks, so it is there
    if (s->kind == p::SignalKind::MediaPath) {
      // Not the negotiation's: the media-server core (ServerMedia) acts on it.
      event({{"event", "media-path"}, {"from", s->peer}, {"path", s->path_server ? "server" : "mesh"},
             {"using", s->path_using}});
      return;
    }
    if (s->kind == p::SignalKind::Layers) {
      event({{"event", "layers"}, {"from", s->peer}, {"layer", s->layer}});  // for the AbrCore
      return;
    }
    it->second.negotiation.on_remote_signal(*s, *this, ice_servers_);
  } else if (auto* b = std::get_if<p::Broadcast>(&message)) {
    event({{"event", "broadcast"}, {"from", b->from}, {"data", b->data}});
  } else if (auto* f = std::get_if<p::FloorUpdate>(&message)) {
    set_floor(f->floor);
  } else if (auto* t = std::get_if<p::TopologyUpdate>(&message)) {
    // Epochs order the room's changes: one that crossed a newer one on the way is stale.
    if (t->topology.epoch > topology_.epoch) set_topology(t->topology);
  } else if (auto* g = std::get_if<p::FloorGranted>(&message)) {
    on_floor_granted(*g);
  }
}

void ClientSession::on_welcome(p::Welcome w, double now_ms) {
  if (state_ != State::Connecting && state_ != State::Reconnecting) return;
  if (!peer_id_.empty() && w.peer_id != peer_id_) {
    // A new identity: the others know us under another id, so old connections are useless.
    remove_all_peers("left");
  }
  const bool first = peer_id_.empty();
  peer_id_ = w.peer_id;
  secret_ = w.secret;
  if (w.ice_servers != ice_servers_) {
    // Fresh TURN credentials (they expire): connections made under the old ones take them
    // too, so their next ICE restart can still allocate a relay.
    for (const auto& [id, peer] : peers_) {
      action({{"action", "set-ice-servers"}, {"peer", id}, {"iceServers", w.ice_servers}});
    }
  }
  ice_servers_ = w.ice_servers;
  failed_attempts_ = 0;
  reconnect_at_.reset();

  std::set<std::string> listed;
  Json peers = Json::array();
  for (const auto& info : w.peers) {
    listed.insert(info.id);
    peers.push_back(p::to_json(info));
    auto it = peers_.find(info.id);
    if (it != peers_.end()) {
      it->second.confirm_deadline.reset();
      it->second.name = info.name;
    } else {
      // We are the newcomer (or it is new to us): we offer.
      initiate(add_peer(info));
    }
  }
  for (auto& [id, peer] : peers_) {
    // Not listed: after a server restart it may simply not have resumed yet.
    if (listed.count(id) == 0 && !peer.confirm_deadline) {
      peer.confirm_deadline = now_ms + config_.resume_grace_ms;
    }
  }
  set_state(State::Joined);
  // The seat's role and identity as the server decided them (an access token may set both).
  Json joined = {{"event", "joined"}, {"peerId", peer_id_}, {"room", room_},
                 {"peers", peers},    {"resumed", !first}, {"role", p::to_string(w.role)},
                 {"iceServers", ice_servers_}};
  if (w.identity) joined["identity"] = *w.identity;
  event(std::move(joined));
  // Who talks now: a late joiner learns it here, a resumed one what changed while it was away.
  set_floor(w.floor);
  // A welcome speaks for the room as its server holds it now (after a failover its epochs may
  // have started over), so it is taken whatever its epoch.
  if (w.topology) set_topology(*w.topology);

  for (auto& [id, peer] : peers_) {
    if (peer.confirm_deadline) continue;  // not back yet: its signals wait for peer-joined
    flush_outbox_to(id);
    peer.negotiation.resend_pending_offer(*this);
  }
}

void ClientSession::flush_outbox_to(const std::string& peer_id) {
  std::deque<p::Signal> keep;
  for (auto& s : outbox_) {
    if (s.peer == peer_id) send(s);
    else if (peers_.count(s.peer) != 0) keep.push_back(std::move(s));
  }
  outbox_.swap(keep);
}

void ClientSession::remove_all_peers(const std::string& reason) {
  std::vector<std::string> ids;
  for (const auto& [id, peer] : peers_) ids.push_back(id);
  for (const auto& id : ids) remove_peer(id, reason);
}

void ClientSession::on_server_error(const p::Error& e, double now_ms) {
  const bool join_refused = e.ref == "join" && state_ != State::Joined;
  if (join_refused && e.code == ErrorCode::ResumeRejected) {
    // Our seat went to someone else, or we were gone too long: start over as a new peer.
    remove_all_peers("left");
    outbox_.clear();
    peer_id_.clear();
    secret_.clear();
    error_event(e.code, e.message, false);
    if (socket_open_) send_join();
    return;
  }
  if (join_refused) return fail(e.code, e.message);
  if (e.ref == "floor-request") return on_floor_denied(e);
  // Signals are addressed by the core, never by the app: `unknown-peer` for one only means
  // the peer left while our candidates were on the way. Not the app's concern.
  if (e.code == ErrorCode::UnknownPeer && e.ref == "signal") return;
  (void)now_ms;
  error_event(e.code, e.message, false);
}

void ClientSession::handle_timeout(double now_ms) {
  if (reconnect_at_ && now_ms >= *reconnect_at_) {
    reconnect_at_.reset();
    socket_opening_ = true;
    action({{"action", "open-socket"}, {"server", server_}});
  }
  if (socket_open_ && next_ping_at_ && now_ms >= *next_ping_at_) {
    if (now_ms - last_rx_ > config_.pong_timeout_ms) {
      // The server went silent (a half-open TCP connection): give the socket up ourselves.
      action({{"action", "close-socket"}, {"code", 4000}});
      on_socket_closed(now_ms);
    } else {
      send(p::Ping{});
      next_ping_at_ = now_ms + config_.ping_interval_ms;
    }
  }
  while (!floor_requests_.empty() && now_ms >= floor_requests_.front().deadline) {
    const auto id = floor_requests_.front().id;
    floor_requests_.pop_front();
    floor_denied(id, ErrorCode::FloorDenied, "timeout",
                 "the server did not answer the floor request in time");
  }
  std::vector<std::string> expired;
  for (auto& [id, peer] : peers_) {
    peer.negotiation.handle_timeout(now_ms, *this);
    if (peer.confirm_deadline && now_ms >= *peer.confirm_deadline) expired.push_back(id);
  }
  for (const auto& id : expired) remove_peer(id, "timeout");
}

std::optional<double> ClientSession::next_timeout() const {
  std::optional<double> t;
  earliest(t, reconnect_at_);
  if (socket_open_) earliest(t, next_ping_at_);
  if (!floor_requests_.empty()) earliest(t, floor_requests_.front().deadline);
  for (const auto& [id, peer] : peers_) {
    earliest(t, peer.negotiation.next_timeout());
    earliest(t, peer.confirm_deadline);
  }
  return t;
}

std::optional<Json> ClientSession::poll() {
  if (out_.empty()) return std::nullopt;
  Json o = std::move(out_.front());
  out_.pop_front();
  return o;
}

// ---- outputs -------------------------------------------------------------------------------

void ClientSession::action(Json a) { out_.push_back(std::move(a)); }
void ClientSession::event(Json e) { out_.push_back(std::move(e)); }

void ClientSession::signal(p::Signal s) {
  auto it = peers_.find(s.peer);
  const bool confirmed = it != peers_.end() && !it->second.confirm_deadline;
  if (state_ == State::Joined && socket_open_ && confirmed) return send(std::move(s));
  // Signaling is down: hold it (bounded) and deliver after the resume.
  if (outbox_.size() >= config_.max_outbox) outbox_.pop_front();
  outbox_.push_back(std::move(s));
}

void ClientSession::send(const p::ClientMessage& message) {
  action({{"action", "send"}, {"data", p::serialize(message)}});
}

void ClientSession::set_state(State s) {
  if (s == state_) return;
  state_ = s;
  event({{"event", "statechange"}, {"state", state_name(s)}});
}

void ClientSession::fail(ErrorCode code, std::string message) {
  error_event(code, std::move(message), true);
  on_leave();
  set_state(State::Left);  // on_leave does nothing before the first join
}

void ClientSession::error_event(ErrorCode code, std::string message, bool fatal) {
  event({{"event", "error"}, {"code", to_string(code)}, {"message", std::move(message)}, {"fatal", fatal}});
}

ClientSession::Peer& ClientSession::add_peer(const p::PeerInfo& info) {
  auto [it, inserted] = peers_.try_emplace(
      info.id,
      Peer{info.name, PeerNegotiation(info.id, polite_towards(info.id), config_.negotiation), std::nullopt});
  if (inserted) event({{"event", "peerjoined"}, {"peer", p::to_json(info)}});
  return it->second;
}

void ClientSession::remove_peer(const std::string& id, const std::string& reason) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  it->second.negotiation.close(*this);
  peers_.erase(it);
  event({{"event", "peerleft"}, {"peerId", id}, {"reason", reason}});
}

}  // namespace chorus

// ---- floor control -------------------------------------------------------------------------

namespace chorus {

void ClientSession::on_floor_request(const Json& input, double now_ms) {
  std::optional<double> id;
  if (const Json* v = find_field(input, "id"); v != nullptr && !v->is_null()) {
    if (!v->is_number() || !std::isfinite(v->get<double>())) {
      return error_event(ErrorCode::BadMessage, "floor-request `id` must be a number", false);
    }
    id = v->get<double>();
  }
  if (state_ != State::Joined || !socket_open_) {
    return floor_denied(id, ErrorCode::NotConnected, "not-connected",
                        "the signaling server is not connected");
  }
  const double wire_id = next_floor_wire_id_++;
  floor_requests_.push_back({wire_id, id, now_ms + config_.floor_request_timeout_ms});
  send(p::FloorRequest{wire_id});
}

void ClientSession::on_floor_release() {
  // Also while a request is on its way: the server takes them in order, so the grant it may
  // be about to make ends at once. Without a socket there is nothing to release: the server
  // freed our floor when the socket dropped.
  granted_epoch_ = 0;
  if (state_ == State::Joined && socket_open_) send(p::FloorRelease{});
}

void ClientSession::on_floor_granted(const p::FloorGranted& g) {
  // Matched by id; an answer without one (another server) goes to the oldest request.
  auto it = std::find_if(floor_requests_.begin(), floor_requests_.end(),
                         [&](const FloorRequest& r) { return !g.id || r.wire_id == *g.id; });
  if (it == floor_requests_.end()) {
    // The answer to a request we gave up on (timed out): the app does not think it talks, so
    // hand the floor back, unless it holds this very grant through another request.
    if (floor_requests_.empty() && g.epoch != granted_epoch_) send(p::FloorRelease{});
    return;
  }
  const auto id = it->id;
  floor_requests_.erase(it);
  granted_epoch_ = g.epoch;
  Json e = {{"event", "floorgranted"}, {"epoch", g.epoch}, {"maxTalkMs", g.max_talk_ms}};
  if (id) e["id"] = *id;
  event(std::move(e));
}

void ClientSession::on_floor_denied(const p::Error& error) {
  auto it = std::find_if(floor_requests_.begin(), floor_requests_.end(),
                         [&](const FloorRequest& r) { return !error.id || r.wire_id == *error.id; });
  if (it == floor_requests_.end()) return;  // its request timed out already
  const auto id = it->id;
  floor_requests_.erase(it);
  floor_denied(id, error.code, error.holder ? "busy" : "refused", error.message, error.holder);
}

void ClientSession::set_topology(p::TopologyInfo topology) {
  if (topology == topology_) return;
  topology_ = std::move(topology);
  event(p::topology_fields({{"event", "topology"}}, topology_));
}

void ClientSession::set_floor(p::FloorState floor) {
  if (floor == floor_) return;
  const bool held = holds_floor();
  const std::uint32_t old_epoch = floor_.epoch;
  floor_ = std::move(floor);
  event(p::floor_fields({{"event", "floor"}}, floor_));
  if (!held || holds_floor()) return;
  granted_epoch_ = 0;
  // Lost without asking: the UI must stop the talker (preempted, timeout, dropped).
  if (floor_.reason && *floor_.reason != p::FloorReason::Released) {
    event({{"event", "floorrevoked"},
           {"epoch", old_epoch},
           {"reason", p::to_string(*floor_.reason)},
           {"holder", floor_.holder ? Json(*floor_.holder) : Json(nullptr)}});
  }
}

void ClientSession::floor_denied(const std::optional<double>& id, ErrorCode code, const char* reason,
                                 std::string message, std::optional<std::string> holder) {
  if (!holder) holder = floor_.holder;  // as far as we know
  Json e = {{"event", "floordenied"},
            {"code", to_string(code)},
            {"reason", reason},
            {"holder", holder ? Json(*holder) : Json(nullptr)},
            {"message", std::move(message)}};
  if (id) e["id"] = *id;
  event(std::move(e));
}

void ClientSession::fail_floor_requests(const char* why) {
  while (!floor_requests_.empty()) {
    const auto id = floor_requests_.front().id;
    floor_requests_.pop_front();
    floor_denied(id, ErrorCode::NotConnected, "not-connected", why);
  }
}

}  // namespace chorus
