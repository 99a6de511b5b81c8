#include "signaling/room_server.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/hmac.hpp"
#include "signaling/access_token.hpp"
#include "signaling/seat_secret.hpp"

namespace chorus {

namespace p = protocol;

namespace {

// The wire `type` of a message that needs a room (for the `ref` of not-joined).
const char* type_of(const p::ClientMessage& m) {
  if (std::holds_alternative<p::Signal>(m)) return "signal";
  if (std::holds_alternative<p::Broadcast>(m)) return "broadcast";
  if (std::holds_alternative<p::FloorRequest>(m)) return "floor-request";
  if (std::holds_alternative<p::FloorRelease>(m)) return "floor-release";
  return "leave";
}

}  // namespace

ServerConfig ServerConfig::from_json(const Json& config) {
  ServerConfig c;
  auto positive = [&](const char* key, auto& field) { read_positive(config, key, field); };
  positive("maxPeersPerRoom", c.max_peers_per_room);
  positive("maxMessageBytes", c.max_message_bytes);
  positive("heartbeatTimeoutMs", c.heartbeat_timeout_ms);
  positive("resumeGraceMs", c.resume_grace_ms);
  positive("sweepIntervalMs", c.sweep_interval_ms);
  positive("maxPendingPerPeer", c.max_pending_per_peer);
  positive("maxPendingBytesPerPeer", c.max_pending_bytes_per_peer);
  positive("tombstoneMs", c.tombstone_ms);
  positive("maxTombstonesPerRoom", c.max_tombstones_per_room);
  if (const Json* ice = find_field(config, "iceServers"); ice != nullptr && ice->is_array()) {
    c.ice_servers = *ice;
  }
  if (const Json* floor = find_field(config, "floor"); floor != nullptr && floor->is_object()) {
    // At most 2^31 - 1 ms: what a JS host's setTimeout can wait for.
    if (auto v = get_number(*floor, "maxTalkMs"); v && *v >= 1 && *v <= 2147483647.0) {
      c.max_talk_ms = std::floor(*v);
    }
    if (auto v = get_bool(*floor, "dispatchers")) c.dispatchers = *v;
  }
  if (const Json* auth = find_field(config, "auth"); auth != nullptr && auth->is_object()) {
    if (auto secret = get_string(*auth, "secret")) c.auth_secret = *secret;
    // `required` without a secret could never admit anyone: it needs the secret.
    c.auth_required = !c.auth_secret.empty() && get_bool(*auth, "required").value_or(true);
  }
  c.resume_key = get_string(config, "resumeKey").value_or("");
  if (c.resume_key.empty() && !c.auth_secret.empty()) {
    // Every process of a cluster shares the token secret, so it can share this key too.
    c.resume_key = digest_bytes(hmac_sha256(c.auth_secret, "chorus-rtc resume key"));
  }
  if (const Json* turn = find_field(config, "turn"); turn != nullptr && turn->is_object()) {
    c.turn = TurnConfig::from_json(*turn);
  }
  if (const Json* limits = find_field(config, "limits"); limits != nullptr && limits->is_object()) {
    c.limits = AbuseLimits::from_json(*limits);
  }
  if (const Json* janus = find_field(config, "janus"); janus != nullptr && janus->is_object()) {
    c.janus_url = get_string(*janus, "url").value_or("");
    c.janus_sfu = get_bool(*janus, "sfu").value_or(true);
    c.janus_mcu = get_bool(*janus, "mcu").value_or(true);
  }
  if (const Json* t = find_field(config, "topology"); t != nullptr && t->is_object()) {
    auto& s = c.topology;
    read_positive(*t, "sfuFrom", s.sfu_from);
    read_positive(*t, "meshBackAt", s.mesh_back_at);
    read_positive(*t, "classroomSfuFrom", s.classroom_sfu_from);
    read_positive(*t, "walkieMcuFrom", s.walkie_mcu_from);
    read_positive(*t, "limitedSfuFrom", s.limited_sfu_from);
    read_positive(*t, "meshFallbackMax", s.mesh_fallback_max);
    read_positive(*t, "downHoldMs", s.down_hold_ms);
    read_positive(*t, "limitedHoldMs", s.limited_hold_ms);
    read_positive(*t, "reportTtlMs", s.report_ttl_ms);
    read_positive(*t, "minStreamKbps", s.min_stream_kbps);
  }
  // The seed arrives as up to four uint32 numbers (JS numbers cannot hold 64 bits exactly).
  if (const Json* seed = find_field(config, "seed"); seed != nullptr && seed->is_array()) {
    std::uint64_t words[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < 4 && i < seed->size(); ++i) {
      if ((*seed)[i].is_number_unsigned() || (*seed)[i].is_number_integer()) {
        words[i] = static_cast<std::uint32_t>((*seed)[i].get<std::int64_t>());
      }
    }
    c.seed_lo = words[0] | (words[1] << 32);
    c.seed_hi = words[2] | (words[3] << 32);
  }
  return c;
}

RoomServer::RoomServer(ServerConfig config)
    : config_(std::move(config)), random_(config_.seed_lo, config_.seed_hi) {}

std::size_t RoomServer::peer_count(std::string_view room) const {
  auto it = rooms_.find(std::string(room));
  return it == rooms_.end() ? 0 : it->second.seats.size();
}

std::size_t RoomServer::seat_count() const {
  std::size_t n = 0;
  for (const auto& [name, room] : rooms_) n += room.seats.size();
  return n;
}

p::FloorState RoomServer::floor_state(std::string_view room) const {
  auto it = rooms_.find(std::string(room));
  return it == rooms_.end() ? p::FloorState{} : it->second.floor.state();
}

void RoomServer::handle_connect(ConnId conn, double now_ms, const std::string& address,
                                const std::string& origin) {
  now_ = now_ms;
  const AbuseLimits& limits = config_.limits;
  auto turn_away = [&](ErrorCode code, std::string message, int close_code) {
    send_error(conn, code, std::move(message));
    out_.push_back({ServerOutput::Kind::Close, conn, "", close_code, std::string(to_string(code))});
    ++counters_.policy_closes;
  };
  if (!limits.origin_allowed(origin)) {
    return turn_away(ErrorCode::OriginNotAllowed,
                     origin.empty() ? "connections must come from a web page (no Origin)"
                                    : "origin " + origin + " is not allowed",
                     1008);
  }
  if (!address.empty() && conns_per_address_[address] >= limits.max_connections_per_address) {
    return turn_away(ErrorCode::TooManyConnections,
                     "more than " + std::to_string(limits.max_connections_per_address) +
                         " connections from one address",
                     1013);
  }
  if (conns_.empty() && rooms_.empty()) next_sweep_ = now_ms + config_.sweep_interval_ms;
  Conn c;
  c.last_seen = now_ms;
  c.address = address;
  c.rate = TokenBucket(limits.message_burst, limits.messages_per_second / 1000.0, now_ms);
  c.strikes = TokenBucket(limits.max_strikes, 1.0 / limits.strike_decay_ms, now_ms);
  conns_[conn] = std::move(c);
  if (!address.empty()) ++conns_per_address_[address];
}

void RoomServer::handle_message(ConnId conn, std::string_view data, bool is_binary,
                                std::size_t byte_length, double now_ms) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;  // closed by us (heartbeat) while the frame was in flight
  Conn& c = it->second;
  c.last_seen = now_ms;
  now_ = now_ms;
  ++counters_.messages_in;
  counters_.bytes_in += byte_length;
  if (!c.rate.take(now_ms)) {
    // Dropped unread. The first drop of an episode is answered; every drop is a strike.
    if (c.told_rate_limited) return refuse(conn, c, ErrorCode::RateLimited, "");
    c.told_rate_limited = true;
    return refuse(conn, c, ErrorCode::RateLimited,
                  "over " + std::to_string(static_cast<int>(config_.limits.messages_per_second)) +
                      " messages per second: messages are dropped");
  }
  c.told_rate_limited = false;
  if (is_binary) {
    return refuse(conn, c, ErrorCode::BinaryNotSupported, "binary frames are not part of protocol v1");
  }
  if (byte_length > config_.max_message_bytes || data.size() > config_.max_message_bytes) {
    return refuse(conn, c, ErrorCode::MessageTooLarge,
                  "frame of " + std::to_string(std::max(byte_length, data.size())) +
                      " bytes is over the limit of " + std::to_string(config_.max_message_bytes));
  }
  auto parsed = p::parse_client_message(data);
  if (auto* err = std::get_if<p::ProtocolError>(&parsed)) {
    return refuse(conn, c, err->code, err->message, err->ref);
  }
  auto& message = std::get<p::ClientMessage>(parsed);
  if (auto* join = std::get_if<p::Join>(&message)) return on_join(conn, c, std::move(*join));
  if (auto* ping = std::get_if<p::Ping>(&message)) return send(conn, p::Pong{ping->id});
  if (c.peer_id.empty()) return refuse(conn, c, ErrorCode::NotJoined, "join a room first", type_of(message));
  if (auto* signal = std::get_if<p::Signal>(&message)) return on_signal(c, std::move(*signal));
  if (auto* b = std::get_if<p::Broadcast>(&message)) return on_broadcast(c, std::move(*b));
  if (auto* r = std::get_if<p::FloorRequest>(&message)) return on_floor_request(conn, c, *r);
  if (std::holds_alternative<p::FloorRelease>(message)) return on_floor_release(c);
  if (auto* u = std::get_if<p::Uplink>(&message)) return on_uplink(c, *u);
  on_leave(c);
}

