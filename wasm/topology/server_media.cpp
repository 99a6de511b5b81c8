#include "topology/server_media.hpp"

#include "janus/audiobridge_participant.hpp"
#include "janus/janus_session.hpp"
#include "janus/videoroom_publisher.hpp"
#include "janus/videoroom_subscriber.hpp"

namespace chorus::topology {

namespace {

constexpr const char* kLayers[] = {"low", "medium", "high"};  // Janus substreams 0..2

std::optional<int> layer_from(const std::string& name) {
  for (int i = 0; i < 3; ++i) {
    if (name == kLayers[i]) return i;
  }
  return std::nullopt;
}

std::optional<MediaPath> path_from(const std::string& name) {
  if (name == "mesh") return MediaPath::Mesh;
  if (name == "server") return MediaPath::Server;
  return std::nullopt;
}

const char* path_name(MediaPath p) { return p == MediaPath::Mesh ? "mesh" : "server"; }

bool server_mode(Topology t) { return t == Topology::Sfu || t == Topology::McuAudio; }

}  // namespace

ServerMediaConfig ServerMediaConfig::from_json(const Json& config) {
  ServerMediaConfig c;
  if (!config.is_object()) return c;
  if (auto seed = get_number(config, "seed"); seed && *seed >= 0) c.seed = static_cast<std::uint64_t>(*seed);
  if (auto s = get_bool(config, "simulcast")) c.simulcast = *s;
  if (auto l = get_number(config, "initialLayer"); l && *l >= 0 && *l <= 2) c.initial_layer = static_cast<int>(*l);
  read_positive(config, "silenceGraceMs", c.silence_grace_ms);
  if (const Json* r = find_field(config, "reconnect"); r && r->is_object()) {
    read_positive(*r, "initialMs", c.reconnect.base_ms);
    read_positive(*r, "maxMs", c.reconnect.max_ms);
  }
  return c;
}

ServerMedia::ServerMedia(ServerMediaConfig config) : config_(config), random_(config.seed) {}
ServerMedia::~ServerMedia() = default;

void ServerMedia::handle_text(std::string_view input, double now_ms) {
  auto value = parse_json(input);
  if (!value || !value->is_object()) return error("bad-json", "media input is not a JSON object");
  handle(*value, now_ms);
}

void ServerMedia::handle(const Json& input, double now_ms) {
  auto type = get_string(input, "type");
  if (!type) return error("bad-message", "media input needs a string `type`");
  const std::string& t = *type;
  if (t == "self") {
    if (const Json* ice = find_field(input, "iceServers"); ice && ice->is_array()) ice_servers_ = *ice;
    const std::string id = get_string(input, "peerId").value_or(self_);
    if (id != self_) {
      // A new seat (the old one was not resumed): our feed's display must name the new id,
      // so the session starts over.
      const bool had = session_ != nullptr;
      self_ = id;
      if (had) {
        end_session(now_ms, true);
        if (wants_server()) start_session(now_ms);
      }
    }
  } else if (t == "topology") {
    on_topology(input, now_ms);
  } else if (t == "local-media") {
    on_local_media(input, now_ms);
  } else if (t == "peer-added" || t == "peer-removed") {
    auto peer = get_string(input, "peer");
    if (!peer || peer->empty()) return error("bad-message", t + " needs a `peer`");
    if (t == "peer-added") {
      paths_.peer_added(*peer);
      if (paths_.awaits_word(*peer)) word_due_[*peer] = now_ms + config_.silence_grace_ms;
    } else {
      paths_.peer_removed(*peer);
      layer_.erase(*peer);
      in_mix_.erase(*peer);
      word_due_.erase(*peer);
    }
  } else if (t == "media-path") {
    auto from = get_string(input, "from");
    auto path = path_from(get_string(input, "path").value_or(""));
    auto using_it = get_bool(input, "using");
    if (!from || !path || !using_it) return error("bad-message", "media-path needs from, path (mesh|server), using");
    word_due_.erase(*from);
    paths_.peer_says(*from, *path, *using_it);
  } else if (t == "media-flowing") {
    on_flowing(input, now_ms);
  } else if (t == "set-layer") {
    on_set_layer(input, now_ms);
  } else if (t == "leave") {
    // The peers are gone for us: nothing more is told to them or shown (a fresh MediaPaths),
    // only Janus is left.
    paths_ = MediaPaths{};
    word_due_.clear();
    end_session(now_ms, true);
    server_.reset();
    reconnect_at_.reset();
    mode_ = Topology::P2P;
  } else if (t.rfind("janus-", 0) == 0 || find_field(input, "pc") != nullptr) {
    if (session_) session_->handle(input, now_ms);
  } else {
    return error("unknown-type", "unknown media input `" + t + "`");
  }
  drain_paths(now_ms);
  pump(now_ms);
}

void ServerMedia::on_local_media(const Json& input, double now_ms) {
  const bool audio = get_bool(input, "audio").value_or(have_audio_);
  const bool video = get_bool(input, "video").value_or(have_video_);
  const double tracks = get_number(input, "videoTracks").value_or(video ? 1 : 0);
  const int video_tracks = tracks >= 0 && tracks <= 16 ? static_cast<int>(tracks) : (video ? 1 : 0);
  if (audio == have_audio_ && video == have_video_ && video_tracks == video_tracks_) return;
  have_audio_ = audio;
  have_video_ = video;
  video_tracks_ = video_tracks;
  if (publisher_ == nullptr) {
    if (want_publish_) publish(true, now_ms);  // media to publish at last
    return;
  }
  // Another kind or another video track (a screen share) needs a new offer to Janus; the
  // same tracks swapped need nothing (the glue replaces them on the senders).
  publisher_->set_media(audio, video);
  if (audio || video) publisher_->publish(now_ms);
  else publisher_->unpublish(now_ms);
}

void ServerMedia::handle_socket_message(std::string_view text, double now_ms) {
  if (!session_) return;
  session_->handle_socket_message(text, now_ms);
  pump(now_ms);
}

void ServerMedia::handle_timeout(double now_ms) {
  for (auto it = word_due_.begin(); it != word_due_.end();) {
    if (now_ms < it->second) {
      ++it;
      continue;
    }
    const std::string peer = it->first;
    it = word_due_.erase(it);
    paths_.peer_silent(peer);
  }
  drain_paths(now_ms);
  if (reconnect_at_ && now_ms >= *reconnect_at_) {
    reconnect_at_.reset();
    if (wants_server()) start_session(now_ms);
  }
  if (session_) session_->handle_timeout(now_ms);
  pump(now_ms);
}

std::optional<double> ServerMedia::next_timeout() const {
  std::optional<double> at = reconnect_at_;
  for (const auto& [peer, due] : word_due_) {
    if (!at || due < *at) at = due;
  }
  if (session_) {
    if (auto s = session_->next_timeout(); s && (!at || *s < *at)) at = s;
  }
  return at;
}

std::optional<Json> ServerMedia::poll() {
  if (out_.empty()) return std::nullopt;
  Json o = std::move(out_.front());
  out_.pop_front();
  return o;
}

// ---- topology ----------------------------------------------------------------------------

void ServerMedia::on_topology(const Json& input, double now_ms) {
  auto mode = topology_from_string(get_string(input, "mode").value_or(""));
  auto epoch = get_number(input, "epoch");
  if (!mode || !epoch) return error("bad-message", "topology needs a mode and an epoch");
  // The ClientCore orders topologies (by epoch, and a welcome's whatever its epoch: after a
  // failover they start over), so each one that comes is the room's now.
  epoch_ = static_cast<std::uint32_t>(*epoch);
  std::optional<Server> server;
  if (const Json* s = find_field(input, "server"); s && s->is_object()) {
    auto url = get_string(*s, "url");
    auto room = get_number(*s, "room");
    if (url && room && !url->empty()) server = Server{*url, *room};
  }
  if (server_mode(*mode) && !server) return error("bad-message", "sfu and mcu-audio need a `server`");

  // Another media server, room or plugin: the old one is left behind (the mesh still carries
  // the media until the new one flows).
  const bool same = server && server_ && server->url == server_->url && server->room == server_->room &&
                    *mode == session_mode_;
  if (session_ && !same && server_mode(*mode)) {
    end_session(now_ms, true);
    feed_of_.clear();
    peer_of_.clear();
    in_mix_.clear();
    mid_peer_.clear();
  }
  mode_ = *mode;
  if (server_mode(*mode)) {
    server_ = server;
    paths_.set_target(MediaPath::Server);
    if (!session_ && !reconnect_at_) start_session(now_ms);
  } else {
    // Back to the mesh: the session stays while anybody still takes media there.
    paths_.set_target(MediaPath::Mesh);
  }
}

// ---- the Janus session ------------------------------------------------------------------

void ServerMedia::start_session(double now_ms) {
  janus::SessionConfig sc;
  sc.seed = config_.seed + (++sessions_) * 7919;
  session_ = std::make_unique<janus::JanusSession>(sc);
  session_mode_ = mode_;
  session_->connect(now_ms);
  publisher_ = nullptr;
  subscriber_ = nullptr;
  bridge_ = nullptr;
  mix_flowing_ = false;
  set_server_state("connecting");
  // Publishing is set up again; subscriptions follow the publishers Janus lists.
  if (want_publish_) publish(true, now_ms);
  update_bridge(now_ms);
}

bool ServerMedia::wants_server() const {
  return server_.has_value() && (server_mode(mode_) || want_publish_ || !subscribed_.empty());
}

void ServerMedia::end_session(double now_ms, bool tell_janus) {
  if (!session_) return;
  // Taken out first: what follows feeds MediaPaths, whose outputs must not reach this session.
  std::unique_ptr<janus::JanusSession> session = std::move(session_);
  publisher_ = nullptr;
  subscriber_ = nullptr;
  bridge_ = nullptr;
  if (tell_janus) {
    session->close(now_ms);
    while (auto o = session->poll()) {
      if (o->contains("action")) out_.push_back(std::move(*o));
    }
  }
  // Nothing flows from the server any more: every peer shown from there goes back to the mesh
  // (MediaPaths asks the peers for their mesh media where it was paused).
  for (const auto& [mid, peer] : mid_peer_) paths_.media_flowing(peer, MediaPath::Server, false);
  for (const auto& [peer, feed] : feed_of_) paths_.feed_listed(peer, false);
  for (const auto& [peer, listed] : in_mix_) {
    paths_.media_flowing(peer, MediaPath::Server, false);
    paths_.feed_listed(peer, false);
  }
  feed_of_.clear();
  peer_of_.clear();
  in_mix_.clear();
  mid_peer_.clear();
  mid_flowing_.clear();
  mid_video_.clear();
  applied_layer_.clear();
  mix_flowing_ = false;
  set_server_state("closed");
}

void ServerMedia::session_lost(double now_ms) {
  end_session(now_ms, false);
  set_server_state("lost");
  if (!server_ || !server_mode(mode_)) return;
  const double delay = config_.reconnect.delay(failures_++, random_);
  reconnect_at_ = now_ms + delay;
}

void ServerMedia::publish(bool on, double now_ms) {
  want_publish_ = on;
  if (!session_) return;
  if (!on && publisher_ != nullptr) {
    publisher_->leave(now_ms);
    publisher_ = nullptr;
  }
  update_bridge(now_ms);
  if (!on || mode_ == Topology::McuAudio || publisher_ != nullptr) return;
  if (!have_audio_ && !have_video_) return;  // nothing to offer (a data-only join) until media comes
  janus::PublisherConfig c;
  c.room = janus::normalize_id(Json(server_->room));
  c.display = self_;
  c.audio = have_audio_;
  c.video = have_video_;
  if (!config_.simulcast) c.encodings = Json::array();
  c.ice_servers = ice_servers_;
  if (session_->find(c.pc) != nullptr) session_->remove(c.pc, now_ms);  // one we left before
  publisher_ = session_->attach<janus::VideoRoomPublisher>(std::move(c), now_ms);
}

void ServerMedia::update_bridge(double now_ms) {
  if (!session_) return;
  const bool want = mode_ == Topology::McuAudio
                        ? want_publish_ || !subscribed_.empty()
                        : bridge_ != nullptr && (want_publish_ || !subscribed_.empty());
  if (want && bridge_ == nullptr) {
    janus::AudioBridgeConfig c;
    c.room = janus::normalize_id(Json(server_->room));
    c.display = self_;
    c.ice_servers = ice_servers_;
    if (session_->find(c.pc) != nullptr) session_->remove(c.pc, now_ms);  // one we left before
    bridge_ = session_->attach<janus::AudioBridgeParticipant>(std::move(c), now_ms);
  } else if (!want && bridge_ != nullptr) {
    bridge_->leave(now_ms);
    bridge_ = nullptr;
  }
}

void ServerMedia::subscribe(const std::string& peer, bool on, double now_ms) {
  if (mode_ == Topology::McuAudio || !session_) return;  // the bridge's mix carries everyone
  auto feed = feed_of_.find(peer);
  if (on) {
    if (feed == feed_of_.end()) return;
    if (subscriber_ == nullptr) {
      janus::SubscriberConfig c;
      c.room = janus::normalize_id(Json(server_->room));
      c.follow = false;
      c.substream = config_.initial_layer;
      c.ice_servers = ice_servers_;
      subscriber_ = session_->attach<janus::VideoRoomSubscriber>(std::move(c), now_ms);
    }
    if (subscriber_ != nullptr) subscriber_->want(feed->second, now_ms);
  } else if (subscriber_ != nullptr && feed != feed_of_.end()) {
    subscriber_->drop(feed->second["id"], now_ms);
  }
}

void ServerMedia::pump(double now_ms) {
  // Janus events feed MediaPaths, whose actions make Janus requests: until both are quiet.
  for (bool more = true; more;) {
    more = false;
    while (session_) {
      auto o = session_->poll();
      if (!o) break;
      more = true;
      if (!o->contains("action")) {
        on_janus_event(*o, now_ms);
        continue;
      }
      if (o->value("action", "") == "janus-open-socket" && server_) (*o)["url"] = server_->url;
      out_.push_back(std::move(*o));
    }
    drain_paths(now_ms);
  }
  // With the room on the mesh and nobody taking media from the server, the session goes.
  if (session_ && !wants_server()) {
    end_session(now_ms, true);
  }
}

void ServerMedia::on_janus_event(const Json& ev, double now_ms) {
  const std::string name = get_string(ev, "event").value_or("");
  const std::string pc = get_string(ev, "pc").value_or("");
  if (name == "janus-state") {
    const std::string state = get_string(ev, "state").value_or("");
    if (state == "ready") {
      failures_ = 0;
      set_server_state("ready");
    } else if (state == "lost") {
      // The session is terminal; a new one comes after a delay (session_lost resets it, so
      // leave this loop first).
      out_.push_back({{"event", "error"}, {"code", "janus-unreachable"}, {"fatal", false},
                      {"message", "the media server session was lost; the mesh carries the media"}});
      return session_lost(now_ms);
    }
  } else if (name == "janus-publishers") {
    if (const Json* list = find_field(ev, "publishers"); list && list->is_array()) on_publishers(*list);
  } else if (name == "janus-participants") {
    if (const Json* list = find_field(ev, "participants"); list && list->is_array()) on_participants(*list);
  } else if (name == "janus-streams") {
    on_streams(ev);
  } else if (name == "janus-joined" && pc == "audiobridge") {
    out_.push_back({{"event", "server-streams"}, {"pc", pc},
                    {"streams", Json::array({{{"mid", "*"}, {"kind", "audio"}, {"peer", nullptr}}})}});
  } else if (name == "janus-substream") {
    auto mid = get_string(ev, "mid");
    auto sub = get_number(ev, "substream");
    if (mid && sub && *sub >= 0 && *sub <= 2) {
      if (auto it = mid_peer_.find(*mid); it != mid_peer_.end()) {
        out_.push_back({{"event", "layer"}, {"peer", it->second}, {"layer", kLayers[static_cast<int>(*sub)]}});
      }
    }
  } else if (name == "janus-error") {
    Json e = {{"event", "error"}, {"code", get_string(ev, "code").value_or("janus-error")},
              {"message", "media server: " + get_string(ev, "message").value_or("")}, {"fatal", false}};
    if (!pc.empty()) e["pc"] = pc;
    out_.push_back(std::move(e));
  } else if (name == "janus-handle" && get_string(ev, "state").value_or("") == "failed") {
    // A handle gave up (its restarts spent, a join refused): the session starts over after a
    // delay, with every feed asked for again; meanwhile the mesh carries the media.
    return session_lost(now_ms);
  }
}

void ServerMedia::on_publishers(const Json& list) {
  std::map<std::string, Json> now;  // peer -> {id, display, streams}
  for (const Json& p : list) {
    auto display = get_string(p, "display");
    const Json* id = find_field(p, "id");
    if (!display || id == nullptr || !janus::is_valid_id(*id)) continue;
    now[*display] = p;
  }
  for (auto it = feed_of_.begin(); it != feed_of_.end();) {
    if (now.count(it->first) == 0) {
      peer_of_.erase(janus::id_key(it->second["id"]));
      paths_.feed_listed(it->first, false);
      it = feed_of_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [peer, p] : now) {
    const bool fresh = feed_of_.count(peer) == 0 || feed_of_[peer]["id"] != p["id"];
    feed_of_[peer] = p;
    peer_of_[janus::id_key(p["id"])] = peer;
    // A feed already listed with new streams (a screen share): the subscriber follows the
    // publisher handle's announcements itself.
    if (fresh) paths_.feed_listed(peer, true);
  }
}

void ServerMedia::on_participants(const Json& list) {
  std::map<std::string, bool> now;
  for (const Json& p : list) {
    auto display = get_string(p, "display");
    if (display && get_bool(p, "setup").value_or(false)) now[*display] = true;
  }
  for (auto it = in_mix_.begin(); it != in_mix_.end();) {
    if (now.count(it->first) == 0) {
      paths_.media_flowing(it->first, MediaPath::Server, false);
      paths_.feed_listed(it->first, false);
      it = in_mix_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [peer, yes] : now) {
    if (in_mix_.count(peer)) continue;
    in_mix_[peer] = true;
    paths_.feed_listed(peer, true);
    if (mix_flowing_) paths_.media_flowing(peer, MediaPath::Server, true);
  }
}

void ServerMedia::on_streams(const Json& ev) {
  const Json* streams = find_field(ev, "streams");
  if (streams == nullptr || !streams->is_array()) return;
  std::map<std::string, std::string> before = std::move(mid_peer_);
  mid_peer_.clear();
  Json list = Json::array();
  for (const Json& s : *streams) {
    auto mid = get_string(s, "mid");
    if (!mid || !get_bool(s, "active").value_or(false)) continue;
    const Json* feed = find_field(s, "feed");
    std::string peer = get_string(s, "display").value_or("");
    if (feed != nullptr) {
      if (auto it = peer_of_.find(janus::id_key(*feed)); it != peer_of_.end()) peer = it->second;
    }
    if (peer.empty()) continue;
    mid_peer_[*mid] = peer;
    const std::string type = get_string(s, "type").value_or("");
    if (type == "video") mid_video_.insert(*mid);
    else mid_video_.erase(*mid);
    list.push_back({{"mid", *mid}, {"kind", type == "video" ? "video" : "audio"}, {"peer", peer}});
  }
  out_.push_back({{"event", "server-streams"}, {"pc", "subscriber"}, {"streams", std::move(list)}});
  // A mid that left the subscription (or now carries another feed) flows no more.
  for (const auto& [mid, peer] : before) {
    auto now = mid_peer_.find(mid);
    if (now != mid_peer_.end() && now->second == peer) continue;
    mid_flowing_.erase(mid);
    update_server_flow(peer);
  }
}

void ServerMedia::update_server_flow(const std::string& peer) {
  // A peer's server media flows when its video does (audio comes first, with no keyframe to
  // wait for: showing the peer from there then would freeze its picture), or its audio when it
  // sends no video.
  bool video = false, video_flows = false, any_flows = false;
  for (const auto& [mid, p] : mid_peer_) {
    if (p != peer) continue;
    const bool flows = mid_flowing_.count(mid) > 0 && mid_flowing_.at(mid);
    any_flows = any_flows || flows;
    if (mid_video_.count(mid) > 0) {
      video = true;
      video_flows = video_flows || flows;
    }
  }
  paths_.media_flowing(peer, MediaPath::Server, video ? video_flows : any_flows);
}

// ---- what the glue reports ----------------------------------------------------------------

void ServerMedia::on_flowing(const Json& input, double now_ms) {
  auto path = path_from(get_string(input, "path").value_or(""));
  auto flowing = get_bool(input, "flowing");
  if (!path || !flowing) return error("bad-message", "media-flowing needs path (mesh|server) and flowing");
  if (*path == MediaPath::Mesh) {
    auto peer = get_string(input, "peer");
    if (!peer) return error("bad-message", "media-flowing on the mesh needs a `peer`");
    return paths_.media_flowing(*peer, MediaPath::Mesh, *flowing);
  }
  const std::string pc = get_string(input, "pc").value_or("");
  if (pc == "audiobridge") {
    mix_flowing_ = *flowing;
    for (const auto& [peer, yes] : in_mix_) paths_.media_flowing(peer, MediaPath::Server, *flowing);
    return;
  }
  auto mid = get_string(input, "mid");
  if (!mid) return error("bad-message", "media-flowing from the server needs `pc` and `mid`");
  auto it = mid_peer_.find(*mid);
  if (it == mid_peer_.end()) return;  // a track of a feed already gone
  mid_flowing_[*mid] = *flowing;
  update_server_flow(it->second);
  (void)now_ms;
}

void ServerMedia::on_set_layer(const Json& input, double now_ms) {
  auto peer = get_string(input, "peer");
  auto layer = layer_from(get_string(input, "layer").value_or(""));
  if (!peer || !layer) return error("bad-message", "set-layer needs a peer and a layer (low|medium|high)");
  if (!paths_.knows(*peer)) return error("unknown-peer", "set-layer for a peer not in the room");
  layer_[*peer] = *layer;
  apply_layer(*peer, now_ms);
}

void ServerMedia::apply_layer(const std::string& peer, double now_ms) {
  auto want = layer_.find(peer);
  auto feed = feed_of_.find(peer);
  if (want == layer_.end() || feed == feed_of_.end() || subscriber_ == nullptr) return;
  if (subscriber_->negotiating()) return;  // applied once the streams settle
  bool has_video_mid = false;
  for (const auto& [mid, p] : mid_peer_) has_video_mid |= p == peer;
  if (!has_video_mid) return;
  auto applied = applied_layer_.find(peer);
  if (applied != applied_layer_.end() && applied->second == want->second) return;
  applied_layer_[peer] = want->second;
  subscriber_->set_feed_substream(feed->second["id"], want->second, now_ms);
}

// ---- MediaPaths -> the glue and Janus -------------------------------------------------------

void ServerMedia::drain_paths(double now_ms) {
  while (auto a = paths_.poll()) {
    switch (a->kind) {
      case MediaPathAction::Kind::TellPeer:
        out_.push_back({{"action", "send-media-path"}, {"to", a->peer}, {"path", path_name(a->path)}, {"using", a->on}});
        break;
      case MediaPathAction::Kind::MeshSending:
        out_.push_back({{"action", "mesh-sending"}, {"peer", a->peer}, {"on", a->on}, {"kinds", kinds()}});
        break;
      case MediaPathAction::Kind::Show:
        out_.push_back({{"action", "show"}, {"peer", a->peer}, {"path", path_name(a->path)}, {"kinds", kinds()}});
        break;
      case MediaPathAction::Kind::Publish:
        publish(a->on, now_ms);
        break;
      case MediaPathAction::Kind::Subscribe:
        if (a->on) subscribed_.insert(a->peer);
        else subscribed_.erase(a->peer);
        subscribe(a->peer, a->on, now_ms);
        update_bridge(now_ms);
        break;
    }
  }
  // Layers the app asked for, once the subscription names the peer's mids.
  for (const auto& [peer, layer] : layer_) apply_layer(peer, now_ms);
}

void ServerMedia::set_server_state(const char* state) {
  if (server_state_ == state) return;
  server_state_ = state;
  out_.push_back({{"event", "media-server"}, {"state", state}, {"mode", to_string(mode_)}});
}

void ServerMedia::error(const std::string& code, std::string message) {
  out_.push_back({{"event", "error"}, {"code", code}, {"message", std::move(message)}, {"fatal", false}});
}

Json ServerMedia::kinds() const {
  if (mode_ == Topology::McuAudio) return Json::array({"audio"});
  return Json::array({"audio", "video"});
}

}  // namespace chorus::topology
