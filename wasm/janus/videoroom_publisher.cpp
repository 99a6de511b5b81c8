#include "janus/videoroom_publisher.hpp"

namespace chorus::janus {

namespace {

constexpr int kNoSuchRoom = 426;   // JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM
constexpr int kRoomExists = 427;   // JANUS_VIDEOROOM_ERROR_ROOM_EXISTS
constexpr std::size_t kMaxPublishers = 1024;

std::string videoroom_kind(const Json& data) { return get_string(data, "videoroom").value_or(""); }

// A description the glue reported: {type, sdp} with the expected type.
std::optional<Json> description_of(const Json& input, const char* type) {
  const Json* d = find_field(input, "description");
  if (d == nullptr || get_string(*d, "type") != type || !get_string(*d, "sdp")) return std::nullopt;
  return Json{{"type", type}, {"sdp", *get_string(*d, "sdp")}};
}

}  // namespace

VideoRoomPublisher::VideoRoomPublisher(PublisherConfig config)
    : JanusHandle(config.pc, "janus.plugin.videoroom", config.ice_servers),
      config_(std::move(config)),
      want_publish_(config_.publish_on_join) {
  config_.room = normalize_id(config_.room);
}

// ---- owner calls ---------------------------------------------------------------------------

void VideoRoomPublisher::publish(double now_ms) {
  want_publish_ = true;
  if (joined()) start_offer(now_ms);
}

void VideoRoomPublisher::unpublish(double now_ms) {
  want_publish_ = false;
  renegotiate_ = false;
  if (phase_ != Phase::None) stop_publishing(now_ms, true);
}

void VideoRoomPublisher::leave(double now_ms) {
  if (leaving_ || state() == "left" || state() == "lost" || state() == "closed") return;
  leaving_ = true;
  want_publish_ = renegotiate_ = false;
  close_pc();
  // Unpublish first: then Janus tells the others `unpublished` and updates their subscriptions
  // (a publisher that just leaves leaves its dead streams in them).
  if (phase_ != Phase::None) request("unpublish", {{"request", "unpublish"}}, now_ms);
  phase_ = Phase::None;
  if (request("leave", {{"request", "leave"}}, now_ms)) {
    set_state("leaving");
  } else {
    detach(now_ms);
    set_state("left");
  }
}

Json VideoRoomPublisher::publishers_json() const {
  Json list = Json::array();
  for (const auto& [key, p] : publishers_) list.push_back(p);
  return list;
}

std::vector<Json> VideoRoomPublisher::known_publishers(const Json& room) const {
  std::vector<Json> all;
  if (room != config_.room) return all;
  for (const auto& [key, p] : publishers_) all.push_back(p);
  return all;
}

Json VideoRoomPublisher::private_id_in(const Json& room) const {
  return room == config_.room ? private_id_ : Json(nullptr);
}

// ---- the session's calls -------------------------------------------------------------------

void VideoRoomPublisher::on_attached(double now_ms) {
  if (leaving_) {
    detach(now_ms);
    return set_state("left");
  }
  if (!is_valid_id(config_.room)) {
    error(ErrorCode::BadMessage, "the VideoRoom publisher needs a room id", true);
    return set_state("failed");
  }
  send_join(now_ms);
}

void VideoRoomPublisher::send_join(double now_ms) {
  Json body = {{"request", "join"}, {"ptype", "publisher"}, {"room", config_.room}};
  if (!config_.display.empty()) body["display"] = config_.display;
  if (config_.token) body["token"] = *config_.token;
  if (request("join", std::move(body), now_ms)) set_state("joining");
}

void VideoRoomPublisher::on_reply(const std::string& purpose, const Reply& reply, double now_ms) {
  if (purpose == "join") {
    if (reply.ok() && videoroom_kind(reply.data) == "joined") return on_joined(reply.data, now_ms);
    if (reply.kind == Reply::Kind::Error && reply.code == kNoSuchRoom && config_.create.is_object() &&
        !room_created_ && !leaving_) {
      Json body = config_.create;
      body["request"] = "create";
      body["room"] = config_.room;
      if (request("create", std::move(body), now_ms)) set_state("creating-room");
      return;
    }
    if (reply.ok()) {
      error(ErrorCode::BadMessage, "Janus answered `join` with `" + videoroom_kind(reply.data) + "`", true,
            {{"request", "join"}});
    } else {
      janus_error("join", reply, true);
    }
    return set_state("failed");
  }
  if (purpose == "create") {
    // Created, or someone else created it meanwhile: join it either way.
    if ((reply.ok() && videoroom_kind(reply.data) == "created") ||
        (reply.kind == Reply::Kind::Error && reply.code == kRoomExists)) {
      room_created_ = true;
      if (!leaving_) send_join(now_ms);
      return;
    }
    janus_error("create", reply, true);
    return set_state("failed");
  }
  if (purpose == "configure") {
    if (phase_ != Phase::Configuring) return;  // we stopped meanwhile
    if (reply.ok() && reply.jsep && get_string(*reply.jsep, "type") == "answer") {
      phase_ = Phase::Answering;
      set_remote_description(*reply.jsep);
      return;
    }
    if (reply.ok()) {
      error(ErrorCode::BadMessage, "Janus answered `configure` without an SDP answer", false,
            {{"request", "configure"}});
    } else {
      janus_error("configure", reply, false);
    }
    // Refused (codec, publishers full ...): stop; the owner may try publish() again.
    want_publish_ = false;
    return stop_publishing(now_ms, true);
  }
  if (purpose == "unpublish") {
    // 435 "not published": nothing was up at Janus, which is what we wanted.
    if (!reply.ok() && reply.code != 435) janus_error("unpublish", reply, false);
    return;
  }
  if (purpose == "leave") {
    leaving_ = false;
    detach(now_ms);
    feed_id_ = nullptr;
    return set_state("left");
  }
}

void VideoRoomPublisher::on_joined(const Json& data, double now_ms) {
  const Json* id = find_field(data, "id");
  if (id == nullptr || !is_valid_id(*id)) {
    error(ErrorCode::BadMessage, "Janus's `joined` has no valid id", true, {{"request", "join"}});
    return set_state("failed");
  }
  feed_id_ = *id;
  const Json* pid = find_field(data, "private_id");
  private_id_ = pid != nullptr && pid->is_number_integer() ? *pid : Json(nullptr);
  set_state("joined");
  emit({{"event", "janus-joined"}, {"room", config_.room}, {"id", feed_id_}, {"privateId", private_id_}});
  PublisherChange gone;
  for (const auto& [key, p] : publishers_) gone.left.push_back(p["id"]);
  publishers_.clear();
  if (!gone.left.empty()) publishers_changed(config_.room, gone, now_ms);
  const Json* list = find_field(data, "publishers");
  // The list as it is at join, reported even when empty.
  if (!add_publishers(list != nullptr ? *list : Json::array(), now_ms)) report_publishers();
  if (want_publish_) start_offer(now_ms);
}

void VideoRoomPublisher::start_offer(double now_ms) {
  (void)now_ms;
  if (!joined()) return;
  if (phase_ == Phase::Offering || phase_ == Phase::Configuring || phase_ == Phase::Answering) {
    renegotiate_ = true;  // after this exchange
    return;
  }
  create_pc("sendonly");
  emit({{"action", "janus-create-offer"},
        {"audio", config_.audio},
        {"video", config_.video},
        {"encodings", config_.video && config_.encodings.is_array() ? config_.encodings : Json::array()}});
  phase_ = Phase::Offering;
  set_state("publishing");
}

void VideoRoomPublisher::stop_publishing(double now_ms, bool tell_janus) {
  close_pc();
  phase_ = Phase::None;
  renegotiate_ = false;
  if (tell_janus) request("unpublish", {{"request", "unpublish"}}, now_ms);
  if (joined()) set_state("joined");
}

void VideoRoomPublisher::on_pc_input(const std::string& type, const Json& input, double now_ms) {
  if (type == "local-description-set") {
    if (phase_ != Phase::Offering) return;
    auto offer = description_of(input, "offer");
    if (!offer) {
      error(ErrorCode::BadMessage, "local-description-set needs description {type: offer, sdp}", false);
      return stop_publishing(now_ms, false);
    }
    Json body = {{"request", "configure"}};
    if (config_.bitrate) body["bitrate"] = *config_.bitrate;
    if (!request("configure", std::move(body), now_ms, std::move(*offer))) return;
    phase_ = Phase::Configuring;
    trickle_ready(now_ms);
    return;
  }
  if (type == "remote-description-set") {
    if (phase_ != Phase::Answering) return;
    phase_ = Phase::Published;
    set_state("published");
    if (renegotiate_) {
      renegotiate_ = false;
      start_offer(now_ms);
    }
    return;
  }
  if (type == "operation-failed") {
    if (phase_ == Phase::None) return;
    error(ErrorCode::NegotiationFailed,
          get_string(input, "operation").value_or("operation") + " failed: " +
              get_string(input, "message").value_or(""),
          false);
    want_publish_ = false;
    return stop_publishing(now_ms, phase_ != Phase::Offering);
  }
  // connectionstatechange: Janus's webrtcup/hangup say what matters.
}

void VideoRoomPublisher::on_event(const Json& data, const Json* /*jsep*/, double now_ms) {
  const std::string kind = videoroom_kind(data);
  if (kind == "destroyed") {
    close_pc();
    phase_ = Phase::None;
    error(ErrorCode::JanusError, "the VideoRoom was destroyed", true);
    return set_state("failed");
  }
  if (kind != "event") return;  // talking, slow_link, a late `joined` ...
  if (auto code = get_number(data, "error_code")) {
    return error(ErrorCode::JanusError, get_string(data, "error").value_or("VideoRoom error"), false,
                 {{"janusCode", *code}});
  }
  if (const Json* list = find_field(data, "publishers")) add_publishers(*list, now_ms);
  // Janus sends `unpublished` twice for one unpublish; the second finds nothing to remove.
  if (const Json* id = find_field(data, "unpublished"); id != nullptr && is_valid_id(*id) && *id != "ok") {
    remove_publisher(*id, false, now_ms);
  }
  // `leaving` without `unpublished` before it: it left while publishing, and Janus leaves its
  // streams in everyone's subscription (no autoupdate).
  if (const Json* id = find_field(data, "leaving"); id != nullptr && is_valid_id(*id) && *id != "ok") {
    remove_publisher(*id, true, now_ms);
  }
  if (const Json* id = find_field(data, "kicked"); id != nullptr && is_valid_id(*id)) {
    if (*id != feed_id_) return remove_publisher(*id, true, now_ms);
    close_pc();
    phase_ = Phase::None;
    error(ErrorCode::JanusError, "kicked out of the VideoRoom", true);
    return set_state("failed");
  }
}

bool VideoRoomPublisher::add_publishers(const Json& list, double now_ms) {
  if (!list.is_array()) return false;
  // Every announcement goes to the followers, even an unchanged one: Janus announces a
  // publisher when it becomes active (again), which is when a refused subscription can work.
  std::vector<Json> announced;
  bool changed = false;
  for (const auto& p : list) {
    const Json* id = find_field(p, "id");
    if (id == nullptr || !is_valid_id(*id) || *id == feed_id_) continue;
    if (get_bool(p, "dummy").value_or(false)) continue;  // placeholder streams, nobody there
    const Json* streams = find_field(p, "streams");
    Json entry = {{"id", *id},
                  {"display", get_string(p, "display").value_or("")},
                  {"streams", streams != nullptr && streams->is_array() ? *streams : Json::array()}};
    const std::string key = id_key(*id);
    auto it = publishers_.find(key);
    if (it == publishers_.end() && publishers_.size() >= kMaxPublishers) continue;
    if (it == publishers_.end() || it->second != entry) {
      publishers_[key] = entry;
      changed = true;
    }
    announced.push_back(std::move(entry));
  }
  if (changed) report_publishers();
  if (!announced.empty()) publishers_changed(config_.room, {announced, {}, {}}, now_ms);
  return changed;
}

void VideoRoomPublisher::remove_publisher(const Json& id, bool left, double now_ms) {
  if (publishers_.erase(id_key(id)) == 0) return;
  report_publishers();
  PublisherChange change;
  (left ? change.left : change.unpublished).push_back(id);
  publishers_changed(config_.room, change, now_ms);
}

void VideoRoomPublisher::report_publishers() {
  emit({{"event", "janus-publishers"}, {"room", config_.room}, {"publishers", publishers_json()}});
}

void VideoRoomPublisher::on_hangup(const std::string& /*reason*/, double /*now_ms*/) {
  // Janus closed our PeerConnection (ICE or DTLS failed): no longer published there.
  close_pc();
  phase_ = Phase::None;
  renegotiate_ = false;
  if (joined()) set_state("joined");
}

void VideoRoomPublisher::on_session_end() {
  phase_ = Phase::None;
  leaving_ = renegotiate_ = false;
  feed_id_ = private_id_ = nullptr;
  publishers_.clear();
}

}  // namespace chorus::janus
