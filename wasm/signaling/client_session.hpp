// The browser side of a room, sans-IO: the signaling socket's lifecycle (join, heartbeat,
// reconnect with backoff and resume), the room's peers, one PeerNegotiation per peer, and the
// room's push-to-talk floor as the server reports it (plus this client's floor requests).
// States: idle -> connecting -> joined -> reconnecting -> joined ... -> left.
//
// Inputs and outputs are the JSON objects of docs/architecture.md ("ClientCore"); a bad input
// becomes an `error` event, never a crash.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "common/random.hpp"
#include "signaling/backoff.hpp"
#include "signaling/peer_negotiation.hpp"
#include "signaling/protocol.hpp"

namespace chorus {

struct ClientConfig {
  std::uint64_t seed = 1;
  double ping_interval_ms = 10000;
  double pong_timeout_ms = 25000;  // no frame from the server this long: the socket is dead
  Backoff backoff;
  int connect_attempts = 5;        // the first join gives up after this many failed sockets
  double resume_grace_ms = 10000;  // peers missing after a resume get this long to come back
  std::size_t max_outbox = 512;    // signals kept while the socket is down
  double floor_request_timeout_ms = 5000;  // a floor request unanswered this long is denied
  NegotiationConfig negotiation;

  static ClientConfig from_json(const Json& config);
};

class ClientSession : private PeerSink {
 public:
  enum class State { Idle, Connecting, Joined, Reconnecting, Left };

  explicit ClientSession(ClientConfig config = {});

  // An input object from the glue (docs/architecture.md).
  void handle(const Json& input, double now_ms);
  // Same, from JSON text (what the wasm binding receives).
  void handle_text(std::string_view input, double now_ms);
  // A text frame from the signaling socket.
  void handle_socket_message(std::string_view text, double now_ms);
  void handle_timeout(double now_ms);

  std::optional<Json> poll();
  std::optional<double> next_timeout() const;

  State state() const { return state_; }
  const std::string& peer_id() const { return peer_id_; }
  std::size_t peer_count() const { return peers_.size(); }
  const protocol::FloorState& floor() const { return floor_; }
  const protocol::TopologyInfo& topology() const { return topology_; }

 private:
  struct Peer {
    std::string name;
    PeerNegotiation negotiation;
    std::optional<double> confirm_deadline;  // set after a resume until the server lists it
    bool start_waits_for_media = false;      // we offer once local media is ready
  };

  // PeerSink
  void action(Json action) override;
  void signal(protocol::Signal signal) override;
  void event(Json event) override;

  void on_join(const Json& input, double now_ms);
  void on_leave();
  void on_socket_open(double now_ms);
  void on_media_ready();
  void on_uplink_sample(const Json& input);
  // We are the one to offer to `peer` (it was there before us).
  void initiate(Peer& peer);
  void on_socket_closed(double now_ms);
  void on_server_message(protocol::ServerMessage message, double now_ms);
  void on_welcome(protocol::Welcome welcome, double now_ms);
  void on_server_error(const protocol::Error& error, double now_ms);
  void on_peer_event(const std::string& type, const Json& input, double now_ms);

  void set_state(State state);
  void send(const protocol::ClientMessage& message);
  void send_join();
  void schedule_reconnect(double now_ms);
  void fail(ErrorCode code, std::string message);
  void error_event(ErrorCode code, std::string message, bool fatal);
  Peer& add_peer(const protocol::PeerInfo& info);
  void remove_peer(const std::string& id, const std::string& reason);
  void remove_all_peers(const std::string& reason);
  // Sends the held signals for one peer (it is back); drops those for peers that are gone.
  void flush_outbox_to(const std::string& peer_id);
  bool polite_towards(const std::string& other) const { return peer_id_ < other; }

  // Floor control (docs/architecture.md, "Floor control").
  struct FloorRequest {
    double wire_id;             // the `id` on the wire: ours, unique per session
    std::optional<double> id;   // the glue's, echoed in the answer event
    double deadline;
  };
  void on_floor_request(const Json& input, double now_ms);
  void on_floor_release();
  void on_floor_granted(const protocol::FloorGranted& granted);
  void on_floor_denied(const protocol::Error& error);
  // Adopts the server's view of the floor, and tells the app if it changed.
  void set_floor(protocol::FloorState floor);
  // Adopts the room's topology and tells the app (`topology` event).
  void set_topology(protocol::TopologyInfo topology);
  // `holder`: who holds the floor, when the answer says; else as far as we know.
  void floor_denied(const std::optional<double>& id, ErrorCode code, const char* reason,
                    std::string message, std::optional<std::string> holder = std::nullopt);
  // Fails every unanswered request (the socket went, or the room was left).
  void fail_floor_requests(const char* why);
  bool holds_floor() const { return !peer_id_.empty() && floor_.holder == peer_id_; }

  ClientConfig config_;
  Random random_;
  State state_ = State::Idle;
  std::string room_, name_;
  std::optional<std::string> token_;
  protocol::Role role_ = protocol::Role::Talker;
  std::string peer_id_, secret_;
  Json ice_servers_ = Json::array();

  // False between a join with `media: "pending"` and `local-media-ready`: signaling runs
  // meanwhile, but no offer or answer goes out without our tracks.
  bool media_ready_ = true;
  bool socket_open_ = false;
  bool socket_opening_ = false;
  int failed_attempts_ = 0;
  std::optional<double> reconnect_at_;
  // Signaling servers (the join input's `servers`: the app's URL list, sharing rooms over
  // Redis) and the one the next socket opens to; each closed socket moves to the next.
  int servers_ = 1;
  int server_ = 0;
  static constexpr double kNextServerJitterMs = 100;
  double last_rx_ = 0;
  std::optional<double> next_ping_at_;

  protocol::FloorState floor_;
  protocol::TopologyInfo topology_;
  std::optional<topology::RoomPolicy> policy_;  // asked for in join: the room's, if it makes it
  std::deque<FloorRequest> floor_requests_;  // in deadline order
  double next_floor_wire_id_ = 1;
  std::uint32_t granted_epoch_ = 0;  // the grant the app was told of (0: none)

  std::map<std::string, Peer> peers_;
  std::deque<protocol::Signal> outbox_;
  std::deque<Json> out_;
};

}  // namespace chorus