std::optional<RoomServer::Admission> RoomServer::admit(ConnId conn, Conn& c, const p::Join& join) {
  Admission a{join.role, std::nullopt};
  const bool powerful = join.role == p::Role::Dispatcher || join.role == p::Role::Teacher;
  if (!config_.auth_secret.empty() && (join.token || config_.auth_required)) {
    if (!join.token) {
      refuse(conn, c, ErrorCode::Unauthorized, "this server requires an access token", "join");
      return std::nullopt;
    }
    if (unix_ms_ <= 0) {
      send_error(conn, ErrorCode::Unauthorized, "the server's clock is not set; tokens cannot be checked",
                 "join");
      return std::nullopt;
    }
    auto verdict = verify_access_token(*join.token, config_.auth_secret, join.room, unix_ms_);
    if (auto* no = std::get_if<TokenRejection>(&verdict)) {
      refuse(conn, c, no->code, no->message, "join");
      return std::nullopt;
    }
    auto& claims = std::get<AccessClaims>(verdict);
    a.identity = claims.identity;
    if (claims.role) {
      // The token decides; a join that asks for another role (than the default) is refused.
      if (join.role != p::Role::Talker && join.role != *claims.role) {
        refuse(conn, c, ErrorCode::Unauthorized,
               "the token grants the role " + std::string(to_string(*claims.role)) + ", not " +
                   std::string(to_string(join.role)),
               "join");
        return std::nullopt;
      }
      a.role = *claims.role;
      return a;
    }
  }
  if (powerful && !config_.auth_secret.empty()) {
    refuse(conn, c, ErrorCode::Unauthorized,
           "the " + std::string(to_string(join.role)) + " role needs a token that grants it", "join");
    return std::nullopt;
  }
  if (join.role == p::Role::Dispatcher && !config_.dispatchers) {
    // Refused, not downgraded: a client that believes it can preempt must learn it cannot.
    send_error(conn, ErrorCode::FloorDenied, "this server does not allow the dispatcher role", "join");
    return std::nullopt;
  }
  return a;
}

