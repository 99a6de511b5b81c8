#include "janus/videoroom_subscriber.hpp"

#include <algorithm>

namespace chorus::janus {

namespace {

constexpr int kNoSuchFeed = 428;  // JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED

std::string videoroom_kind(const Json& data) { return get_string(data, "videoroom").value_or(""); }

// "No such feed (123)", "No such mid 'v0' in feed (123)": the feed's id as Janus printed it.
std::optional<std::string> feed_in_reason(const std::string& reason) {
  const auto open = reason.rfind('(');
  const auto close = reason.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close <= open + 1) return std::nullopt;
  return reason.substr(open + 1, close - open - 1);
}

Json field_or_null(const Json& object, std::string_view key) {
  const Json* v = find_field(object, key);
  return v != nullptr ? *v : Json(nullptr);
}

// {id, streams} from a publisher object or a bare id (null id when invalid).
Json feed_entry(const Json& publisher) {
  Json id = normalize_id(publisher.is_object() ? field_or_null(publisher, "id") : publisher);
  if (!is_valid_id(id)) return nullptr;
  Json streams = publisher.is_object() ? field_or_null(publisher, "streams") : Json(nullptr);
  return {{"id", std::move(id)}, {"streams", streams.is_array() ? std::move(streams) : Json::array()}};
}

bool id_printed_as(const Json& id, const std::string& printed) {
  return id.is_string() ? id.get_ref<const std::string&>() == printed : id_key(id) == printed;
}

}  // namespace

VideoRoomSubscriber::VideoRoomSubscriber(SubscriberConfig config)
    : JanusHandle(config.pc, "janus.plugin.videoroom", config.ice_servers), config_(std::move(config)) {
  config_.room = normalize_id(config_.room);
  if (config_.substream && (*config_.substream < 0 || *config_.substream > 2)) config_.substream.reset();
}

bool VideoRoomSubscriber::usable() const {
  return live() && !leaving_ && state() != "failed" && state() != "left";
}

// ---- owner calls ---------------------------------------------------------------------------

void VideoRoomSubscriber::want(const Json& publisher, double now_ms) {
  if (add_wanted(publisher)) pump(now_ms);
}

bool VideoRoomSubscriber::add_wanted(const Json& publisher) {
  Json entry = feed_entry(publisher);
  if (entry.is_null()) {
    error(ErrorCode::BadMessage, "a feed needs a valid Janus id", false);
    return false;
  }
  const std::string key = id_key(entry["id"]);
  wanted_[key] = std::move(entry);
  waiting_.erase(key);  // announced (again): worth another try
  return true;
}

void VideoRoomSubscriber::drop(const Json& feed_id, double now_ms) {
  const std::string key = id_key(feed_id);
  wanted_.erase(key);
  waiting_.erase(key);
  pump(now_ms);
}

void VideoRoomSubscriber::feed_gone(const Json& feed_id, double now_ms) {
  forget(feed_id);
  pump(now_ms);
}

void VideoRoomSubscriber::forget(const Json& feed_id) {
  const std::string key = id_key(feed_id);
  wanted_.erase(key);
  subscribed_.erase(key);
  requested_mids_.erase(key);
  waiting_.erase(key);
  reported_.erase(key);
}

void VideoRoomSubscriber::set_substream(const std::string& mid, int substream, double now_ms) {
  if (substream < 0 || substream > 2) {
    return error(ErrorCode::BadMessage, "substream must be 0, 1 or 2", false);
  }
  auto it = std::find_if(streams_.begin(), streams_.end(), [&](const Stream& s) { return s.mid == mid; });
  if (it == streams_.end() || it->type != "video" || !it->active) {
    return error(ErrorCode::BadMessage, "no active video stream with mid `" + mid + "`", false);
  }
  if (!usable() || !joined_) return error(ErrorCode::NotConnected, "the subscription is not up", false);
  request("configure",
          {{"request", "configure"}, {"streams", Json::array({{{"mid", mid}, {"substream", substream}}})}},
          now_ms);
}

void VideoRoomSubscriber::set_feed_substream(const Json& feed_id, int substream, double now_ms) {
  std::vector<std::string> mids;
  for (const auto& s : streams_) {
    if (s.active && s.type == "video" && s.feed == feed_id) mids.push_back(s.mid);
  }
  if (mids.empty()) return error(ErrorCode::BadMessage, "no active video stream for that feed", false);
  for (const auto& mid : mids) set_substream(mid, substream, now_ms);
}

