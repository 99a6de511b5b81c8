#include "topology/media_paths.hpp"

namespace chorus::topology {

namespace {

constexpr int index(MediaPath p) { return p == MediaPath::Mesh ? 0 : 1; }

}  // namespace

void MediaPaths::set_target(MediaPath target) {
  if (target == target_) return;
  target_ = target;
  update_publish();  // publishing first: the others' subscriptions wait for our feed
  for (auto& [id, p] : peers_) update(id, p);
  update_publish();  // and unpublishing last, once nobody needs it
}

void MediaPaths::peer_added(const std::string& peer) {
  auto [it, inserted] = peers_.try_emplace(peer);
  if (!inserted) return;
  it->second.joined_on_server = target_ == MediaPath::Server;
  update(peer, it->second);
  update_publish();
}

void MediaPaths::peer_removed(const std::string& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  if (it->second.subscribed) emit({MediaPathAction::Kind::Subscribe, peer, MediaPath::Server, false});
  peers_.erase(it);
  update_publish();
}

void MediaPaths::feed_listed(const std::string& peer, bool listed) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.listed == listed) return;
  it->second.listed = listed;
  update(peer, it->second);
}

void MediaPaths::media_flowing(const std::string& peer, MediaPath path, bool flowing) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.flowing[index(path)] == flowing) return;
  it->second.flowing[index(path)] = flowing;
  update(peer, it->second);
  update_publish();
}

void MediaPaths::peer_says(const std::string& peer, MediaPath path, bool using_it) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  it->second.says = std::make_pair(path, using_it);
  update(peer, it->second);
  update_publish();
}

void MediaPaths::peer_silent(const std::string& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.says || !it->second.joined_on_server) return;
  it->second.joined_on_server = false;
  update(peer, it->second);
  update_publish();
}

bool MediaPaths::awaits_word(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.joined_on_server && !it->second.says;
}

bool MediaPaths::wants_mesh_media(const Peer& p) const {
  if (p.says) return !(p.says->first == MediaPath::Server && p.says->second);
  // Silent so far: a peer that came while the room used the server takes our feed there.
  return !(p.joined_on_server && target_ == MediaPath::Server);
}

void MediaPaths::update(const std::string& id, Peer& p) {
  // Receiving: what the app sees of this peer moves only to a path where media flows.
  const MediaPath other = target_ == MediaPath::Mesh ? MediaPath::Server : MediaPath::Mesh;
  MediaPath shown = p.shown;
  if (p.flowing[index(target_)]) shown = target_;
  else if (!p.flowing[index(shown)] && p.flowing[index(other)]) shown = other;
  if (shown != p.shown) {
    p.shown = shown;
    emit({MediaPathAction::Kind::Show, id, shown, true});
  }

  const bool subscribe = p.listed && (target_ == MediaPath::Server || p.shown == MediaPath::Server);
  if (subscribe != p.subscribed) {
    p.subscribed = subscribe;
    emit({MediaPathAction::Kind::Subscribe, id, MediaPath::Server, subscribe});
  }

  // Tell the peer where we take its media from. A room that never left the mesh says nothing.
  std::optional<std::pair<MediaPath, bool>> tell;
  const bool feed_flows = p.shown == MediaPath::Server && p.flowing[index(MediaPath::Server)];
  if (target_ == MediaPath::Server) {
    // Said once its feed flows. Said "not using" after that only when the feed stopped: it
    // brings the peer's mesh media back (a newcomer waits for its feeds without it).
    if (feed_flows || p.told) tell = std::make_pair(MediaPath::Server, feed_flows);
  } else if (p.shown == MediaPath::Server) {
    tell = std::make_pair(MediaPath::Mesh, false);  // resume your mesh media for me
  } else if (p.told) {
    tell = std::make_pair(MediaPath::Mesh, true);
  }
  if (tell && tell != p.told) {
    p.told = tell;
    emit({MediaPathAction::Kind::TellPeer, id, tell->first, tell->second});
  }

  // Sending.
  const bool mesh = wants_mesh_media(p);
  if (mesh != p.mesh_sending) {
    p.mesh_sending = mesh;
    emit({MediaPathAction::Kind::MeshSending, id, MediaPath::Mesh, mesh});
  }
}

void MediaPaths::update_publish() {
  bool publish = target_ == MediaPath::Server;
  for (const auto& [id, p] : peers_) {
    if (publish) break;
    // It may still take our feed: it said so, asked for the mesh without using it yet, or
    // came during the server's time and said nothing.
    if (p.says) publish = !(p.says->first == MediaPath::Mesh && p.says->second);
    else publish = p.joined_on_server;
  }
  if (publish == publishing_) return;
  publishing_ = publish;
  emit({MediaPathAction::Kind::Publish, "", MediaPath::Server, publish});
}

std::optional<MediaPathAction> MediaPaths::poll() {
  if (out_.empty()) return std::nullopt;
  MediaPathAction a = std::move(out_.front());
  out_.pop_front();
  return a;
}

}  // namespace chorus::topology