void RoomServer::on_join(ConnId conn, Conn& c, p::Join join) {
  if (!c.peer_id.empty()) {
    return refuse(conn, c, ErrorCode::AlreadyJoined, "this socket is already in room " + c.room, "join");
  }
  Room* room = nullptr;
  if (auto it = rooms_.find(join.room); it != rooms_.end()) room = &it->second;

  p::Welcome welcome;
  welcome.room = join.room;
  bool announce = true;

  if (join.resume && room != nullptr && room->seats.count(join.resume->peer_id) != 0) {
    Seat& seat = room->seats[join.resume->peer_id];
    if (!constant_time_equal(seat.secret, join.resume->secret)) {
      return send_error(conn, ErrorCode::ResumeRejected,
                        "peer id " + join.resume->peer_id + " belongs to someone else", "join");
    }
    // Take the seat back. A socket still bound to it is stale (the client saw it die first).
    if (seat.conn != 0 && seat.conn != conn) {
      if (auto old = conns_.find(seat.conn); old != conns_.end()) old->second.peer_id.clear();
      out_.push_back({ServerOutput::Kind::Close, seat.conn, "", 4001, "replaced by a resumed session"});
      // Its old socket died, so did its grant (as if we had seen the drop); the seat is away
      // meanwhile so the change goes to the others only, and the welcome tells it.
      seat.conn = 0;
      free_floor(join.room, *room, join.resume->peer_id, p::FloorReason::Dropped);
    }
    seat.conn = conn;  // a resume keeps the seat's role and identity: the others know it by them
    seat.name = join.name;
    welcome.peer_id = join.resume->peer_id;
    welcome.secret = seat.secret;
    welcome.resumed = true;
    announce = false;
  } else {
    // A new seat, or one the server cannot honour from memory (after a restart or a
    // failover). With a resume key, such a resume proves itself and brings back its role and
    // identity (its token was checked when the seat was made, and may have expired since);
    // without one it is taken on trust. A new seat's token is checked now.
    std::optional<Admission> admission;
    if (join.resume && !config_.resume_key.empty()) {
      auto claims = verify_seat_secret(config_.resume_key, join.room, join.resume->peer_id, join.resume->secret);
      if (!claims) {
        return refuse(conn, c, ErrorCode::ResumeRejected,
                      "the resume secret is not that of peer " + join.resume->peer_id + "; join afresh", "join");
      }
      admission = Admission{claims->role, claims->identity};
    } else {
      admission = admit(conn, c, join);
      if (!admission) return;
    }
    if (room == nullptr && rooms_.size() >= config_.limits.max_rooms) {
      return send_error(conn, ErrorCode::TooManyRooms,
                        "this server holds its maximum of " + std::to_string(config_.limits.max_rooms) +
                            " rooms",
                        "join");
    }
    if (room != nullptr && room->seats.size() >= config_.max_peers_per_room) {
      return send_error(conn, ErrorCode::RoomFull,
                        "room is full (" + std::to_string(config_.max_peers_per_room) + " peers)", "join");
    }
    if (join.resume && room != nullptr && is_tombstoned(*room, join.resume->peer_id)) {
      // Its grace ran out here and the others closed their connections to it: it must come
      // back as a new peer, not with an id they no longer have a connection for.
      return send_error(conn, ErrorCode::ResumeRejected,
                        "peer id " + join.resume->peer_id + " left the room; join afresh", "join");
    }
    if (room == nullptr) room = &make_room(join.room, join.policy);
    // A resume the server cannot honour from memory (it restarted) still gets its id back
    // when the id is free, so the other peers' connections stay valid.
    welcome.peer_id = join.resume ? join.resume->peer_id : new_peer_id(*room);
    if (!config_.resume_key.empty()) {
      welcome.secret = make_seat_secret(config_.resume_key, join.room, welcome.peer_id,
                                        {admission->role, admission->identity});
    } else {
      welcome.secret = join.resume ? join.resume->secret : random_.token(24);
    }
    room->seats[welcome.peer_id] =
        Seat{join.name, admission->role, admission->identity, welcome.secret, conn, 0, {}, 0};
    // The others hear of a change now; the newcomer reads it in its welcome.
    if (room->selector.peer_joined(welcome.peer_id, now_)) topology_changed(*room, welcome.peer_id);
  }

  for (const auto& [id, seat] : room->seats) {
    if (id != welcome.peer_id) welcome.peers.push_back({id, seat.name, seat.role, seat.identity});
  }
  {
    const Seat& own = room->seats[welcome.peer_id];
    welcome.role = own.role;
    welcome.identity = own.identity;
  }
  welcome.ice_servers = config_.ice_servers;
  if (config_.turn.enabled()) {
    welcome.ice_servers.push_back(turn_ice_server(config_.turn, welcome.peer_id, unix_ms_));
  }
  welcome.floor = room->floor.state();
  welcome.topology = topology_of(*room);
  c.room = join.room;
  c.peer_id = welcome.peer_id;
  send(conn, welcome);

  Seat& seat = room->seats[welcome.peer_id];
  while (!seat.pending.empty()) {
    out_.push_back({ServerOutput::Kind::Send, conn, std::move(seat.pending.front()), 0, ""});
    seat.pending.pop_front();
  }
  seat.pending_bytes = 0;
  if (announce) {
    broadcast_to_room(*room, welcome.peer_id,
                      p::PeerJoined{{welcome.peer_id, join.name, seat.role, seat.identity}});
  }
}

