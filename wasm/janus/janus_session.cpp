#include "janus/janus_session.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace chorus::janus {

namespace {

constexpr std::size_t kMaxDone = 64;
constexpr std::size_t kMaxQueuedCandidates = 256;
constexpr int kNoSuchSession = 458;  // JANUS_ERROR_SESSION_NOT_FOUND

void earliest(std::optional<double>& acc, std::optional<double> t) {
  if (t && (!acc || *t < *acc)) acc = t;
}

const char* state_name(JanusSession::State s) {
  switch (s) {
    case JanusSession::State::Idle: return "idle";
    case JanusSession::State::Connecting:
    case JanusSession::State::Creating: return "connecting";
    case JanusSession::State::Ready: return "ready";
    case JanusSession::State::Lost: return "lost";
    case JanusSession::State::Closed: return "closed";
  }
  return "idle";
}

// Janus ids are positive integers below 2^64 (or strings, with string_ids).
bool positive_integer(const Json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() > 0);
}

// The error a plugin reports inside its data ({"videoroom": "event", "error_code", "error"}).
std::optional<Reply> plugin_error(const Json& data) {
  const Json* code = find_field(data, "error_code");
  if (code == nullptr) return std::nullopt;
  Reply r;
  r.kind = Reply::Kind::Error;
  r.data = data;
  if (code->is_number_integer() && std::llabs(code->get<std::int64_t>()) < 100000) {
    r.code = static_cast<int>(code->get<std::int64_t>());
  }
  r.reason = get_string(data, "error").value_or("error " + std::to_string(r.code));
  return r;
}

}  // namespace

std::string id_key(const Json& id) { return dump_json(normalize_id(id)); }

Json normalize_id(const Json& id) {
  // A whole number that came through a double (JavaScript, the signaling protocol) is sent to
  // Janus as an integer: Janus refuses 1234.0 where it wants 1234.
  if (id.is_number_float()) {
    const double v = id.get<double>();
    if (v >= 1 && v <= 9007199254740992.0 && std::floor(v) == v) return static_cast<std::uint64_t>(v);
  }
  return id;
}

bool is_valid_id(const Json& id) {
  if (id.is_string()) {
    const auto& s = id.get_ref<const std::string&>();
    return !s.empty() && s.size() <= 128;
  }
  return positive_integer(id);
}

SessionConfig SessionConfig::from_json(const Json& config) {
  SessionConfig c;
  read_positive(config, "requestTimeoutMs", c.request_timeout_ms);
  read_positive(config, "keepaliveIntervalMs", c.keepalive_interval_ms);
  read_positive(config, "connectTimeoutMs", c.connect_timeout_ms);
  if (auto seed = get_number(config, "seed"); seed && *seed >= 0 && *seed < 1.8e19) {
    c.seed = static_cast<std::uint64_t>(*seed);
  }
  c.token = get_string(config, "token");
  c.apisecret = get_string(config, "apisecret");
  return c;
}

// ---- JanusHandle --------------------------------------------------------------------------

JanusHandle::JanusHandle(std::string pc, const char* plugin, Json ice_servers)
    : ice_servers_(ice_servers.is_array() ? std::move(ice_servers) : Json::array()),
      pc_(std::move(pc)),
      plugin_(plugin),
      state_("attaching") {}

bool JanusHandle::live() const {
  return session_ != nullptr && handle_id_ && session_->state_ == JanusSession::State::Ready;
}

bool JanusHandle::request(const char* purpose, Json body, double now_ms, std::optional<Json> jsep) {
  if (!live()) return false;
  Json extra = {{"handle_id", *handle_id_}, {"body", std::move(body)}};
  if (jsep) extra["jsep"] = std::move(*jsep);
  session_->send("message", std::move(extra), now_ms, pc_, purpose);
  return true;
}

std::vector<Json> JanusHandle::room_publishers(const Json& room) const {
  return session_ != nullptr ? session_->room_publishers(*this, room) : std::vector<Json>{};
}

