// One client's media on the room's media server, sans-IO: while the room's topology is `sfu`
// (Janus VideoRoom) or `mcu-audio` (Janus AudioBridge) it keeps a Janus session, publishes our
// media, subscribes to the feeds it needs, and moves each direction between the mesh and the
// server make-before-break (MediaPaths, media_paths.hpp). It lives in its own wasm module
// (chorus-media: `MediaCore`), loaded by the glue when a room first leaves the mesh, so
// mesh-only apps never download the Janus client.
//
// The glue routes to it what the ClientCore reports (topology, peers, `media-path` signals),
// reports what the browser does with the media server's objects, and carries out its outputs.
//
// Inputs (`handle`, JSON):
//   | type              | fields                                   | from                       |
//   | self              | peerId, iceServers                       | ClientCore `joined`        |
//   | topology          | mode, epoch, server {url, room} | null   | ClientCore `topology`      |
//   | local-media       | audio, video (booleans: we have tracks), | the local stream changed   |
//   |                   | videoTracks (camera + screen share ...)  |                            |
//   | peer-added        | peer                                     | ClientCore `peerjoined`    |
//   | peer-removed      | peer                                     | ClientCore `peerleft`      |
//   | media-path        | from, path (mesh|server), using          | ClientCore `media-path`    |
//   | media-flowing     | path mesh: peer; path server: pc, mid;   | a remote track decoded its |
//   |                   | flowing                                  | first frame / stopped      |
//   A peer's media on a path flows when its video does (or its audio, without video).
//   | set-layer         | peer, layer (low|medium|high)            | the app (simulcast choice) |
//   | leave             |                                          | the room is left           |
//   | janus-socket-open, janus-socket-closed, and the pc inputs of janus_session.hpp (with `pc`:
//   | publisher, subscriber, audiobridge): passed to the Janus session                        |
//   Text frames of the Janus socket go to handle_socket_message().
//
// Outputs (`poll`): the Janus session's actions (janus-*, see janus_session.hpp; janus-open-socket
// also names the topology's server `url`), and:
//   | action / event           | fields                      | the glue does                    |
//   | action send-media-path   | to, path, using             | ClientCore input `send-media-path`|
//   | action mesh-sending      | peer, on, kinds             | mesh senders to `peer` carry the |
//   |                          |                             | local tracks of `kinds` (on) or  |
//   |                          |                             | none (replaceTrack(null))        |
//   | action show              | peer, path, kinds           | the app's peer.stream holds that |
//   |                          |                             | peer's `kinds` tracks from `path`|
//   | event server-streams     | pc, streams [{mid, kind,    | maps the server pc's tracks to   |
//   |                          | peer}] (peer null: the mix) | peers (RTCRtpTransceiver.mid)    |
//   | event media-server       | state (connecting, ready,   | `mediaserver` event for the app  |
//   |                          | lost, closed), mode         |                                  |
//   | event layer              | peer, layer                 | the layer the server now sends   |
//   | event error              | code, message, fatal        | `error` event (never fatal for   |
//   |                          |                             | the room: the mesh carries on)   |
// `kinds` is ["audio", "video"] in sfu and ["audio"] in mcu-audio (the bridge mixes audio only;
// video stays on the mesh).
//
// Faults: a lost Janus session (Janus restarted, unreachable, 458, keepalive unanswered) or a
// handle that gave up (`failed`) is reported (`media-server` lost + error) and, while the
// topology still names the server, started over with backoff; meanwhile every direction falls
// back to the mesh (which never closed), so nothing hangs. A peer that came while the room was
// on the server and says nothing within `silence_grace_ms` gets our mesh media back. The
// signaling server decides whether the room goes back to mesh.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "common/random.hpp"
#include "signaling/backoff.hpp"
#include "topology/media_paths.hpp"
#include "topology/topology.hpp"

namespace chorus::janus {
class JanusSession;
class VideoRoomPublisher;
class VideoRoomSubscriber;
class AudioBridgeParticipant;
}  // namespace chorus::janus