void VideoRoomSubscriber::restart_ice(double now_ms) {
  if (!usable() || !joined_) return error(ErrorCode::NotConnected, "the subscription is not up", false);
  request("restart-ice", {{"request", "configure"}, {"restart", true}}, now_ms);
}

void VideoRoomSubscriber::restart(double now_ms) {
  if (leaving_ || state() == "left" || state() == "lost" || state() == "closed") return;
  close_pc();
  phase_ = Phase::None;
  pending_offer_.reset();
  in_flight_.reset();
  awaiting_offer_ = joined_ = false;
  subscribed_.clear();
  requested_mids_.clear();
  waiting_.clear();
  streams_.clear();
  set_state("attaching");
  reattach(now_ms);
}

void VideoRoomSubscriber::leave(double now_ms) {
  if (leaving_ || state() == "left" || state() == "lost" || state() == "closed") return;
  leaving_ = true;
  close_pc();
  phase_ = Phase::None;
  pending_offer_.reset();
  if (joined_ && request("leave", {{"request", "leave"}}, now_ms)) {
    set_state("leaving");
  } else {
    detach(now_ms);
    set_state("left");
  }
}

Json VideoRoomSubscriber::feed_for_mid(const std::string& mid) const {
  for (const auto& s : streams_) {
    if (s.mid == mid && s.active) return s.feed;
  }
  return nullptr;
}

Json VideoRoomSubscriber::streams_json() const {
  Json list = Json::array();
  for (const auto& s : streams_) {
    list.push_back({{"mid", s.mid}, {"type", s.type}, {"active", s.active}, {"feed", s.feed},
                    {"feedMid", s.feed_mid}, {"display", s.display}});
  }
  return list;
}

// ---- the diff between what is wanted and what is subscribed -------------------------------

Json VideoRoomSubscriber::stream_entry(const Json& feed, const std::string* mid) const {
  Json e = {{"feed", feed}};
  if (mid != nullptr) e["mid"] = *mid;
  if (config_.substream) e["substream"] = *config_.substream;
  return e;
}

void VideoRoomSubscriber::pump(double now_ms) {
  if (!usable() || in_flight_ || phase_ != Phase::None || awaiting_offer_) return;
  Update u;
  Json add = Json::array(), remove = Json::array();
  for (const auto& [key, pub] : wanted_) {
    if (waiting_.count(key) != 0) continue;
    const Json& id = pub["id"];
    const Json& announced = pub["streams"];
    auto& asked = requested_mids_[key];
    if (subscribed_.count(key) == 0) {
      add.push_back(stream_entry(id, nullptr));
      u.add_keys.push_back(key);
      for (const auto& s : announced) {
        if (auto mid = get_string(s, "mid")) asked.insert(*mid);
      }
      continue;
    }
    // Subscribed: streams it added since (a screen share) are asked for by mid.
    for (const auto& s : announced) {
      auto mid = get_string(s, "mid");
      const auto type = get_string(s, "type").value_or("");
      if (!mid || (type != "audio" && type != "video") || get_bool(s, "disabled").value_or(false)) continue;
      if (!asked.insert(*mid).second) continue;
      add.push_back(stream_entry(id, &*mid));
      u.add_mids.emplace_back(key, *mid);
    }
  }
  for (const auto& [key, id] : subscribed_) {
    if (wanted_.count(key) != 0) continue;
    // By the subscription's mids: that works also for a publisher no longer in the room (by
    // feed, Janus would find no publisher and change nothing).
    bool by_mid = false;
    for (const auto& st : streams_) {
      if (!st.active || st.feed != id) continue;
      remove.push_back({{"sub_mid", st.mid}});
      by_mid = true;
    }
    if (!by_mid) remove.push_back({{"feed", id}});
    u.remove_keys.push_back(key);
  }
  if (!joined_) {
    for (const auto& key : u.remove_keys) subscribed_.erase(key);
    if (add.empty()) return;
    u.remove_keys.clear();
    Json body = {{"request", "join"}, {"ptype", "subscriber"}, {"room", config_.room}, {"streams", add}};
    Json pid = config_.private_id.is_null() ? room_private_id(config_.room) : config_.private_id;
    if (pid.is_number_integer()) body["private_id"] = pid;
    in_flight_ = std::move(u);
    request("join", std::move(body), now_ms);
    return set_state("joining");
  }
  if (add.empty() && remove.empty()) return;
  in_flight_ = std::move(u);
  if (!add.empty() && !remove.empty()) {
    request("update", {{"request", "update"}, {"subscribe", add}, {"unsubscribe", remove}}, now_ms);
  } else if (!add.empty()) {
    request("subscribe", {{"request", "subscribe"}, {"streams", add}}, now_ms);
  } else {
    request("unsubscribe", {{"request", "unsubscribe"}, {"streams", remove}}, now_ms);
  }
}