Json JanusHandle::room_private_id(const Json& room) const {
  return session_ != nullptr ? session_->room_private_id(*this, room) : Json(nullptr);
}

void JanusHandle::local_candidate(const Json& candidate, double now_ms) {
  // An empty candidate string is the end of candidates too (older browsers).
  const bool done = candidate.is_null() || get_string(candidate, "candidate").value_or("x").empty();
  if (!done && !get_string(candidate, "candidate")) {
    return error(ErrorCode::BadMessage, "icecandidate needs a candidate object or null", false);
  }
  // Only what Janus reads, and only with the types it accepts: a null sdpMid (some browsers)
  // would make Janus refuse the trickle (467).
  Json c = Json{{"completed", true}};
  if (!done) {
    c = {{"candidate", *get_string(candidate, "candidate")}};
    if (auto mid = get_string(candidate, "sdpMid")) c["sdpMid"] = *mid;
    const Json* index = find_field(candidate, "sdpMLineIndex");
    if (index != nullptr && index->is_number_integer() && index->get<std::int64_t>() >= 0) {
      c["sdpMLineIndex"] = *index;
    }
  }
  if (!trickle_ready_ || !handle_id_) {
    if (local_candidates_.size() >= kMaxQueuedCandidates) local_candidates_.pop_front();
    local_candidates_.push_back(std::move(c));
    return;
  }
  if (session_->state_ != JanusSession::State::Ready) return;
  session_->send("trickle", {{"handle_id", *handle_id_}, {"candidate", std::move(c)}}, now_ms, pc_);
}

void JanusHandle::trickle_ready(double now_ms) {
  trickle_ready_ = true;
  if (local_candidates_.empty() || !handle_id_ || session_->state_ != JanusSession::State::Ready) {
    return;
  }
  Json list = Json::array();
  for (auto& c : local_candidates_) list.push_back(std::move(c));
  local_candidates_.clear();
  // One request for all that waited; `completed` alone must be a single `candidate`.
  if (list.size() == 1) {
    session_->send("trickle", {{"handle_id", *handle_id_}, {"candidate", std::move(list[0])}},
                   now_ms, pc_);
  } else {
    session_->send("trickle", {{"handle_id", *handle_id_}, {"candidates", std::move(list)}}, now_ms,
                   pc_);
  }
}

void JanusHandle::emit(Json output) {
  if (session_ == nullptr) return;
  output["pc"] = pc_;
  session_->out_.push_back(std::move(output));
}

void JanusHandle::error(ErrorCode code, std::string message, bool fatal, Json extra) {
  Json e = {{"event", "janus-error"}, {"code", to_string(code)}, {"message", std::move(message)},
            {"fatal", fatal}};
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) e[it.key()] = it.value();
  }
  emit(std::move(e));
}

void JanusHandle::janus_error(const char* request, const Reply& reply, bool fatal, Json extra) {
  if (!extra.is_object()) extra = Json::object();
  extra["request"] = request;
  if (reply.kind == Reply::Kind::Timeout) {
    return error(ErrorCode::JanusTimeout,
                 std::string("Janus did not answer `") + request + "` in time", fatal,
                 std::move(extra));
  }
  extra["janusCode"] = reply.code;
  error(ErrorCode::JanusError, reply.reason, fatal, std::move(extra));
}

void JanusHandle::set_state(const char* state) {
  if (state_ == state) return;
  state_ = state;
  emit({{"event", "janus-handle"}, {"state", state_}});
}

void JanusHandle::create_pc(const char* direction) {
  if (pc_created_) return;
  pc_created_ = true;
  trickle_ready_ = remote_set_ = false;
  local_candidates_.clear();
  remote_candidates_.clear();
  emit({{"action", "janus-create-peer-connection"},
        {"iceServers", ice_servers_},
        {"direction", direction}});
}