namespace chorus::topology {

struct ServerMediaConfig {
  std::uint64_t seed = 1;
  Backoff reconnect;                 // Janus session lost: next attempt
  int initial_layer = 2;             // the simulcast layer of a new subscription (2 = high);
                                     // the app lowers it per peer (set-layer) for thumbnails
  bool simulcast = true;             // publish rids h/m/l
  // A peer that came while the room used the server and has not said where it takes our media
  // from by then gets our mesh media back (its media module or Janus session failed).
  double silence_grace_ms = 8000;

  // {seed, simulcast, initialLayer, silenceGraceMs, reconnect: {initialMs, maxMs}}
  static ServerMediaConfig from_json(const Json& config);
};

class ServerMedia {
 public:
  explicit ServerMedia(ServerMediaConfig config = {});
  ~ServerMedia();
  ServerMedia(const ServerMedia&) = delete;
  ServerMedia& operator=(const ServerMedia&) = delete;

  void handle(const Json& input, double now_ms);
  void handle_text(std::string_view input, double now_ms);
  void handle_socket_message(std::string_view text, double now_ms);
  void handle_timeout(double now_ms);
  std::optional<Json> poll();
  std::optional<double> next_timeout() const;

  Topology mode() const { return mode_; }
  const MediaPaths& paths() const { return paths_; }

 private:
  void on_topology(const Json& input, double now_ms);
  void on_local_media(const Json& input, double now_ms);
  void on_flowing(const Json& input, double now_ms);
  void update_server_flow(const std::string& peer);
  void on_set_layer(const Json& input, double now_ms);
  void start_session(double now_ms);
  void end_session(double now_ms, bool tell_janus);
  void session_lost(double now_ms);
  void publish(bool on, double now_ms);
  // The AudioBridge is sendrecv: we stay in it while we publish or still hear someone there.
  void update_bridge(double now_ms);
  void subscribe(const std::string& peer, bool on, double now_ms);
  void apply_layer(const std::string& peer, double now_ms);
  // Drains the Janus session: its actions go out, its events are ours to read.
  void pump(double now_ms);
  void on_janus_event(const Json& ev, double now_ms);
  void on_publishers(const Json& list);
  void on_participants(const Json& list);
  void on_streams(const Json& ev);
  // Drains MediaPaths into glue actions and Janus requests.
  void drain_paths(double now_ms);
  void set_server_state(const char* state);
  void error(const std::string& code, std::string message);
  Json kinds() const;
  bool wants_server() const;

  ServerMediaConfig config_;
  Random random_;
  std::uint64_t sessions_ = 0;
  std::string self_;
  Json ice_servers_ = Json::array();
  bool have_audio_ = true, have_video_ = true;
  int video_tracks_ = 1;  // a camera and a screen share are two
  Topology mode_ = Topology::P2P;
  std::uint32_t epoch_ = 0;
  struct Server {
    std::string url;
    double room = 0;
  };
  std::optional<Server> server_;  // the media server the topology names (sfu / mcu-audio)
  Topology session_mode_ = Topology::P2P;  // the plugin the session serves (sfu / mcu-audio)
  std::map<std::string, double> word_due_;  // peer -> when its silence counts (peer_silent)

  MediaPaths paths_;
  std::unique_ptr<janus::JanusSession> session_;
  janus::VideoRoomPublisher* publisher_ = nullptr;
  janus::VideoRoomSubscriber* subscriber_ = nullptr;
  janus::AudioBridgeParticipant* bridge_ = nullptr;
  bool want_publish_ = false;                  // MediaPaths' Publish
  std::set<std::string> subscribed_;          // MediaPaths' Subscribe, by peer
  std::string server_state_ = "closed";
  int failures_ = 0;
  std::optional<double> reconnect_at_;

  std::map<std::string, Json> feed_of_;        // peer -> its VideoRoom feed id
  std::map<std::string, std::string> peer_of_; // id_key(feed) -> peer
  std::map<std::string, bool> in_mix_;         // peer -> listed in the AudioBridge
  bool mix_flowing_ = false;
  std::map<std::string, std::string> mid_peer_;  // subscriber mid -> peer
  std::map<std::string, bool> mid_flowing_;      // subscriber mid -> its track decodes
  std::set<std::string> mid_video_;              // subscriber mids that carry video
  std::map<std::string, int> layer_;             // peer -> the layer the app asked for
  std::map<std::string, int> applied_layer_;     // peer -> the layer asked of Janus
  std::deque<Json> out_;
};

}  // namespace chorus::topology
