#include "signaling/protocol.hpp"

#include <cmath>

namespace chorus::protocol {
namespace {

ProtocolError bad(std::string message, std::string ref) {
  return {ErrorCode::BadMessage, std::move(message), std::move(ref)};
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool is_token(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

// Counts code points of valid UTF-8 (the JSON parser has already validated it) and rejects
// C0/C1 control characters, which have no place in a room or display name.
bool is_text(std::string_view s, std::size_t min_chars, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte
    ++chars;
    if (b < 0x20 || b == 0x7F) return false;
    if (b == 0xC2 && i + 1 < s.size()) {
      const auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return false;
    }
  }
  return chars >= min_chars && chars <= max_chars;
}

// A field that may be absent, null or of type T; anything else is a bad shape.
template <typename T>
bool optional_field(const Json& obj, const char* key, std::optional<T>& out) {
  const Json* v = find_field(obj, key);
  if (v == nullptr || v->is_null()) return true;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v->is_string()) return false;
    out = v->get<std::string>();
  } else {
    if (!v->is_number()) return false;
    const double d = v->get<double>();
    if (!std::isfinite(d)) return false;
    if constexpr (std::is_same_v<T, int>) {
      if (d != std::floor(d) || d < 0 || d > 65535) return false;
      out = static_cast<int>(d);
    } else {
      out = d;
    }
  }
  return true;
}

std::optional<SignalKind> signal_kind_from(std::string_view s) {
  if (s == "offer") return SignalKind::Offer;
  if (s == "answer") return SignalKind::Answer;
  if (s == "candidate") return SignalKind::Candidate;
  if (s == "end-of-candidates") return SignalKind::EndOfCandidates;
  if (s == "media-path") return SignalKind::MediaPath;
  if (s == "layers") return SignalKind::Layers;
  return std::nullopt;
}

// The body of a `signal`, shared by both directions; `peer_key` is "to" or "from".
Parsed<Signal> parse_signal(const Json& obj, const char* peer_key) {
  Signal s;
  auto peer = get_string(obj, peer_key);
  if (!peer || !is_valid_peer_id(*peer)) {
    return bad(std::string("signal needs a valid `") + peer_key + "` peer id", "signal");
  }
  s.peer = *peer;
  auto kind_name = get_string(obj, "kind");
  auto kind = kind_name ? signal_kind_from(*kind_name) : std::nullopt;
  if (!kind) {
    return bad("signal `kind` must be offer, answer, candidate, end-of-candidates, media-path or layers",
               "signal");
  }
  s.kind = *kind;
  switch (s.kind) {
    case SignalKind::Offer:
    case SignalKind::Answer: {
      auto sdp = get_string(obj, "sdp");
      if (!sdp || sdp->empty()) return bad("offer/answer needs a non-empty `sdp` string", "signal");
      s.sdp = *sdp;
      break;
    }
    case SignalKind::Candidate: {
      auto cand = get_string(obj, "candidate");
      if (!cand) return bad("candidate needs a `candidate` string", "signal");
      s.candidate.candidate = *cand;
      if (!optional_field(obj, "sdpMid", s.candidate.sdp_mid) ||
          !optional_field(obj, "sdpMLineIndex", s.candidate.sdp_mline_index) ||
          !optional_field(obj, "usernameFragment", s.candidate.username_fragment)) {
        return bad("candidate has a wrongly typed sdpMid, sdpMLineIndex or usernameFragment",
                   "signal");
      }
      break;
    }
    case SignalKind::EndOfCandidates:
      break;
    case SignalKind::MediaPath: {
      auto path = get_string(obj, "path");
      auto using_it = get_bool(obj, "using");
      if (!path || (*path != "mesh" && *path != "server") || !using_it) {
        return bad("media-path needs `path` (mesh or server) and a boolean `using`", "signal");
      }
      s.path_server = *path == "server";
      s.path_using = *using_it;
      break;
    }
    case SignalKind::Layers: {
      auto layer = get_string(obj, "layer");
      if (!layer || (*layer != "h" && *layer != "m" && *layer != "l")) {
        return bad("layers needs `layer` (h, m or l)", "signal");
      }
      s.layer = *layer;
      break;
    }
  }
  return s;
}

Parsed<PeerInfo> parse_peer_info(const Json& v, const char* ref) {
  auto id = get_string(v, "id");
  auto name = get_string(v, "name");
  if (!id || !is_valid_peer_id(*id) || !name) return bad("peer needs `id` and `name`", ref);
  PeerInfo info{*id, *name, Role::Talker, std::nullopt};
  if (!optional_role(v, info.role)) return bad("peer `role` is not a role", ref);
  if (!optional_field(v, "identity", info.identity)) return bad("peer `identity` must be a string", ref);
  return info;
}

// A grant counter: an integer in [min, 2^32 - 1].
std::optional<std::uint32_t> get_epoch(const Json& obj, double min) {
  auto v = get_number(obj, "epoch");
  if (!v || *v != std::floor(*v) || *v < min || *v > 4294967295.0) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

// The floor state of a `floor` message or of `welcome.floor`. A holder needs a grant
// (epoch >= 1); `reason` may only be absent before the first change (`reason_required`: a
// `floor` message always reports one).
Parsed<FloorState> parse_floor_state(const Json& obj, bool reason_required, const char* ref) {
  FloorState f;
  if (!obj.is_object()) return bad("floor state must be an object", ref);
  const Json* holder = find_field(obj, "holder");
  if (holder == nullptr) return bad("floor needs `holder` (a peer id or null)", ref);
  if (!holder->is_null()) {
    if (!holder->is_string() || !is_valid_peer_id(holder->get<std::string>())) {
      return bad("floor `holder` must be a peer id or null", ref);
    }
    f.holder = holder->get<std::string>();
  }
  auto epoch = get_epoch(obj, f.holder ? 1 : 0);
  if (!epoch) return bad("floor `epoch` must be an integer in 0..2^32-1, at least 1 with a holder", ref);
  f.epoch = *epoch;
  std::optional<std::string> reason;
  if (!optional_field(obj, "reason", reason)) return bad("floor `reason` must be a string", ref);
  if (reason) {
    f.reason = floor_reason_from_string(*reason);
    if (!f.reason) return bad("unknown floor `reason` " + *reason, ref);
  } else if (reason_required || f.epoch != 0) {
    return bad("floor needs a `reason` once the floor has been granted", ref);
  }
  return f;
}

// Parses the frame and returns its object and type, or the error to answer with.
std::variant<std::pair<Json, std::string>, ProtocolError> parse_envelope(std::string_view text) {
  auto value = parse_json(text);
  if (!value) return ProtocolError{ErrorCode::BadJson, "frame is not valid JSON", ""};
  if (!value->is_object()) return ProtocolError{ErrorCode::BadJson, "frame is not a JSON object", ""};
  auto type = get_string(*value, "type");
  if (!type) return bad("message needs a string `type`", "");
  return std::pair<Json, std::string>{std::move(*value), std::move(*type)};
}

Json candidate_fields(Json& out, const IceCandidate& c) {
  out["candidate"] = c.candidate;
  out["sdpMid"] = c.sdp_mid ? Json(*c.sdp_mid) : Json(nullptr);
  out["sdpMLineIndex"] = c.sdp_mline_index ? Json(*c.sdp_mline_index) : Json(nullptr);
  out["usernameFragment"] = c.username_fragment ? Json(*c.username_fragment) : Json(nullptr);
  return out;
}

Json signal_json(const Signal& s, const char* peer_key) {
  Json out = {{"type", "signal"}, {peer_key, s.peer}, {"kind", to_string(s.kind)}};
  switch (s.kind) {
    case SignalKind::Offer:
    case SignalKind::Answer:
      out["sdp"] = s.sdp;
      break;
    case SignalKind::Candidate:
      candidate_fields(out, s.candidate);
      break;
    case SignalKind::EndOfCandidates:
      break;
    case SignalKind::MediaPath:
      out["path"] = s.path_server ? "server" : "mesh";
      out["using"] = s.path_using;
      break;
    case SignalKind::Layers:
      out["layer"] = s.layer;
      break;
  }
  return out;
}

// Keeps integral numbers integral on the wire (a double would print as 3.0).
Json number_json(double d) {
  if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) return static_cast<std::int64_t>(d);
  return d;
}

Json optional_id(const char* type, const std::optional<double>& id) {
  Json out = {{"type", type}};
  if (id) out["id"] = number_json(*id);
  return out;
}


}  // namespace