void VideoRoomSubscriber::commit(const Update& u) {
  for (const auto& key : u.add_keys) {
    auto it = wanted_.find(key);
    if (it != wanted_.end()) {
      subscribed_[key] = it->second["id"];
      reported_.erase(key);
    }
  }
  for (const auto& key : u.remove_keys) {
    subscribed_.erase(key);
    requested_mids_.erase(key);
  }
}

void VideoRoomSubscriber::failed_adds(const Update& u, const Reply& reply, const char* request_name) {
  // Which feed Janus named (428 names the first it could not find); else all of them.
  std::optional<std::string> culprit;
  if (reply.code == kNoSuchFeed) {
    if (auto printed = feed_in_reason(reply.reason)) {
      auto match = [&](const std::string& key) {
        auto it = wanted_.find(key);
        return it != wanted_.end() && id_printed_as(it->second["id"], *printed);
      };
      for (const auto& key : u.add_keys) if (!culprit && match(key)) culprit = key;
      for (const auto& [key, mid] : u.add_mids) if (!culprit && match(key)) culprit = key;
    }
  }
  std::set<std::string> failed;
  for (const auto& key : u.add_keys) {
    if (subscribed_.count(key) == 0) requested_mids_.erase(key);  // nothing of it was asked
    if (!culprit || *culprit == key) failed.insert(key);
  }
  for (const auto& [key, mid] : u.add_mids) {
    requested_mids_[key].erase(mid);
    if (!culprit || *culprit == key) failed.insert(key);
  }
  for (const auto& key : failed) {
    auto it = wanted_.find(key);
    if (it == wanted_.end()) continue;  // not wanted any more: nothing to tell
    waiting_.insert(key);
    if (reported_.insert(key).second) {
      janus_error(request_name, reply, false, {{"feed", it->second["id"]}});
    }
  }
  // Unsubscribes that went with it: Janus refused them all; forget those feeds anyway.
  for (const auto& key : u.remove_keys) {
    subscribed_.erase(key);
    requested_mids_.erase(key);
  }
}

// ---- offers from Janus ---------------------------------------------------------------------

void VideoRoomSubscriber::apply_offer(const Json& streams, const Json& jsep, double now_ms) {
  (void)now_ms;
  if (get_string(jsep, "type") != "offer") {
    return error(ErrorCode::BadMessage, "Janus sent the subscriber a jsep that is not an offer", false);
  }
  if (phase_ != Phase::None) {
    pending_offer_ = Offer{streams, jsep};  // the newest supersedes any older one waiting
    return;
  }
  awaiting_offer_ = false;
  update_streams(streams);
  create_pc("recvonly");
  phase_ = Phase::ApplyingOffer;
  set_remote_description(jsep);
}

void VideoRoomSubscriber::update_streams(const Json& streams) {
  if (!streams.is_array()) return;
  streams_.clear();
  for (const auto& s : streams) {
    auto mid = get_string(s, "mid");
    if (!mid || streams_.size() >= 512) continue;
    Stream st;
    st.mid = *mid;
    st.type = get_string(s, "type").value_or("");
    const Json* feed = find_field(s, "feed_id");
    if (feed != nullptr && is_valid_id(*feed)) st.feed = *feed;
    st.active = get_bool(s, "active").value_or(true) && !st.feed.is_null();
    st.feed_mid = get_string(s, "feed_mid").value_or("");
    st.display = get_string(s, "feed_display").value_or("");
    // What the subscription holds of a feed is not asked for again by mid.
    if (st.active && !st.feed_mid.empty()) requested_mids_[id_key(st.feed)].insert(st.feed_mid);
    streams_.push_back(std::move(st));
  }
  // A subscribed feed left without a stream (Janus dropped it: its publisher went away) waits
  // until it is announced again instead of being asked for in a loop.
  for (auto it = subscribed_.begin(); it != subscribed_.end();) {
    const bool has = std::any_of(streams_.begin(), streams_.end(),
                                 [&](const Stream& st) { return st.active && st.feed == it->second; });
    if (has) {
      ++it;
      continue;
    }
    requested_mids_.erase(it->first);
    if (wanted_.count(it->first) != 0) waiting_.insert(it->first);
    it = subscribed_.erase(it);
  }
  emit({{"event", "janus-streams"}, {"room", config_.room}, {"streams", streams_json()}});
}