void RoomServer::on_floor_request(ConnId conn, Conn& c, const p::FloorRequest& request) {
  Room& room = rooms_[c.room];
  const auto before = room.floor.deadline();
  const auto answer =
      room.floor.request(c.peer_id, room.seats[c.peer_id].role, now_, config_.max_talk_ms);
  if (!answer.granted) {
    const auto& holder = room.floor.state().holder;
    std::string why = holder ? "the floor is held by " + *holder : "no floor grants are left in this room";
    return send(conn, p::Error{ErrorCode::FloorDenied, std::move(why), "floor-request", request.id, holder});
  }
  // Everyone (the requester too) hears of the change before the requester gets its answer, so
  // its view of the room's floor is already the new one when its request resolves.
  if (answer.changed) floor_changed(c.room, room, before);
  send(conn, p::FloorGranted{request.id, answer.epoch, config_.max_talk_ms});
}

void RoomServer::on_uplink(Conn& c, const p::Uplink& u) {
  Room& room = rooms_[c.room];
  if (room.selector.report(c.peer_id, {u.video, u.available_kbps, u.limited}, now_)) {
    topology_changed(room);
  }
}

RoomServer::Room& RoomServer::make_room(const std::string& room_name,
                                        std::optional<topology::RoomPolicy> policy) {
  Room& room = rooms_[room_name];
  room.selector = topology::TopologySelector(policy.value_or(topology::RoomPolicy::Meeting), config_.topology);
  const bool media = media_reachable_ && !config_.janus_url.empty();
  room.selector.set_available(media && config_.janus_sfu, media && config_.janus_mcu, now_);
  // Janus room ids are integers; below 2^31 they are safe in every client and plugin.
  room.media_room = static_cast<double>(random_.next_u32() % 0x7ffffffeu + 1);
  return room;
}