// An optional role: absent or null is a talker.
bool optional_role(const Json& obj, Role& out) {
  std::optional<std::string> name;
  if (!optional_field(obj, "role", name)) return false;
  if (!name) return true;
  auto role = role_from_string(*name);
  if (!role) return false;
  out = *role;
  return true;
}

Json to_json(const PeerInfo& p) {
  Json out = {{"id", p.id}, {"name", p.name}, {"role", to_string(p.role)}};
  if (p.identity) out["identity"] = *p.identity;
  return out;
}

Json floor_fields(Json out, const FloorState& f) {
  out["holder"] = f.holder ? Json(*f.holder) : Json(nullptr);
  out["epoch"] = f.epoch;
  out["reason"] = f.reason ? Json(to_string(*f.reason)) : Json(nullptr);
  return out;
}

std::string_view to_string(SignalKind kind) {
  switch (kind) {
    case SignalKind::Offer: return "offer";
    case SignalKind::Answer: return "answer";
    case SignalKind::Candidate: return "candidate";
    case SignalKind::EndOfCandidates: return "end-of-candidates";
    case SignalKind::MediaPath: return "media-path";
    case SignalKind::Layers: return "layers";
  }
  return "offer";
}

std::string_view to_string(Role role) {
  switch (role) {
    case Role::Talker: return "talker";
    case Role::Dispatcher: return "dispatcher";
    case Role::Teacher: return "teacher";
    case Role::Student: return "student";
  }
  return "talker";
}