void VideoRoomSubscriber::recover(const std::string& why, double now_ms) {
  if (restarts_ >= config_.max_restarts) {
    close_pc();
    phase_ = Phase::None;
    error(ErrorCode::JanusError, "the subscription failed again: " + why, true);
    return set_state("failed");
  }
  ++restarts_;
  error(ErrorCode::JanusError, "restarting the subscription: " + why, false);
  restart(now_ms);
}

// ---- the session's calls -------------------------------------------------------------------

void VideoRoomSubscriber::on_added(double /*now_ms*/) {
  if (!config_.follow) return;
  for (const auto& p : room_publishers(config_.room)) {
    Json entry = feed_entry(p);
    if (!entry.is_null()) wanted_[id_key(entry["id"])] = std::move(entry);
  }
}

void VideoRoomSubscriber::on_room_publishers(const Json& room, const PublisherChange& change,
                                             double now_ms) {
  if (room != config_.room) return;
  // All of one announcement in one request.
  for (const auto& id : change.unpublished) forget(id);
  for (const auto& id : change.left) {
    // Janus keeps its dead streams in the subscription: unsubscribe them (pump does).
    const std::string key = id_key(id);
    wanted_.erase(key);
    waiting_.erase(key);
    reported_.erase(key);
  }
  for (const auto& p : change.announced) {
    // Following: everyone. Otherwise only what the owner wants: its streams as announced now,
    // and a feed refused before (428) is worth another try.
    const Json* id = find_field(p, "id");
    if (config_.follow || (id != nullptr && wanted_.count(id_key(*id)) != 0)) add_wanted(p);
  }
  pump(now_ms);
}

void VideoRoomSubscriber::on_attached(double now_ms) {
  if (leaving_) {
    detach(now_ms);
    return set_state("left");
  }
  if (!is_valid_id(config_.room)) {
    error(ErrorCode::BadMessage, "the VideoRoom subscriber needs a room id", true);
    return set_state("failed");
  }
  set_state("idle");
  pump(now_ms);
}

void VideoRoomSubscriber::on_reply(const std::string& purpose, const Reply& reply, double now_ms) {
  if (purpose == "join" || purpose == "subscribe" || purpose == "unsubscribe" || purpose == "update") {
    if (!in_flight_) return;
    Update u = std::move(*in_flight_);
    in_flight_.reset();
    const std::string kind = videoroom_kind(reply.data);
    if (purpose == "join") {
      if (reply.ok() && kind == "attached" && reply.jsep) {
        joined_ = true;
        commit(u);
        set_state("active");
        return apply_offer(field_or_null(reply.data, "streams"),
                           *reply.jsep, now_ms);
      }
      if (reply.kind == Reply::Kind::Error && reply.code == kNoSuchFeed) {
        failed_adds(u, reply, "join");
        set_state("idle");
        return pump(now_ms);
      }
      if (reply.ok()) {
        error(ErrorCode::BadMessage, "Janus answered the subscriber's `join` with `" + kind + "`", true,
              {{"request", "join"}});
      } else {
        janus_error("join", reply, true);
      }
      return set_state("failed");
    }
    if (reply.ok() && (kind == "updated" || kind == "updating")) {
      commit(u);
      if (kind == "updating") {
        awaiting_offer_ = true;  // Janus answers when our last answer is in
        offer_deadline_ = now_ms + config_.offer_timeout_ms;
        return;
      }
      if (reply.jsep) {
        return apply_offer(field_or_null(reply.data, "streams"),
                           *reply.jsep, now_ms);
      }
      if (const Json* streams = find_field(reply.data, "streams")) update_streams(*streams);
      return pump(now_ms);
    }
    if (reply.ok()) {
      Reply r;
      r.kind = Reply::Kind::Error;
      r.reason = "unexpected answer `" + kind + "`";
      failed_adds(u, r, purpose.c_str());
    } else {
      failed_adds(u, reply, purpose.c_str());
      if (u.add_keys.empty() && u.add_mids.empty()) janus_error(purpose.c_str(), reply, false);
    }
    return pump(now_ms);
  }
  if (purpose == "start") {
    if (phase_ != Phase::Starting) return;
    if (!reply.ok()) {
      janus_error("start", reply, false);
      return recover("Janus refused our answer", now_ms);
    }
    phase_ = Phase::None;
    if (awaiting_offer_) offer_deadline_ = now_ms + config_.offer_timeout_ms;  // it can come now
    if (pending_offer_) {
      Offer o = std::move(*pending_offer_);
      pending_offer_.reset();
      return apply_offer(o.streams, o.jsep, now_ms);
    }
    return pump(now_ms);
  }
  if (purpose == "restart-ice") {
    if (!reply.ok()) return janus_error("configure", reply, false);
    if (reply.jsep) return apply_offer(Json(nullptr), *reply.jsep, now_ms);
    return;
  }
  if (purpose == "configure") {
    if (!reply.ok()) janus_error("configure", reply, false);
    return;
  }
  if (purpose == "leave") {
    leaving_ = false;
    joined_ = false;
    detach(now_ms);
    return set_state("left");
  }
}