p::TopologyInfo RoomServer::topology_of(const Room& room) const {
  const auto& d = room.selector.decision();
  p::TopologyInfo t{d.topology, d.epoch, d.reason, std::nullopt};
  if (d.topology == topology::Topology::Sfu || d.topology == topology::Topology::McuAudio) {
    t.server = p::MediaServer{config_.janus_url, room.media_room};
  }
  return t;
}

void RoomServer::topology_changed(Room& room, std::string_view except) {
  const std::string frame = p::serialize(p::ServerMessage{p::TopologyUpdate{topology_of(room)}});
  for (const auto& [id, seat] : room.seats) {
    if (seat.conn != 0 && id != except) out_.push_back({ServerOutput::Kind::Send, seat.conn, frame, 0, ""});
  }
}

void RoomServer::set_media_servers(bool reachable, double now_ms) {
  now_ = now_ms;
  media_reachable_ = reachable;
  const bool media = reachable && !config_.janus_url.empty();
  for (auto& [name, room] : rooms_) {
    if (room.selector.set_available(media && config_.janus_sfu, media && config_.janus_mcu, now_ms)) {
      topology_changed(room);
    }
  }
}

p::TopologyInfo RoomServer::topology(std::string_view room) const {
  auto it = rooms_.find(std::string(room));
  return it == rooms_.end() ? p::TopologyInfo{} : topology_of(it->second);
}

void RoomServer::on_floor_release(Conn& c) {
  // From someone else (a release that crossed a timeout or a preemption): nothing to do.
  free_floor(c.room, rooms_[c.room], c.peer_id, p::FloorReason::Released);
}

void RoomServer::free_floor(const std::string& room_name, Room& room, const std::string& peer_id,
                            p::FloorReason reason) {
  const auto before = room.floor.deadline();
  if (room.floor.release(peer_id, reason)) floor_changed(room_name, room, before);
}

void RoomServer::floor_changed(const std::string& room_name, Room& room, std::optional<double> before) {
  if (before) floor_deadlines_.erase({*before, room_name});
  if (auto after = room.floor.deadline()) floor_deadlines_.insert({*after, room_name});
  const std::string frame = p::serialize(p::ServerMessage{p::FloorUpdate{room.floor.state()}});
  for (const auto& [id, seat] : room.seats) {
    if (seat.conn != 0) out_.push_back({ServerOutput::Kind::Send, seat.conn, frame, 0, ""});
  }
}

void RoomServer::on_signal(Conn& c, p::Signal signal) {
  Room& room = rooms_[c.room];
  auto target = room.seats.find(signal.peer);
  if (target == room.seats.end() || signal.peer == c.peer_id) {
    return send_error(room.seats[c.peer_id].conn, ErrorCode::UnknownPeer,
                      "no peer " + signal.peer + " in this room", "signal");
  }
  signal.peer = c.peer_id;  // relayed with `from`
  const std::string target_id = target->first;
  if (!deliver(target->second, p::serialize(p::ServerMessage{std::move(signal)}))) {
    remove_seat(c.room, target_id, "timeout");
  }
}