std::optional<Role> role_from_string(std::string_view name) {
  for (Role r : {Role::Talker, Role::Dispatcher, Role::Teacher, Role::Student}) {
    if (name == to_string(r)) return r;
  }
  return std::nullopt;
}

std::string_view to_string(FloorReason reason) {
  switch (reason) {
    case FloorReason::Granted: return "granted";
    case FloorReason::Released: return "released";
    case FloorReason::Timeout: return "timeout";
    case FloorReason::Preempted: return "preempted";
    case FloorReason::Left: return "left";
    case FloorReason::Dropped: return "dropped";
  }
  return "granted";
}

std::optional<FloorReason> floor_reason_from_string(std::string_view name) {
  for (auto r : {FloorReason::Granted, FloorReason::Released, FloorReason::Timeout,
                 FloorReason::Preempted, FloorReason::Left, FloorReason::Dropped}) {
    if (to_string(r) == name) return r;
  }
  return std::nullopt;
}

bool is_valid_peer_id(std::string_view id) { return is_token(id, 1, 64); }
bool is_valid_secret(std::string_view secret) { return is_token(secret, 16, 128); }
bool is_valid_room(std::string_view room) { return is_text(room, 1, 128); }
bool is_valid_name(std::string_view name) { return is_text(name, 0, 64); }