void JanusHandle::close_pc() {
  trickle_ready_ = remote_set_ = false;
  local_candidates_.clear();
  remote_candidates_.clear();
  if (!pc_created_) return;
  pc_created_ = false;
  emit({{"action", "janus-close-peer-connection"}});
}

void JanusHandle::set_remote_description(const Json& jsep) {
  emit({{"action", "janus-set-remote-description"},
        {"description", {{"type", get_string(jsep, "type").value_or("")},
                         {"sdp", get_string(jsep, "sdp").value_or("")}}}});
  remote_set_ = true;
  while (!remote_candidates_.empty()) {
    emit({{"action", "janus-add-ice-candidate"}, {"candidate", std::move(remote_candidates_.front())}});
    remote_candidates_.pop_front();
  }
}

void JanusHandle::detach(double now_ms) {
  if (session_ == nullptr) return;
  if (handle_id_ && session_->state_ == JanusSession::State::Ready) {
    detaching_ = true;
    session_->send("detach", {{"handle_id", *handle_id_}}, now_ms, pc_);
  }
  handle_id_.reset();
  attach_sent_ = false;
}

void JanusHandle::reattach(double now_ms) {
  detach(now_ms);
  if (session_ != nullptr && session_->state_ == JanusSession::State::Ready) {
    session_->send_attach(*this, now_ms);
  }
}

void JanusHandle::publishers_changed(const Json& room, const PublisherChange& change, double now_ms) {
  if (session_ == nullptr) return;
  for (auto& h : session_->handles_) {
    if (h.get() != this) h->on_room_publishers(room, change, now_ms);
  }
}

void JanusHandle::on_attach_failed(const Reply& reply, double /*now_ms*/) {
  janus_error("attach", reply, true);
  set_state("failed");
}

void JanusHandle::on_detached(double /*now_ms*/) {
  close_pc();
  error(ErrorCode::JanusError, "Janus detached the handle", true);
  set_state("failed");
}

// ---- JanusSession: owner calls -------------------------------------------------------------

JanusSession::JanusSession(SessionConfig config)
    : config_(std::move(config)), random_(config_.seed), session_id_(nullptr) {
  tx_prefix_ = random_.token(8) + "-";
}

JanusSession::~JanusSession() = default;

void JanusSession::connect(double now_ms) {
  if (state_ != State::Idle) return;
  set_state(State::Connecting);
  socket_opening_ = true;
  connect_deadline_ = now_ms + config_.connect_timeout_ms;
  out_.push_back({{"action", "janus-open-socket"}, {"protocol", "janus-protocol"}});
}

void JanusSession::close(double now_ms) {
  if (state_ == State::Lost || state_ == State::Closed) return;
  if (state_ == State::Ready && socket_open_) send("destroy", Json::object(), now_ms);
  end_handles("closed");
  if (socket_open_ || socket_opening_) {
    out_.push_back({{"action", "janus-close-socket"}, {"code", 1000}});
  }
  socket_open_ = socket_opening_ = false;
  transactions_.clear();
  connect_deadline_.reset();
  set_state(State::Closed);
}

bool JanusSession::add(std::unique_ptr<JanusHandle> handle, double now_ms) {
  if (state_ == State::Lost || state_ == State::Closed) {
    session_error(ErrorCode::NotConnected, "the Janus session is over", false);
    return false;
  }
  if (handle->pc_.empty() || find(handle->pc_) != nullptr) {
    session_error(ErrorCode::BadMessage, "a Janus handle needs a pc name of its own", false);
    return false;
  }
  handle->session_ = this;
  handles_.push_back(std::move(handle));
  JanusHandle& h = *handles_.back();
  h.emit({{"event", "janus-handle"}, {"state", h.state_}});
  h.on_added(now_ms);
  if (state_ == State::Ready) send_attach(h, now_ms);
  return true;
}

JanusHandle* JanusSession::find(const std::string& pc) const {
  for (const auto& h : handles_) {
    if (h->pc_ == pc) return h.get();
  }
  return nullptr;
}

