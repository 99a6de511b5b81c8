// Make-before-break moves of one client's media between the mesh and the room's media server
// (docs/architecture.md, "Topology migration"). Pure and deterministic: the client core feeds
// it the room's topology, the peers, what the media server lists and what flows where, and
// carries out what poll() returns.
//
// The mesh's peer connections are never torn down by a topology change: they carry the
// DataChannels in every topology, and their media senders are only paused (no renegotiation)
// while the remote peer takes our media from the server. Each direction moves on its own:
//
//   receiving  I take peer X's media from the path the room is moving to as soon as media
//              flows there, and until then from where I had it (Show). I subscribe to X's feed
//              on the server while the room uses it, or until X's mesh media flows again.
//              I tell X where I take its media from (TellPeer, relayed as a `media-path`
//              signal): {server, using} / {mesh, using}; {mesh, not using} asks X to resume
//              its mesh media for me.
//   sending    I send to X over the mesh unless X said it uses my server feed. I publish on
//              the server while the room uses it, and after it left the server until every
//              peer that took my feed there said it uses my mesh media.
//
// A peer that joins while the room uses the server starts without my mesh media (it takes
// my feed) unless it asks for the mesh.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>

namespace chorus::topology {

enum class MediaPath { Mesh, Server };

struct MediaPathAction {
  enum class Kind {
    TellPeer,     // signal `media-path` {path, using} to `peer`
    MeshSending,  // mesh media senders to `peer` on (or paused)
    Publish,      // publish our media on the server (on) or unpublish
    Subscribe,    // subscribe to `peer`'s feed on the server (on) or unsubscribe
    Show,         // the app sees `peer`'s media from `path`
  };
  Kind kind;
  std::string peer;
  MediaPath path = MediaPath::Mesh;
  bool on = false;  // MeshSending, Publish, Subscribe; TellPeer: `using`

  bool operator==(const MediaPathAction& o) const {
    return kind == o.kind && peer == o.peer && path == o.path && on == o.on;
  }
};

class MediaPaths {
 public:
  // The room's topology: Server for sfu (and mcu-audio), Mesh for p2p and mesh.
  void set_target(MediaPath target);
  void peer_added(const std::string& peer);
  void peer_removed(const std::string& peer);
  // The server lists (or no longer lists) `peer`'s published feed.
  void feed_listed(const std::string& peer, bool listed);
  // Media from `peer` flows (its tracks unmuted) on `path`, or stopped.
  void media_flowing(const std::string& peer, MediaPath path, bool flowing);
  // `peer`'s `media-path` message: where it takes our media from, and whether it uses it yet.
  void peer_says(const std::string& peer, MediaPath path, bool using_it);
  // `peer` came while the room used the server and has said nothing for the owner's grace
  // period: it cannot take our feed (its media module or session failed), so it gets our mesh
  // media and no longer keeps us publishing.
  void peer_silent(const std::string& peer);
  bool knows(const std::string& peer) const { return peers_.count(peer) > 0; }
  // Peers that came while the room used the server and have said nothing yet.
  bool awaits_word(const std::string& peer) const;

  std::optional<MediaPathAction> poll();
  MediaPath target() const { return target_; }

 private:
  struct Peer {
    // receiving
    bool flowing[2] = {false, false};
    MediaPath shown = MediaPath::Mesh;
    bool subscribed = false;
    bool listed = false;
    std::optional<std::pair<MediaPath, bool>> told;  // last TellPeer
    // sending
    std::optional<std::pair<MediaPath, bool>> says;  // its last media-path message
    bool joined_on_server = false;
    bool mesh_sending = true;
  };
  void update(const std::string& id, Peer& p);
  void update_publish();
  bool wants_mesh_media(const Peer& p) const;
  void emit(MediaPathAction a) { out_.push_back(std::move(a)); }

  MediaPath target_ = MediaPath::Mesh;
  std::map<std::string, Peer> peers_;
  bool publishing_ = false;
  std::deque<MediaPathAction> out_;
};

}  // namespace chorus::topology