Parsed<ClientMessage> parse_client_message(std::string_view text) {
  auto envelope = parse_envelope(text);
  if (auto* err = std::get_if<ProtocolError>(&envelope)) return *err;
  auto& [obj, type] = std::get<0>(envelope);

  if (type == "join") {
    Join j;
    auto v = get_number(obj, "v");
    if (!v || *v != std::floor(*v)) return bad("join needs a protocol version `v`", type);
    if (*v != kVersion) {
      return ProtocolError{ErrorCode::UnsupportedVersion, "this server speaks protocol version 1",
                           type};
    }
    auto room = get_string(obj, "room");
    if (!room || !is_valid_room(*room)) return bad("join needs a `room` of 1..128 characters", type);
    auto name = get_string(obj, "name");
    if (!name || !is_valid_name(*name)) return bad("join needs a `name` of 0..64 characters", type);
    j.room = *room;
    j.name = *name;
    if (!optional_field(obj, "token", j.token)) return bad("join `token` must be a string", type);
    if (!optional_role(obj, j.role)) {
      return bad("join `role` must be talker, dispatcher, teacher or student", type);
    }
    std::optional<std::string> policy;
    if (!optional_field(obj, "policy", policy)) return bad("join `policy` must be a string", type);
    if (policy) {
      j.policy = topology::policy_from_string(*policy);
      if (!j.policy) return bad("join `policy` must be meeting, classroom or walkie", type);
    }
    if (const Json* r = find_field(obj, "resume"); r != nullptr && !r->is_null()) {
      auto peer_id = get_string(*r, "peerId");
      auto secret = get_string(*r, "secret");
      if (!peer_id || !is_valid_peer_id(*peer_id) || !secret || !is_valid_secret(*secret)) {
        return bad("join `resume` needs a valid `peerId` and `secret`", type);
      }
      j.resume = Resume{*peer_id, *secret};
    }
    return ClientMessage{std::move(j)};
  }
  if (type == "signal") {
    auto s = parse_signal(obj, "to");
    if (auto* err = std::get_if<ProtocolError>(&s)) return *err;
    return ClientMessage{std::get<Signal>(std::move(s))};
  }
  if (type == "broadcast") {
    const Json* data = find_field(obj, "data");
    if (data == nullptr) return bad("broadcast needs `data`", type);
    return ClientMessage{Broadcast{"", *data}};
  }
  if (type == "ping") {
    Ping p;
    if (!optional_field(obj, "id", p.id)) return bad("ping `id` must be a number", type);
    return ClientMessage{p};
  }
  if (type == "leave") return ClientMessage{Leave{}};
  if (type == "floor-request") {
    FloorRequest r;
    if (!optional_field(obj, "id", r.id)) return bad("floor-request `id` must be a number", type);
    return ClientMessage{r};
  }
  if (type == "floor-release") return ClientMessage{FloorRelease{}};
  if (type == "uplink") {
    Uplink u;
    auto video = get_bool(obj, "video");
    auto kbps = get_number(obj, "availableKbps");
    auto limited = get_bool(obj, "limited");
    if (!video || !kbps || !limited || !std::isfinite(*kbps) || *kbps < 0 || *kbps > 1e7) {
      return bad("uplink needs `video`, `limited` (booleans) and `availableKbps` (0..1e7)", type);
    }
    u.video = *video;
    u.available_kbps = *kbps;
    u.limited = *limited;
    return ClientMessage{u};
  }
  return ProtocolError{ErrorCode::UnknownType, "unknown message type `" + type + "`", type};
}