void JanusSession::remove(const std::string& pc, double now_ms) {
  auto it = std::find_if(handles_.begin(), handles_.end(),
                         [&](const auto& h) { return h->pc_ == pc; });
  if (it == handles_.end()) return;
  (*it)->close_pc();
  (*it)->detach(now_ms);
  // Its requests in flight die with it.
  for (auto t = transactions_.begin(); t != transactions_.end();) {
    if (t->second.pc == pc && t->second.verb != "detach") t = transactions_.erase(t);
    else ++t;
  }
  handles_.erase(it);
}

// ---- inputs --------------------------------------------------------------------------------

void JanusSession::handle_text(std::string_view input, double now_ms) {
  auto value = parse_json(input);
  if (!value || !value->is_object()) {
    return session_error(ErrorCode::BadJson, "Janus input is not a JSON object", false);
  }
  handle(*value, now_ms);
}

void JanusSession::handle(const Json& input, double now_ms) {
  auto type = get_string(input, "type");
  if (!type) return session_error(ErrorCode::BadMessage, "Janus input needs a string `type`", false);
  if (*type == "janus-socket-open") return on_socket_open(now_ms);
  if (*type == "janus-socket-closed") return on_socket_closed(now_ms);
  if (*type == "local-description-set" || *type == "remote-description-set" ||
      *type == "icecandidate" || *type == "operation-failed" || *type == "connectionstatechange") {
    auto pc = get_string(input, "pc");
    if (!pc) return session_error(ErrorCode::BadMessage, *type + " needs `pc`", false);
    JanusHandle* h = find(*pc);
    if (h == nullptr || !h->pc_created_) return;  // late, from a connection already closed
    if (*type == "icecandidate") {
      const Json* c = find_field(input, "candidate");
      return h->local_candidate(c != nullptr ? *c : Json(nullptr), now_ms);
    }
    if (*type == "operation-failed" && get_string(input, "operation").value_or("") == "addIceCandidate") {
      // One candidate the browser cannot use (another address family, a stale ufrag): the
      // other candidates still connect, so the negotiation goes on.
      return h->error(ErrorCode::NegotiationFailed,
                      "addIceCandidate failed: " + get_string(input, "message").value_or(""), false);
    }
    return h->on_pc_input(*type, input, now_ms);
  }
  session_error(ErrorCode::UnknownType, "unknown Janus input `" + *type + "`", false);
}

void JanusSession::on_socket_open(double now_ms) {
  if (!socket_opening_) return;
  socket_opening_ = false;
  socket_open_ = true;
  set_state(State::Creating);
  send("create", Json::object(), now_ms);
}

void JanusSession::on_socket_closed(double /*now_ms*/) {
  if (!socket_open_ && !socket_opening_) return;
  const bool was_open = socket_open_;
  socket_open_ = socket_opening_ = false;
  lose(ErrorCode::JanusUnreachable,
       was_open ? "the Janus socket closed" : "could not open a socket to Janus");
}

void JanusSession::handle_socket_message(std::string_view text, double now_ms) {
  if (!socket_open_) return;
  auto value = parse_json(text);
  if (!value) return session_error(ErrorCode::BadJson, "a Janus frame is not valid JSON", false);
  if (!value->is_object() || !get_string(*value, "janus")) {
    return session_error(ErrorCode::BadMessage, "a Janus frame needs a string `janus`", false);
  }
  on_frame(*value, now_ms);
}

