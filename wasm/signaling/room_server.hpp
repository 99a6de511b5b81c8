// The signaling server's room machine, sans-IO: the Node host reports sockets opening,
// frames arriving and sockets closing, and executes what poll() returns (send a frame, close a
// socket). It owns every rule: rooms made on first join and dropped when empty, addressing
// only within a room, size limits, typed errors, heartbeats, resume after a dropped socket,
// each room's push-to-talk floor (signaling/floor.hpp decides; this file tells the room),
// access tokens (signaling/access_token), TURN credentials in the welcome
// (signaling/turn_credentials) and abuse limits (signaling/limits).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/json.hpp"
#include "common/random.hpp"
#include "signaling/floor.hpp"
#include "signaling/limits.hpp"
#include "signaling/protocol.hpp"
#include "signaling/turn_credentials.hpp"
#include "topology/selector.hpp"

namespace chorus {

using ConnId = std::uint32_t;

struct ServerConfig {
  std::size_t max_peers_per_room = 50;
  std::size_t max_message_bytes = 64 * 1024;
  Json ice_servers = Json::array();
  double heartbeat_timeout_ms = 30000;  // a socket silent this long is closed
  double resume_grace_ms = 10000;       // how long an abruptly dropped peer keeps its seat
  double sweep_interval_ms = 1000;      // how often heartbeats and graces are checked
  std::size_t max_pending_per_peer = 256;  // frames kept for an away peer until it resumes
  // Bytes kept for an away peer; a peer that misses more than this cannot catch up and is
  // removed (its peers get peer-left) instead of silently missing frames.
  std::size_t max_pending_bytes_per_peer = 1024 * 1024;
  // How long a removed peer's id is remembered (bounded per room), so that a late resume is
  // refused instead of coming back to peers that already closed their connections to it.
  double tombstone_ms = 10 * 60 * 1000;
  std::size_t max_tombstones_per_room = 256;
  // Push-to-talk (config `floor: {maxTalkMs, dispatchers}`): a grant ends after max_talk_ms;
  // without `dispatchers` a join asking for that role is refused (floor-denied).
  double max_talk_ms = 60000;
  bool dispatchers = true;
  // Access tokens (config `auth: {secret, required}`): with a secret, a token in `join` is
  // checked (signaling/access_token.hpp) and its identity and role are the seat's; with
  // `required`, a join without one is refused. Without a token, the roles that carry power
  // (dispatcher, teacher) are refused whenever a secret is set.
  std::string auth_secret;
  bool auth_required = false;
  // Resume secrets any process can check (config `resumeKey`; derived from `auth.secret` when
  // only that is set): signaling/seat_secret.hpp. Without one, a resume of a seat this process
  // does not know is taken on trust.
  std::string resume_key;
  TurnConfig turn;
  AbuseLimits limits;
  // The media server (config `janus: {url, sfu, mcu}`): with a URL, rooms may use Janus's
  // VideoRoom (sfu) and AudioBridge (mcu-audio) once the host reports it reachable
  // (set_media_servers); without one every room stays p2p / mesh. `topology: {...}` tunes
  // the selector (topology/selector.hpp).
  std::string janus_url;
  bool janus_sfu = true;
  bool janus_mcu = true;
  topology::SelectorConfig topology;
  std::uint64_t seed_lo = 0;
  std::uint64_t seed_hi = 0;

  // Reads the JSON config of docs/architecture.md; unknown or wrongly typed fields keep
  // their defaults.
  static ServerConfig from_json(const Json& config);
};

// Counters for /metrics: totals since start, except the gauges the server computes.
struct ServerCounters {
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::map<ErrorCode, std::uint64_t> errors;  // error answers sent, by code
  std::uint64_t policy_closes = 0;            // sockets closed for abuse (1008, 1013)
};

struct ServerOutput {
  enum class Kind { Send, Close };
  Kind kind = Kind::Send;
  ConnId conn = 0;
  std::string data;  // Send: the text frame
  int code = 1000;   // Close
  std::string reason;
};

class RoomServer {
 public:
  explicit RoomServer(ServerConfig config = {});

  // `address` is the client's IP address and `origin` its Origin header ("" when absent): an
  // origin not on the allow-list, or one connection too many from an address, is answered
  // with an error and closed (1008, 1013).
  void handle_connect(ConnId conn, double now_ms, const std::string& address = "",
                      const std::string& origin = "");
  // The host's wall clock, milliseconds since the Unix epoch, reported before inputs: token
  // expiry and TURN credentials are absolute times. Until it is set, tokens are refused.
  void set_wall_clock(double unix_ms) { unix_ms_ = unix_ms; }
  // Whether the configured media server is reachable now (the host probes it): every room
  // re-decides its topology, and those that change tell their peers.
  void set_media_servers(bool reachable, double now_ms);
  // Fresh host entropy (e.g. 128 bits from the OS per connection) for ids and secrets.
  void add_entropy(std::uint64_t lo, std::uint64_t hi) { random_.mix(lo, hi); }
  // `byte_length` is the frame's size on the wire; frames over the limit are refused before
  // they are parsed.
  void handle_message(ConnId conn, std::string_view data, bool is_binary, std::size_t byte_length,
                      double now_ms);
  // `code` is the WebSocket close code; 1000/1001 mean the peer left on purpose.
  void handle_close(ConnId conn, int code, double now_ms);
  void handle_timeout(double now_ms);