void VideoRoomSubscriber::on_event(const Json& data, const Json* jsep, double now_ms) {
  const std::string kind = videoroom_kind(data);
  if (kind == "updated") {
    // Janus's own update (a publisher left), or the offer it postponed for us.
    const Json* streams = find_field(data, "streams");
    if (jsep != nullptr) return apply_offer(streams != nullptr ? *streams : Json(nullptr), *jsep, now_ms);
    if (streams != nullptr) update_streams(*streams);
    return;
  }
  if (kind == "destroyed") {
    close_pc();
    phase_ = Phase::None;
    error(ErrorCode::JanusError, "the VideoRoom was destroyed", true);
    return set_state("failed");
  }
  if (kind != "event") return;
  if (auto code = get_number(data, "error_code")) {
    return error(ErrorCode::JanusError, get_string(data, "error").value_or("VideoRoom error"), false,
                 {{"janusCode", *code}});
  }
  auto mid = get_string(data, "mid");
  const Json* substream = find_field(data, "substream");
  if (mid && substream != nullptr && substream->is_number_integer()) {
    emit({{"event", "janus-substream"}, {"mid", *mid}, {"feed", feed_for_mid(*mid)}, {"substream", *substream}});
  }
}

void VideoRoomSubscriber::on_pc_input(const std::string& type, const Json& input, double now_ms) {
  if (type == "remote-description-set") {
    if (phase_ != Phase::ApplyingOffer) return;
    phase_ = Phase::Answering;
    emit({{"action", "janus-set-local-description"}});
    return;
  }
  if (type == "local-description-set") {
    if (phase_ != Phase::Answering) return;
    const Json* d = find_field(input, "description");
    if (d == nullptr || get_string(*d, "type") != "answer" || !get_string(*d, "sdp")) {
      return recover("local-description-set without an answer", now_ms);
    }
    if (!request("start", {{"request", "start"}}, now_ms,
                 Json{{"type", "answer"}, {"sdp", *get_string(*d, "sdp")}})) {
      return;
    }
    phase_ = Phase::Starting;
    trickle_ready(now_ms);
    return;
  }
  if (type == "operation-failed") {
    if (phase_ == Phase::None) return;
    const std::string what = get_string(input, "operation").value_or("operation") + " failed: " +
                             get_string(input, "message").value_or("");
    error(ErrorCode::NegotiationFailed, what, false);
    return recover(what, now_ms);
  }
}

void VideoRoomSubscriber::on_webrtcup(double /*now_ms*/) { restarts_ = 0; }

std::optional<double> VideoRoomSubscriber::next_timeout() const {
  // While an answer of ours is under way the offer cannot come yet: the clock starts after it.
  if (awaiting_offer_ && phase_ == Phase::None) return offer_deadline_;
  return std::nullopt;
}

void VideoRoomSubscriber::handle_timeout(double now_ms) {
  if (!awaiting_offer_) return;
  if (phase_ != Phase::None) {
    offer_deadline_ = now_ms + config_.offer_timeout_ms;
    return;
  }
  if (now_ms >= offer_deadline_) recover("the offer Janus promised (`updating`) never came", now_ms);
}

void VideoRoomSubscriber::on_hangup(const std::string& reason, double now_ms) {
  recover("Janus hung up (" + reason + ")", now_ms);
}

void VideoRoomSubscriber::on_session_end() {
  phase_ = Phase::None;
  pending_offer_.reset();
  in_flight_.reset();
  awaiting_offer_ = joined_ = leaving_ = false;
  subscribed_.clear();
  requested_mids_.clear();
  streams_.clear();
}

}  // namespace chorus::janus