void JanusSession::on_frame(const Json& m, double now_ms) {
  const std::string kind = *get_string(m, "janus");
  if (kind == "ack" || kind == "success" || kind == "error") {
    return on_transaction_reply(kind, m, now_ms);
  }
  if (kind == "timeout") {
    if (state_ != State::Ready) return;
    if (const Json* sid = find_field(m, "session_id"); sid != nullptr && *sid != session_id_) return;
    return lose(ErrorCode::JanusTimeout, "Janus timed the session out");
  }
  if (kind == "keepalive" || kind == "server_info" || kind == "pong" || kind == "claim") return;
  if (kind == "event" || kind == "webrtcup" || kind == "media" || kind == "slowlink" ||
      kind == "hangup" || kind == "detached" || kind == "trickle") {
    if (state_ != State::Ready) return;
    if (const Json* sid = find_field(m, "session_id"); sid != nullptr && *sid != session_id_) {
      return session_error(ErrorCode::BadMessage, "a Janus `" + kind + "` for another session", false);
    }
    // A plugin event may answer one of our requests (same transaction).
    if (kind == "event") {
      if (auto tx = get_string(m, "transaction"); tx && transactions_.count(*tx) != 0) {
        return on_transaction_reply(kind, m, now_ms);
      }
    }
    JanusHandle* h = by_sender(m);
    if (h == nullptr) return;  // a handle we detached, or garbage: nothing to apply it to
    return on_handle_message(kind, *h, m, now_ms);
  }
  session_error(ErrorCode::UnknownType, "unknown Janus message `" + kind + "`", false);
}

JanusHandle* JanusSession::by_sender(const Json& m) {
  const Json* sender = find_field(m, "sender");
  if (sender == nullptr || !positive_integer(*sender)) return nullptr;
  for (auto& h : handles_) {
    if (h->handle_id_ && *h->handle_id_ == *sender) return h.get();
  }
  return nullptr;
}

void JanusSession::on_handle_message(const std::string& kind, JanusHandle& h, const Json& m,
                                     double now_ms) {
  if (kind == "event") {
    const Json* pd = find_field(m, "plugindata");
    const Json* data = pd != nullptr ? find_field(*pd, "data") : nullptr;
    if (data == nullptr || !data->is_object()) {
      return h.error(ErrorCode::BadMessage, "a Janus event without plugindata.data", false);
    }
    const Json* jsep = find_field(m, "jsep");
    if (jsep != nullptr && (!jsep->is_object() || !get_string(*jsep, "sdp"))) {
      return h.error(ErrorCode::BadMessage, "a Janus event with a malformed jsep", false);
    }
    return h.on_event(*data, jsep, now_ms);
  }
  if (kind == "webrtcup") {
    h.emit({{"event", "janus-webrtcup"}});
    return h.on_webrtcup(now_ms);
  }
  if (kind == "media") {
    h.emit({{"event", "janus-media"},
            {"mid", get_string(m, "mid").value_or("")},
            {"type", get_string(m, "type").value_or("")},
            {"receiving", get_bool(m, "receiving").value_or(false)}});
    return;
  }
  if (kind == "slowlink") {
    h.emit({{"event", "janus-slowlink"},
            {"mid", get_string(m, "mid").value_or("")},
            {"media", get_string(m, "media").value_or("")},
            {"uplink", get_bool(m, "uplink").value_or(false)},
            {"lost", get_number(m, "lost").value_or(0)}});
    return;
  }
  if (kind == "hangup") {
    if (!h.pc_created_) return;  // one we closed ourselves (unpublish, leave, restart)
    const std::string reason = get_string(m, "reason").value_or("");
    h.emit({{"event", "janus-hangup"}, {"reason", reason}});
    return h.on_hangup(reason, now_ms);
  }
  if (kind == "detached") {
    if (h.detaching_) return;
    h.handle_id_.reset();
    h.attach_sent_ = false;
    return h.on_detached(now_ms);
  }
  if (kind == "trickle") {
    const Json* c = find_field(m, "candidate");
    if (c == nullptr || !c->is_object()) {
      return h.error(ErrorCode::BadMessage, "a Janus trickle without a candidate", false);
    }
    Json candidate = get_bool(*c, "completed").value_or(false) ? Json(nullptr) : *c;
    if (!candidate.is_null() && !get_string(candidate, "candidate")) {
      return h.error(ErrorCode::BadMessage, "a Janus trickle with a malformed candidate", false);
    }
    if (!h.pc_created_) return;
    if (!h.remote_set_) {
      if (h.remote_candidates_.size() >= kMaxQueuedCandidates) h.remote_candidates_.pop_front();
      h.remote_candidates_.push_back(std::move(candidate));
      return;
    }
    h.emit({{"action", "janus-add-ice-candidate"}, {"candidate", std::move(candidate)}});
  }
}