  std::optional<ServerOutput> poll();
  // Absolute time of the next sweep or floor deadline, or nullopt when there is nothing to watch.
  std::optional<double> next_timeout() const;

  // Introspection for tests and metrics.
  std::size_t room_count() const { return rooms_.size(); }
  std::size_t connection_count() const { return conns_.size(); }
  std::size_t peer_count(std::string_view room) const;
  std::size_t seat_count() const;
  const ServerCounters& counters() const { return counters_; }
  // The room's floor; the state of an empty floor for a room that does not exist.
  protocol::FloorState floor_state(std::string_view room) const;
  // The room's topology; that of an empty p2p room for a room that does not exist.
  protocol::TopologyInfo topology(std::string_view room) const;

 private:
  struct Seat {
    std::string name;
    protocol::Role role = protocol::Role::Talker;
    std::optional<std::string> identity;  // from its access token
    std::string secret;
    ConnId conn = 0;  // 0 while away
    double away_deadline = 0;
    std::deque<std::string> pending;  // frames for it while away
    std::size_t pending_bytes = 0;
  };
  struct Room {
    std::map<std::string, Seat> seats;  // by peer id
    std::deque<std::pair<std::string, double>> tombstones;  // (peer id, expiry) of removed seats
    Floor floor;
    topology::TopologySelector selector;
    double media_room = 0;  // its room id on the media server (VideoRoom / AudioBridge)
  };
  struct Conn {
    double last_seen = 0;
    std::string room;
    std::string peer_id;  // empty until joined
    std::string address;
    TokenBucket rate;     // messages it may send
    TokenBucket strikes;  // refused messages it may send before it is closed
    bool told_rate_limited = false;  // one rate-limited answer per episode, not per message
  };
  // The seat a join asks for, once its token (if any) has been checked.
  struct Admission {
    protocol::Role role = protocol::Role::Talker;
    std::optional<std::string> identity;
  };

  void on_join(ConnId conn, Conn& c, protocol::Join join);
  // Checks a new seat's token and role; nullopt when refused (the error is sent).
  std::optional<Admission> admit(ConnId conn, Conn& c, const protocol::Join& join);
  void on_signal(Conn& c, protocol::Signal signal);
  void on_broadcast(Conn& c, protocol::Broadcast broadcast);
  void on_leave(Conn& c);
  void on_floor_request(ConnId conn, Conn& c, const protocol::FloorRequest& request);
  void on_floor_release(Conn& c);
  void on_uplink(Conn& c, const protocol::Uplink& uplink);
  // A room is made by its first join: its policy and its id on the media server.
  Room& make_room(const std::string& room_name, std::optional<topology::RoomPolicy> policy);
  protocol::TopologyInfo topology_of(const Room& room) const;
  // After the room's selector changed its decision: tells the connected seats (but `except`).
  void topology_changed(Room& room, std::string_view except = "");
  // Frees the floor if `peer_id` holds it (it left, or its socket dropped) and tells the room.
  void free_floor(const std::string& room_name, Room& room, const std::string& peer_id,
                  protocol::FloorReason reason);
  // After a change of `room`'s floor: re-indexes its deadline (`before`: the one it had) and
  // sends the new state to every connected seat. Away seats are not sent it: the welcome of
  // their resume carries the state then.
  void floor_changed(const std::string& room_name, Room& room, std::optional<double> before);

  void send(ConnId conn, const protocol::ServerMessage& message);
  void send_error(ConnId conn, ErrorCode code, std::string message, std::string ref = "");
  // Answers a message the connection should not have sent, and counts it against the
  // connection: past `limits.max_strikes` in a row it is closed (1008).
  void refuse(ConnId conn, Conn& c, ErrorCode code, std::string message, std::string ref = "");
  // Closes a connection for abuse and forgets it (its seat goes: it may not resume).
  void close_for_abuse(ConnId conn, int code, std::string reason);
  // Removes a connection (and its count for its address); nullopt when it is not known.
  std::optional<Conn> take_conn(ConnId conn);
  // Sends to a seat, or keeps the frame for it while it is away. Returns false when an away
  // seat is over its hold limit: the caller removes it.
  bool deliver(Seat& seat, std::string frame);
  void broadcast_to_room(Room& room, std::string_view except, const protocol::ServerMessage& m);
  bool is_tombstoned(Room& room, const std::string& peer_id);
  // Removes a seat for good and tells the others.
  void remove_seat(const std::string& room_name, const std::string& peer_id, std::string reason);
  // The connection dropped without leaving: keep the seat for the resume grace period.
  void mark_away(Conn& c, double now_ms);
  std::string new_peer_id(const Room& room);

  ServerConfig config_;
  Random random_;
  std::unordered_map<ConnId, Conn> conns_;
  std::unordered_map<std::string, Room> rooms_;
  std::deque<ServerOutput> out_;
  double next_sweep_ = 0;
  std::set<std::pair<double, std::string>> floor_deadlines_;  // (deadline, room) of held floors
  std::unordered_map<std::string, std::size_t> conns_per_address_;
  ServerCounters counters_;
  bool media_reachable_ = false;
  double now_ = 0;      // the latest time any input carried
  double unix_ms_ = 0;  // the host's wall clock (set_wall_clock); 0 = unknown
};

}  // namespace chorus