Parsed<ServerMessage> parse_server_message(std::string_view text) {
  auto envelope = parse_envelope(text);
  if (auto* err = std::get_if<ProtocolError>(&envelope)) return *err;
  auto& [obj, type] = std::get<0>(envelope);

  if (type == "welcome") {
    Welcome w;
    auto v = get_number(obj, "v");
    auto room = get_string(obj, "room");
    auto peer_id = get_string(obj, "peerId");
    auto secret = get_string(obj, "secret");
    auto resumed = get_bool(obj, "resumed");
    const Json* peers = find_field(obj, "peers");
    if (!v || !room || !peer_id || !is_valid_peer_id(*peer_id) || !secret ||
        !is_valid_secret(*secret) || !resumed || peers == nullptr || !peers->is_array()) {
      return bad("welcome needs v, room, peerId, secret, resumed and peers", type);
    }
    if (*v != kVersion) {
      return ProtocolError{ErrorCode::UnsupportedVersion, "server speaks another protocol version",
                           type};
    }
    w.room = *room;
    w.peer_id = *peer_id;
    w.secret = *secret;
    w.resumed = *resumed;
    for (const Json& p : *peers) {
      auto info = parse_peer_info(p, "welcome");
      if (auto* err = std::get_if<ProtocolError>(&info)) return *err;
      w.peers.push_back(std::get<PeerInfo>(std::move(info)));
    }
    if (const Json* ice = find_field(obj, "iceServers"); ice != nullptr && ice->is_array()) {
      w.ice_servers = *ice;
    }
    if (!optional_role(obj, w.role)) return bad("welcome `role` is not a role", type);
    if (const Json* t = find_field(obj, "topology"); t != nullptr && !t->is_null()) {
      auto parsed = parse_topology(*t, "welcome");
      if (auto* err = std::get_if<ProtocolError>(&parsed)) return *err;
      w.topology = std::get<TopologyInfo>(std::move(parsed));
    }
    if (!optional_field(obj, "identity", w.identity)) return bad("welcome `identity` must be a string", type);
    // Absent from servers without floor control: nobody holds it.
    if (const Json* floor = find_field(obj, "floor"); floor != nullptr && !floor->is_null()) {
      auto f = parse_floor_state(*floor, false, "welcome");
      if (auto* err = std::get_if<ProtocolError>(&f)) return *err;
      w.floor = std::get<FloorState>(std::move(f));
    }
    return ServerMessage{std::move(w)};
  }
  if (type == "peer-joined") {
    const Json* peer = find_field(obj, "peer");
    if (peer == nullptr) return bad("peer-joined needs `peer`", type);
    auto info = parse_peer_info(*peer, "peer-joined");
    if (auto* err = std::get_if<ProtocolError>(&info)) return *err;
    return ServerMessage{PeerJoined{std::get<PeerInfo>(std::move(info))}};
  }
  if (type == "peer-left") {
    auto peer_id = get_string(obj, "peerId");
    if (!peer_id || !is_valid_peer_id(*peer_id)) return bad("peer-left needs `peerId`", type);
    return ServerMessage{PeerLeft{*peer_id, get_string(obj, "reason").value_or("left")}};
  }
  if (type == "signal") {
    auto s = parse_signal(obj, "from");
    if (auto* err = std::get_if<ProtocolError>(&s)) return *err;
    return ServerMessage{std::get<Signal>(std::move(s))};
  }
  if (type == "broadcast") {
    auto from = get_string(obj, "from");
    const Json* data = find_field(obj, "data");
    if (!from || !is_valid_peer_id(*from) || data == nullptr) {
      return bad("broadcast needs `from` and `data`", type);
    }
    return ServerMessage{Broadcast{*from, *data}};
  }
  if (type == "pong") {
    Pong p;
    if (!optional_field(obj, "id", p.id)) return bad("pong `id` must be a number", type);
    return ServerMessage{p};
  }
  if (type == "error") {
    auto code_name = get_string(obj, "code");
    auto code = code_name ? error_code_from_string(*code_name) : std::nullopt;
    if (!code) return bad("error needs a known `code`", type);
    Error e{*code, get_string(obj, "message").value_or(""), get_string(obj, "ref").value_or(""),
            std::nullopt, std::nullopt};
    if (!optional_field(obj, "id", e.id)) return bad("error `id` must be a number", type);
    if (!optional_field(obj, "holder", e.holder) || (e.holder && !is_valid_peer_id(*e.holder))) {
      return bad("error `holder` must be a peer id", type);
    }
    return ServerMessage{std::move(e)};
  }
  if (type == "floor-granted") {
    FloorGranted g;
    auto epoch = get_epoch(obj, 1);
    auto max_talk = get_number(obj, "maxTalkMs");
    if (!epoch || !max_talk || !(*max_talk > 0) || !std::isfinite(*max_talk)) {
      return bad("floor-granted needs an `epoch` in 1..2^32-1 and a positive `maxTalkMs`", type);
    }
    if (!optional_field(obj, "id", g.id)) return bad("floor-granted `id` must be a number", type);
    g.epoch = *epoch;
    g.max_talk_ms = *max_talk;
    return ServerMessage{g};
  }
  if (type == "floor") {
    auto f = parse_floor_state(obj, true, "floor");
    if (auto* err = std::get_if<ProtocolError>(&f)) return *err;
    return ServerMessage{FloorUpdate{std::get<FloorState>(std::move(f))}};
  }
  if (type == "topology") {
    auto t = parse_topology(obj, "topology");
    if (auto* err = std::get_if<ProtocolError>(&t)) return *err;
    return ServerMessage{TopologyUpdate{std::get<TopologyInfo>(std::move(t))}};
  }
  return ProtocolError{ErrorCode::UnknownType, "unknown message type `" + type + "`", type};
}