void JanusSession::on_transaction_reply(const std::string& kind, const Json& m, double now_ms) {
  auto tx = get_string(m, "transaction");
  if (!tx) {
    if (kind == "error") {
      // Janus could not even read the request's transaction (it never sends that for ours).
      const Json* e = find_field(m, "error");
      Json err = {{"event", "janus-error"}, {"code", to_string(ErrorCode::JanusError)},
                  {"message", e != nullptr ? get_string(*e, "reason").value_or("") : ""},
                  {"fatal", false}};
      if (e != nullptr) {
        if (auto c = get_number(*e, "code")) err["janusCode"] = *c;
      }
      out_.push_back(std::move(err));
      return;
    }
    return session_error(ErrorCode::BadMessage, "a Janus `" + kind + "` without a transaction", false);
  }
  auto it = transactions_.find(*tx);
  if (it == transactions_.end()) {
    // Late (after its timeout), or an ack that came after its event: nothing to do.
    if (std::find(done_.begin(), done_.end(), *tx) != done_.end()) return;
    return session_error(ErrorCode::BadMessage, "a Janus `" + kind + "` for an unknown transaction",
                         false);
  }
  Transaction& t = it->second;
  if (kind == "ack") {
    // Final for keepalive and trickle; a plugin message goes on to its event.
    if (t.verb == "keepalive" || t.verb == "trickle") {
      transactions_.erase(it);
    }
    return;
  }
  Reply reply;
  if (kind == "error") {
    const Json* e = find_field(m, "error");
    reply.kind = Reply::Kind::Error;
    if (e != nullptr && e->is_object()) {
      if (auto c = get_number(*e, "code"); c && std::fabs(*c) < 100000) reply.code = static_cast<int>(*c);
      reply.reason = get_string(*e, "reason").value_or("");
    }
    if (reply.reason.empty()) reply.reason = "Janus error " + std::to_string(reply.code);
  } else if (t.verb == "message") {
    // `success` (a synchronous plugin answer) or `event` (an asynchronous one).
    const Json* pd = find_field(m, "plugindata");
    const Json* data = pd != nullptr ? find_field(*pd, "data") : nullptr;
    if (data == nullptr || !data->is_object()) {
      reply.kind = Reply::Kind::Error;
      reply.reason = "a Janus reply without plugindata.data";
      reply.code = 0;
    } else if (auto err = plugin_error(*data)) {
      reply = std::move(*err);
    } else {
      reply.data = *data;
      if (const Json* jsep = find_field(m, "jsep")) {
        if (jsep->is_object() && get_string(*jsep, "sdp") && get_string(*jsep, "type")) {
          reply.jsep = *jsep;
        } else {
          reply.kind = Reply::Kind::Error;
          reply.reason = "a Janus reply with a malformed jsep";
        }
      }
    }
  } else if (kind == "event") {
    return session_error(ErrorCode::BadMessage, "a Janus `event` answering a `" + t.verb + "`", false);
  } else {
    // success for create/attach carries {data: {id}}
    if (t.verb == "create" || t.verb == "attach") {
      const Json* data = find_field(m, "data");
      const Json* id = data != nullptr ? find_field(*data, "id") : nullptr;
      if (id == nullptr || !positive_integer(*id)) {
        reply.kind = Reply::Kind::Error;
        reply.reason = "a Janus `success` without a valid data.id";
      } else {
        reply.data = {{"id", *id}};
      }
    }
  }
  Transaction done = std::move(t);
  const std::string id = it->first;
  transactions_.erase(it);
  // Janus may send a plugin request's `ack` after its `event`: that ack is no stranger.
  remember_done(id);
  complete(id, std::move(done), std::move(reply), now_ms);
}