void RoomServer::on_broadcast(Conn& c, p::Broadcast broadcast) {
  broadcast.from = c.peer_id;
  broadcast_to_room(rooms_[c.room], c.peer_id, std::move(broadcast));
}

void RoomServer::on_leave(Conn& c) {
  const std::string room = c.room, peer = c.peer_id;
  c.room.clear();
  c.peer_id.clear();
  remove_seat(room, peer, "left");
}

void RoomServer::handle_close(ConnId conn, int code, double now_ms) {
  auto taken = take_conn(conn);
  if (!taken) return;
  Conn c = std::move(*taken);
  if (c.peer_id.empty()) return;
  if (code == 1000 || code == 1001) {
    remove_seat(c.room, c.peer_id, "left");
  } else {
    mark_away(c, now_ms);
  }
}

void RoomServer::mark_away(Conn& c, double now_ms) {
  auto room = rooms_.find(c.room);
  if (room == rooms_.end()) return;
  auto seat = room->second.seats.find(c.peer_id);
  if (seat == room->second.seats.end()) return;
  seat->second.conn = 0;
  seat->second.away_deadline = now_ms + config_.resume_grace_ms;
  // Nobody hears a talker without a socket: its floor goes now, not when its grace ends.
  free_floor(c.room, room->second, c.peer_id, p::FloorReason::Dropped);
}

void RoomServer::handle_timeout(double now_ms) {
  now_ = now_ms;
  while (!floor_deadlines_.empty() && floor_deadlines_.begin()->first <= now_ms) {
    const std::string room_name = floor_deadlines_.begin()->second;
    floor_deadlines_.erase(floor_deadlines_.begin());
    auto room = rooms_.find(room_name);
    if (room != rooms_.end() && room->second.floor.expire(now_ms)) {
      floor_changed(room_name, room->second, std::nullopt);
    }
  }
  if (now_ms < next_sweep_) return;
  next_sweep_ = now_ms + config_.sweep_interval_ms;

  std::vector<ConnId> silent;
  for (const auto& [id, c] : conns_) {
    if (now_ms - c.last_seen > config_.heartbeat_timeout_ms) silent.push_back(id);
  }
  for (ConnId id : silent) {
    out_.push_back({ServerOutput::Kind::Close, id, "", 4002, "heartbeat timeout"});
    Conn c = std::move(*take_conn(id));
    if (!c.peer_id.empty()) mark_away(c, now_ms);
  }

  // Topology hold periods (down to mesh, limited uplinks) end at the sweep after them.
  for (auto& [room_name, room] : rooms_) {
    if (auto at = room.selector.next_deadline(); at && *at <= now_ms && room.selector.evaluate(now_ms)) {
      topology_changed(room);
    }
  }

  std::vector<std::pair<std::string, std::string>> expired;
  for (const auto& [room_name, room] : rooms_) {
    for (const auto& [peer_id, seat] : room.seats) {
      if (seat.conn == 0 && now_ms >= seat.away_deadline) expired.emplace_back(room_name, peer_id);
    }
  }
  for (const auto& [room_name, peer_id] : expired) remove_seat(room_name, peer_id, "timeout");
}

std::optional<ServerOutput> RoomServer::poll() {
  if (out_.empty()) return std::nullopt;
  ServerOutput o = std::move(out_.front());
  out_.pop_front();
  if (o.kind == ServerOutput::Kind::Send) {
    ++counters_.messages_out;
    counters_.bytes_out += o.data.size();
  }
  return o;
}

std::optional<double> RoomServer::next_timeout() const {
  if (conns_.empty() && rooms_.empty()) return std::nullopt;
  if (!floor_deadlines_.empty()) return std::min(next_sweep_, floor_deadlines_.begin()->first);
  return next_sweep_;
}

void RoomServer::send(ConnId conn, const p::ServerMessage& message) {
  if (conn == 0) return;
  if (const auto* e = std::get_if<p::Error>(&message)) ++counters_.errors[e->code];
  out_.push_back({ServerOutput::Kind::Send, conn, p::serialize(message), 0, ""});
}