Json to_json(const ClientMessage& message) {
  return std::visit(
      [](const auto& m) -> Json {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Join>) {
          Json out = {{"type", "join"}, {"v", m.version}, {"room", m.room}, {"name", m.name}};
          if (m.token) out["token"] = *m.token;
          if (m.resume) out["resume"] = {{"peerId", m.resume->peer_id}, {"secret", m.resume->secret}};
          if (m.role != Role::Talker) out["role"] = to_string(m.role);
          if (m.policy) out["policy"] = topology::to_string(*m.policy);
          return out;
        } else if constexpr (std::is_same_v<T, Signal>) {
          return signal_json(m, "to");
        } else if constexpr (std::is_same_v<T, Broadcast>) {
          return {{"type", "broadcast"}, {"data", m.data}};
        } else if constexpr (std::is_same_v<T, Ping>) {
          return optional_id("ping", m.id);
        } else if constexpr (std::is_same_v<T, FloorRequest>) {
          return optional_id("floor-request", m.id);
        } else if constexpr (std::is_same_v<T, FloorRelease>) {
          return {{"type", "floor-release"}};
        } else if constexpr (std::is_same_v<T, Uplink>) {
          return {{"type", "uplink"}, {"video", m.video}, {"availableKbps", number_json(m.available_kbps)},
                  {"limited", m.limited}};
        } else {
          return {{"type", "leave"}};
        }
      },
      message);
}

Json to_json(const ServerMessage& message) {
  return std::visit(
      [](const auto& m) -> Json {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Welcome>) {
          Json peers = Json::array();
          for (const auto& p : m.peers) peers.push_back(to_json(p));
          Json out = {{"type", "welcome"}, {"v", m.version},     {"room", m.room},
                      {"peerId", m.peer_id}, {"secret", m.secret}, {"resumed", m.resumed},
                      {"peers", peers},      {"iceServers", m.ice_servers},
                      {"floor", floor_fields(Json::object(), m.floor)}};
          if (m.role != Role::Talker) out["role"] = to_string(m.role);
          if (m.identity) out["identity"] = *m.identity;
          if (m.topology) out["topology"] = topology_fields(Json::object(), *m.topology);
          return out;
        } else if constexpr (std::is_same_v<T, PeerJoined>) {
          return {{"type", "peer-joined"}, {"peer", to_json(m.peer)}};
        } else if constexpr (std::is_same_v<T, PeerLeft>) {
          return {{"type", "peer-left"}, {"peerId", m.peer_id}, {"reason", m.reason}};
        } else if constexpr (std::is_same_v<T, Signal>) {
          return signal_json(m, "from");
        } else if constexpr (std::is_same_v<T, Broadcast>) {
          return {{"type", "broadcast"}, {"from", m.from}, {"data", m.data}};
        } else if constexpr (std::is_same_v<T, Pong>) {
          return optional_id("pong", m.id);
        } else if constexpr (std::is_same_v<T, FloorGranted>) {
          Json out = optional_id("floor-granted", m.id);
          out["epoch"] = m.epoch;
          out["maxTalkMs"] = number_json(m.max_talk_ms);
          return out;
        } else if constexpr (std::is_same_v<T, FloorUpdate>) {
          return floor_fields({{"type", "floor"}}, m.floor);
        } else if constexpr (std::is_same_v<T, TopologyUpdate>) {
          return topology_fields({{"type", "topology"}}, m.topology);
        } else {
          Json out = {{"type", "error"}, {"code", to_string(m.code)}, {"message", m.message}};
          if (!m.ref.empty()) out["ref"] = m.ref;
          if (m.id) out["id"] = number_json(*m.id);
          if (m.holder) out["holder"] = *m.holder;
          return out;
        }
      },
      message);
}

std::string serialize(const ClientMessage& message) { return dump_json(to_json(message)); }
std::string serialize(const ServerMessage& message) { return dump_json(to_json(message)); }

}  // namespace chorus::protocol