void JanusSession::complete(const std::string& /*id*/, Transaction t, Reply reply, double now_ms) {
  if (reply.kind == Reply::Kind::Error && reply.code == kNoSuchSession && t.verb != "create" &&
      state_ == State::Ready) {
    // Janus no longer knows our session (it timed it out, or restarted): nothing on it works.
    return lose(ErrorCode::JanusError, "Janus lost the session: " + reply.reason);
  }
  if (t.verb == "create") {
    if (state_ != State::Creating) return;
    if (!reply.ok()) {
      if (reply.kind == Reply::Kind::Timeout) return lose(ErrorCode::JanusTimeout, "Janus did not answer `create` in time");
      return lose(ErrorCode::JanusError, "Janus refused `create`: " + reply.reason);
    }
    session_id_ = reply.data["id"];
    connect_deadline_.reset();
    set_state(State::Ready);
    for (auto& h : handles_) {
      if (!h->attach_sent_) send_attach(*h, now_ms);
    }
    return;
  }
  if (t.verb == "keepalive") {
    if (reply.kind == Reply::Kind::Timeout) lose(ErrorCode::JanusTimeout, "Janus did not answer a keepalive");
    return;
  }
  if (t.verb == "destroy" || t.verb == "detach" || t.pc.empty()) return;
  JanusHandle* h = find(t.pc);
  if (h == nullptr) return;
  if (t.verb == "attach") {
    if (!h->attach_sent_ || h->handle_id_) return;  // superseded (reattach)
    if (!reply.ok()) {
      h->attach_sent_ = false;
      return h->on_attach_failed(reply, now_ms);
    }
    h->handle_id_ = reply.data["id"];
    h->detaching_ = false;
    return h->on_attached(now_ms);
  }
  // For a Janus handle since replaced (the machine restarted): nothing to apply it to.
  if (!h->handle_id_ || t.handle_id != *h->handle_id_) return;
  if (t.verb == "trickle") {
    if (!reply.ok()) h->janus_error("trickle", reply, false);
    return;
  }
  if (t.verb == "message") return h->on_reply(t.purpose, reply, now_ms);
}

void JanusSession::handle_timeout(double now_ms) {
  if (connect_deadline_ && now_ms >= *connect_deadline_) {
    connect_deadline_.reset();
    if (socket_opening_ || socket_open_) {
      out_.push_back({{"action", "janus-close-socket"}, {"code", 4000}});
      socket_open_ = socket_opening_ = false;
    }
    return lose(ErrorCode::JanusUnreachable, "Janus did not answer within the connect timeout");
  }
  // Expire in deadline order; each completion may add requests, so look again each time.
  for (;;) {
    auto due = transactions_.end();
    for (auto it = transactions_.begin(); it != transactions_.end(); ++it) {
      if (it->second.deadline <= now_ms && (due == transactions_.end() || it->second.deadline < due->second.deadline)) {
        due = it;
      }
    }
    if (due == transactions_.end()) break;
    std::string id = due->first;
    Transaction t = std::move(due->second);
    transactions_.erase(due);
    remember_done(id);
    Reply r;
    r.kind = Reply::Kind::Timeout;
    r.reason = "timeout";
    complete(id, std::move(t), std::move(r), now_ms);
    if (state_ == State::Lost || state_ == State::Closed) return;
  }
  if (state_ == State::Ready && now_ms >= last_sent_ + config_.keepalive_interval_ms) {
    send("keepalive", Json::object(), now_ms);
  }
  for (std::size_t i = 0; i < handles_.size(); ++i) handles_[i]->handle_timeout(now_ms);
}

std::optional<double> JanusSession::next_timeout() const {
  std::optional<double> t;
  earliest(t, connect_deadline_);
  for (const auto& [id, tr] : transactions_) earliest(t, tr.deadline);
  if (state_ == State::Ready) earliest(t, last_sent_ + config_.keepalive_interval_ms);
  for (const auto& h : handles_) earliest(t, h->next_timeout());
  return t;
}