void RoomServer::send_error(ConnId conn, ErrorCode code, std::string message, std::string ref) {
  send(conn, p::Error{code, std::move(message), std::move(ref), std::nullopt, std::nullopt});
}

void RoomServer::refuse(ConnId conn, Conn& c, ErrorCode code, std::string message, std::string ref) {
  if (!message.empty()) send_error(conn, code, std::move(message), std::move(ref));
  else ++counters_.errors[code];  // refused without an answer (a flood): still counted
  if (!c.strikes.take(now_)) close_for_abuse(conn, 1008, "too many refused messages");
}

void RoomServer::close_for_abuse(ConnId conn, int code, std::string reason) {
  auto c = take_conn(conn);
  if (!c) return;
  out_.push_back({ServerOutput::Kind::Close, conn, "", code, std::move(reason)});
  ++counters_.policy_closes;
  if (!c->peer_id.empty()) remove_seat(c->room, c->peer_id, "left");
}

std::optional<RoomServer::Conn> RoomServer::take_conn(ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return std::nullopt;
  Conn c = std::move(it->second);
  conns_.erase(it);
  if (!c.address.empty()) {
    auto n = conns_per_address_.find(c.address);
    if (n != conns_per_address_.end() && --n->second == 0) conns_per_address_.erase(n);
  }
  return c;
}

bool RoomServer::deliver(Seat& seat, std::string frame) {
  if (seat.conn != 0) {
    out_.push_back({ServerOutput::Kind::Send, seat.conn, std::move(frame), 0, ""});
    return true;
  }
  // Bounded: an away peer that never returns must not grow memory without limit. Dropping
  // frames would leave it with a half-told story (an offer without its candidates, a missed
  // peer-left), so overflowing the hold ends the seat instead.
  if (seat.pending.size() >= config_.max_pending_per_peer ||
      seat.pending_bytes + frame.size() > config_.max_pending_bytes_per_peer) {
    return false;
  }
  seat.pending_bytes += frame.size();
  seat.pending.push_back(std::move(frame));
  return true;
}

void RoomServer::broadcast_to_room(Room& room, std::string_view except, const p::ServerMessage& m) {
  const std::string frame = p::serialize(m);
  std::vector<std::string> overflowed;
  for (auto& [id, seat] : room.seats) {
    if (id != except && !deliver(seat, frame)) overflowed.push_back(id);
  }
  if (overflowed.empty()) return;
  // Find this room's name to remove the seats through the one path that tells the others.
  for (auto& [name, r] : rooms_) {
    if (&r != &room) continue;
    const std::string room_name = name;
    for (const auto& id : overflowed) remove_seat(room_name, id, "timeout");
    return;
  }
}

bool RoomServer::is_tombstoned(Room& room, const std::string& peer_id) {
  while (!room.tombstones.empty() && room.tombstones.front().second <= now_) room.tombstones.pop_front();
  for (const auto& [id, expiry] : room.tombstones) {
    if (id == peer_id) return true;
  }
  return false;
}

void RoomServer::remove_seat(const std::string& room_name, const std::string& peer_id,
                             std::string reason) {
  auto room = rooms_.find(room_name);
  if (room == rooms_.end()) return;
  if (room->second.seats.erase(peer_id) == 0) return;
  // Before peer-left: by the time the others forget the peer, nobody thinks it talks.
  free_floor(room_name, room->second, peer_id,
             reason == "left" ? p::FloorReason::Left : p::FloorReason::Dropped);
  if (room->second.seats.empty()) {
    rooms_.erase(room);  // nobody is left who could hold a connection to it
    return;
  }
  auto& tombstones = room->second.tombstones;
  if (tombstones.size() >= config_.max_tombstones_per_room) tombstones.pop_front();
  tombstones.emplace_back(peer_id, now_ + config_.tombstone_ms);
  broadcast_to_room(room->second, peer_id, p::PeerLeft{peer_id, std::move(reason)});
  // After peer-left: the others know who is gone before the room changes shape.
  auto still = rooms_.find(room_name);  // a seat over its hold limit may have emptied it
  if (still != rooms_.end() && still->second.selector.peer_left(peer_id, now_)) {
    topology_changed(still->second);
  }
}

std::string RoomServer::new_peer_id(const Room& room) {
  for (;;) {
    std::string id = random_.token(10);
    if (room.seats.count(id) == 0) return id;
  }
}

}  // namespace chorus
