#include "janus/audiobridge_participant.hpp"

namespace chorus::janus {

namespace {

constexpr int kNoSuchRoom = 485;  // JANUS_AUDIOBRIDGE_ERROR_NO_SUCH_ROOM
constexpr int kRoomExists = 486;  // JANUS_AUDIOBRIDGE_ERROR_ROOM_EXISTS
constexpr std::size_t kMaxParticipants = 1024;

std::string audiobridge_kind(const Json& data) { return get_string(data, "audiobridge").value_or(""); }

}  // namespace

AudioBridgeParticipant::AudioBridgeParticipant(AudioBridgeConfig config)
    : JanusHandle(config.pc, "janus.plugin.audiobridge", config.ice_servers),
      config_(std::move(config)),
      muted_wanted_(config_.muted),
      muted_confirmed_(config_.muted) {
  config_.room = normalize_id(config_.room);
}

// ---- owner calls ---------------------------------------------------------------------------

void AudioBridgeParticipant::mute(bool muted, double now_ms) {
  muted_wanted_ = muted;
  if (phase_ == Phase::Connected && !mute_in_flight_ && muted_wanted_ != muted_confirmed_) send_mute(now_ms);
}

void AudioBridgeParticipant::send_mute(double now_ms) {
  mute_in_flight_ = request("mute", {{"request", "configure"}, {"muted", muted_wanted_}}, now_ms);
  mute_sent_ = muted_wanted_;
}

void AudioBridgeParticipant::leave(double now_ms) {
  if (leaving_ || state() == "left" || state() == "lost" || state() == "closed") return;
  leaving_ = true;
  close_pc();
  phase_ = Phase::None;
  if (!id_.is_null() && request("leave", {{"request", "leave"}}, now_ms)) {
    set_state("leaving");
  } else {
    leaving_ = false;
    detach(now_ms);
    set_state("left");
  }
}

void AudioBridgeParticipant::rejoin(double now_ms) {
  if (state() == "lost" || state() == "closed" || leaving_) return;
  close_pc();
  phase_ = Phase::None;
  id_ = nullptr;
  mute_in_flight_ = false;
  muted_confirmed_ = config_.muted;
  participants_.clear();
  set_state("attaching");
  reattach(now_ms);
}

Json AudioBridgeParticipant::participants_json() const {
  Json list = Json::array();
  for (const auto& [key, p] : participants_) list.push_back(p);
  return list;
}

// ---- the session's calls -------------------------------------------------------------------

void AudioBridgeParticipant::on_attached(double now_ms) {
  if (!is_valid_id(config_.room)) {
    error(ErrorCode::BadMessage, "the AudioBridge participant needs a room id", true);
    return set_state("failed");
  }
  send_join(now_ms);
}

void AudioBridgeParticipant::send_join(double now_ms) {
  Json body = {{"request", "join"}, {"room", config_.room}, {"muted", muted_wanted_}};
  if (!config_.display.empty()) body["display"] = config_.display;
  if (config_.token) body["token"] = *config_.token;
  if (request("join", std::move(body), now_ms)) set_state("joining");
}

void AudioBridgeParticipant::on_reply(const std::string& purpose, const Reply& reply, double now_ms) {
  if (purpose == "join") {
    if (reply.ok() && audiobridge_kind(reply.data) == "joined") return on_joined(reply.data, now_ms);
    if (reply.kind == Reply::Kind::Error && reply.code == kNoSuchRoom && config_.create.is_object() &&
        !room_created_) {
      Json body = config_.create;
      body["request"] = "create";
      body["room"] = config_.room;
      if (request("create", std::move(body), now_ms)) set_state("creating-room");
      return;
    }
    if (reply.ok()) {
      error(ErrorCode::BadMessage, "Janus answered `join` with `" + audiobridge_kind(reply.data) + "`",
            true, {{"request", "join"}});
    } else {
      janus_error("join", reply, true);
    }
    return set_state("failed");
  }
  if (purpose == "create") {
    if ((reply.ok() && audiobridge_kind(reply.data) == "created") ||
        (reply.kind == Reply::Kind::Error && reply.code == kRoomExists)) {
      room_created_ = true;
      return send_join(now_ms);
    }
    janus_error("create", reply, true);
    return set_state("failed");
  }
  if (purpose == "configure") {
    if (phase_ != Phase::Configuring) return;
    mute_in_flight_ = false;
    if (reply.ok() && reply.jsep && get_string(*reply.jsep, "type") == "answer") {
      phase_ = Phase::Answering;
      muted_confirmed_ = mute_sent_;
      emit({{"event", "janus-muted"}, {"muted", muted_confirmed_}});
      return set_remote_description(*reply.jsep);
    }
    if (reply.ok()) {
      error(ErrorCode::BadMessage, "Janus answered `configure` without an SDP answer", true,
            {{"request", "configure"}});
    } else {
      janus_error("configure", reply, true);
    }
    close_pc();
    phase_ = Phase::None;
    return set_state("failed");
  }
  if (purpose == "mute") {
    mute_in_flight_ = false;
    if (!reply.ok()) return janus_error("configure", reply, false);
    if (mute_sent_ != muted_confirmed_) {
      muted_confirmed_ = mute_sent_;
      emit({{"event", "janus-muted"}, {"muted", muted_confirmed_}});
    }
    if (phase_ == Phase::Connected && muted_wanted_ != muted_confirmed_) send_mute(now_ms);
    return;
  }
  if (purpose == "leave") {
    leaving_ = false;
    id_ = nullptr;
    participants_.clear();
    detach(now_ms);
    return set_state("left");
  }
}

void AudioBridgeParticipant::on_joined(const Json& data, double now_ms) {
  (void)now_ms;
  const Json* id = find_field(data, "id");
  if (id == nullptr || !is_valid_id(*id)) {
    error(ErrorCode::BadMessage, "Janus's `joined` has no valid id", true, {{"request", "join"}});
    return set_state("failed");
  }
  id_ = *id;
  set_state("joined");
  emit({{"event", "janus-joined"}, {"room", config_.room}, {"id", id_}});
  participants_.clear();
  if (const Json* list = find_field(data, "participants")) merge(*list);
  report();
  create_pc("sendrecv");
  emit({{"action", "janus-create-offer"}, {"audio", true}, {"video", false}, {"encodings", Json::array()}});
  phase_ = Phase::Offering;
  set_state("connecting");
}

void AudioBridgeParticipant::on_pc_input(const std::string& type, const Json& input, double now_ms) {
  if (type == "local-description-set") {
    if (phase_ != Phase::Offering) return;
    const Json* d = find_field(input, "description");
    if (d == nullptr || get_string(*d, "type") != "offer" || !get_string(*d, "sdp")) {
      error(ErrorCode::BadMessage, "local-description-set needs description {type: offer, sdp}", true);
      close_pc();
      phase_ = Phase::None;
      return set_state("failed");
    }
    mute_sent_ = muted_wanted_;
    if (!request("configure", {{"request", "configure"}, {"muted", mute_sent_}}, now_ms,
                 Json{{"type", "offer"}, {"sdp", *get_string(*d, "sdp")}})) {
      return;
    }
    mute_in_flight_ = true;
    phase_ = Phase::Configuring;
    trickle_ready(now_ms);
    return;
  }
  if (type == "remote-description-set") {
    if (phase_ != Phase::Answering) return;
    phase_ = Phase::Connected;
    set_state("connected");
    if (muted_wanted_ != muted_confirmed_) send_mute(now_ms);
    return;
  }
  if (type == "operation-failed") {
    if (phase_ == Phase::None) return;
    error(ErrorCode::NegotiationFailed,
          get_string(input, "operation").value_or("operation") + " failed: " +
              get_string(input, "message").value_or(""),
          true);
    close_pc();
    phase_ = Phase::None;
    return set_state("failed");
  }
}

void AudioBridgeParticipant::on_event(const Json& data, const Json* /*jsep*/, double /*now_ms*/) {
  const std::string kind = audiobridge_kind(data);
  if (kind == "destroyed") {
    close_pc();
    phase_ = Phase::None;
    error(ErrorCode::JanusError, "the AudioBridge room was destroyed", true);
    return set_state("failed");
  }
  if (kind == "talking" || kind == "stopped-talking") {
    const Json* id = find_field(data, "id");
    if (id == nullptr) return;
    auto it = participants_.find(id_key(*id));
    if (it == participants_.end() || it->second["talking"] == (kind == "talking")) return;
    it->second["talking"] = kind == "talking";
    return report();
  }
  if (kind != "joined" && kind != "event") return;
  if (auto code = get_number(data, "error_code")) {
    return error(ErrorCode::JanusError, get_string(data, "error").value_or("AudioBridge error"), false,
                 {{"janusCode", *code}});
  }
  bool changed = false;
  if (const Json* list = find_field(data, "participants")) changed = merge(*list);
  for (const char* key : {"leaving", "kicked"}) {
    const Json* id = find_field(data, key);
    if (id == nullptr || !is_valid_id(*id)) continue;
    if (*id == id_ && !id_.is_null()) {
      close_pc();
      phase_ = Phase::None;
      error(ErrorCode::JanusError, "removed from the AudioBridge room", true);
      return set_state("failed");
    }
    changed = participants_.erase(id_key(*id)) > 0 || changed;
  }
  if (changed) report();
}

bool AudioBridgeParticipant::merge(const Json& list) {
  if (!list.is_array()) return false;
  bool changed = false;
  for (const auto& p : list) {
    const Json* id = find_field(p, "id");
    if (id == nullptr || !is_valid_id(*id) || *id == id_) continue;
    const std::string key = id_key(*id);
    auto it = participants_.find(key);
    if (it == participants_.end() && participants_.size() >= kMaxParticipants) continue;
    const bool talking = get_bool(p, "talking")
                             .value_or(it != participants_.end() && it->second["talking"] == true);
    Json entry = {{"id", *id},
                  {"display", get_string(p, "display").value_or("")},
                  {"muted", get_bool(p, "muted").value_or(false)},
                  {"setup", get_bool(p, "setup").value_or(false)},
                  {"talking", talking}};
    if (it != participants_.end() && it->second == entry) continue;
    participants_[key] = std::move(entry);
    changed = true;
  }
  return changed;
}

void AudioBridgeParticipant::report() {
  emit({{"event", "janus-participants"}, {"room", config_.room}, {"participants", participants_json()}});
}

void AudioBridgeParticipant::on_hangup(const std::string& /*reason*/, double /*now_ms*/) {
  // Janus took us out of the mix with the PeerConnection.
  close_pc();
  phase_ = Phase::None;
  id_ = nullptr;
  mute_in_flight_ = false;
  participants_.clear();
  set_state("left");
}

void AudioBridgeParticipant::on_session_end() {
  phase_ = Phase::None;
  id_ = nullptr;
  leaving_ = mute_in_flight_ = false;
  participants_.clear();
}

}  // namespace chorus::janus