std::optional<Json> JanusSession::poll() {
  if (out_.empty()) return std::nullopt;
  Json o = std::move(out_.front());
  out_.pop_front();
  return o;
}

// ---- outputs -------------------------------------------------------------------------------

void JanusSession::send_attach(JanusHandle& h, double now_ms) {
  h.attach_sent_ = true;
  send("attach", {{"plugin", h.plugin_}}, now_ms, h.pc_);
}

std::string JanusSession::send(const char* verb, Json extra, double now_ms, const std::string& pc,
                               const std::string& purpose) {
  const std::string id = tx_prefix_ + std::to_string(next_tx_++);
  const Json* h = find_field(extra, "handle_id");
  Json handle_id = h != nullptr ? *h : Json(nullptr);
  if (transactions_.size() >= config_.max_transactions) {
    // Janus is not answering and we keep asking: not sent, and it times out at the next
    // handle_timeout (bounded memory, and no re-entry into the machine that asked).
    transactions_[id] = {verb, pc, purpose, now_ms, std::move(handle_id)};
    return id;
  }
  Json m = {{"janus", verb}, {"transaction", id}};
  if (!session_id_.is_null()) m["session_id"] = session_id_;
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) m[it.key()] = std::move(it.value());
  }
  transactions_[id] = {verb, pc, purpose, now_ms + config_.request_timeout_ms, std::move(handle_id)};
  send_raw(std::move(m), now_ms);
  return id;
}

void JanusSession::send_raw(Json m, double now_ms) {
  if (config_.token) m["token"] = *config_.token;
  if (config_.apisecret) m["apisecret"] = *config_.apisecret;
  last_sent_ = now_ms;
  out_.push_back({{"action", "janus-send"}, {"data", dump_json(m)}});
}

void JanusSession::remember_done(const std::string& id) {
  done_.push_back(id);
  if (done_.size() > kMaxDone) done_.pop_front();
}

void JanusSession::lose(ErrorCode code, std::string message) {
  if (state_ == State::Lost || state_ == State::Closed) return;
  session_error(code, std::move(message), true);
  if (socket_open_ || socket_opening_) {
    // We give up on a socket that still looks open (Janus went silent): close it ourselves.
    out_.push_back({{"action", "janus-close-socket"}, {"code", 4000}});
  }
  socket_open_ = socket_opening_ = false;
  connect_deadline_.reset();
  transactions_.clear();
  end_handles("lost");
  set_state(State::Lost);
}

void JanusSession::end_handles(const char* state) {
  for (auto& h : handles_) {
    h->close_pc();
    h->handle_id_.reset();
    h->attach_sent_ = false;
    h->on_session_end();
    h->set_state(state);
  }
}

std::vector<Json> JanusSession::room_publishers(const JanusHandle& asking, const Json& room) const {
  std::vector<Json> all;
  for (const auto& h : handles_) {
    if (h.get() == &asking) continue;
    for (auto& id : h->known_publishers(room)) all.push_back(std::move(id));
  }
  return all;
}

Json JanusSession::room_private_id(const JanusHandle& asking, const Json& room) const {
  for (const auto& h : handles_) {
    if (h.get() == &asking) continue;
    Json id = h->private_id_in(room);
    if (!id.is_null()) return id;
  }
  return nullptr;
}

void JanusSession::session_error(ErrorCode code, std::string message, bool fatal) {
  out_.push_back({{"event", "janus-error"}, {"code", to_string(code)}, {"message", std::move(message)},
                  {"fatal", fatal}});
}

void JanusSession::set_state(State s) {
  if (s == state_) return;
  const bool same_name = std::string_view(state_name(s)) == state_name(state_);
  state_ = s;
  if (same_name) return;
  Json e = {{"event", "janus-state"}, {"state", state_name(s)}};
  if (s == State::Ready) e["sessionId"] = session_id_;
  out_.push_back(std::move(e));
}

}  // namespace chorus::janus
