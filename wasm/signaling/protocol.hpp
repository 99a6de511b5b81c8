// Signaling protocol v1 (docs/protocol.md): typed messages, their parser and serializer.
// Parsing never throws: a bad frame yields a ProtocolError with a code from the enumerated
// list. Unknown fields are ignored, so serialize(parse(x)) is x's canonical form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error_code.hpp"
#include "common/json.hpp"
#include "topology/topology.hpp"

namespace chorus::protocol {

inline constexpr int kVersion = 1;

struct ProtocolError {
  ErrorCode code;
  std::string message;
  std::string ref;  // the offending message's `type`, when known
};

// A peer's role. In push-to-talk floor control a dispatcher's floor request preempts a
// talker's (docs/protocol.md, "Floor control"); teacher and student are the classroom's. With
// access tokens, dispatcher and teacher come only from a token that grants them.
enum class Role { Talker, Dispatcher, Teacher, Student };
std::string_view to_string(Role role);
std::optional<Role> role_from_string(std::string_view name);

struct PeerInfo {
  std::string id;
  std::string name;
  Role role = Role::Talker;
  std::optional<std::string> identity;  // verified by the server's access token check
};

// Why the floor changed hands (the `reason` of a `floor` message).
enum class FloorReason { Granted, Released, Timeout, Preempted, Left, Dropped };
std::string_view to_string(FloorReason reason);
std::optional<FloorReason> floor_reason_from_string(std::string_view name);

// A room's floor: who talks, under which grant. `epoch` counts the room's grants (0 before the
// first); voice frames carry the epoch of their grant. `reason` is that of the latest change,
// absent while there has been none.
struct FloorState {
  std::optional<std::string> holder;
  std::uint32_t epoch = 0;
  std::optional<FloorReason> reason;

  bool operator==(const FloorState& o) const {
    return holder == o.holder && epoch == o.epoch && reason == o.reason;
  }
  bool operator!=(const FloorState& o) const { return !(*this == o); }
};

// RTCIceCandidateInit, as sent in `signal` kind `candidate`.
struct IceCandidate {
  std::string candidate;
  std::optional<std::string> sdp_mid;
  std::optional<int> sdp_mline_index;
  std::optional<std::string> username_fragment;
};

// MediaPath: where the sender takes the addressee's media from during a topology change
// (docs/protocol.md, "Topology"): `path` mesh|server and whether it uses it yet.
// Layers: which of the addressee's simulcast layers the sender watches on the SFU (h|m|l), so a
// publisher stops sending layers nobody watches (docs/protocol.md, "Topology").
enum class SignalKind { Offer, Answer, Candidate, EndOfCandidates, MediaPath, Layers };
std::string_view to_string(SignalKind kind);

// A relayed signal. `peer` is the addressee (`to`) client->server and the sender (`from`)
// server->client.
struct Signal {
  std::string peer;
  SignalKind kind = SignalKind::Offer;
  std::string sdp;            // offer, answer
  IceCandidate candidate;     // candidate
  bool path_server = false;   // media-path: path is "server" (else "mesh")
  bool path_using = false;    // media-path: `using`
  std::string layer;          // layers: h, m or l
};

struct Resume {
  std::string peer_id;
  std::string secret;
};

// The room's topology (docs/protocol.md, "Topology"): decided by the server, ordered by epoch.
// `server` names the Janus instance and the room id there (VideoRoom for sfu, AudioBridge for
// mcu-audio); absent for p2p and mesh.
struct MediaServer {
  std::string url;
  double room = 0;  // a Janus room id: an integer below 2^53
  bool operator==(const MediaServer& o) const { return url == o.url && room == o.room; }
};
struct TopologyInfo {
  topology::Topology mode = topology::Topology::P2P;
  std::uint32_t epoch = 0;
  std::string reason;
  std::optional<MediaServer> server;
  bool operator==(const TopologyInfo& o) const {
    return mode == o.mode && epoch == o.epoch && reason == o.reason && server == o.server;
  }
};

// ---- client -> server -------------------------------------------------------------------
struct Join {
  int version = kVersion;
  std::string room;
  std::string name;
  std::optional<std::string> token;
  std::optional<Resume> resume;
  Role role = Role::Talker;  // omitted on the wire when talker
  // The room's policy, taken from its first joiner (docs/protocol.md, "Topology").
  std::optional<topology::RoomPolicy> policy;
};
struct Broadcast {
  std::string from;  // empty client->server
  Json data;
};
struct Ping {
  std::optional<double> id;
};
struct Leave {};
// Asks for the floor; `id` comes back in the answer (`floor-granted` or `error`).
struct FloorRequest {
  std::optional<double> id;
};
struct FloorRelease {};
// What the sender's stats say of its uplink, for the topology decision (every few seconds).
struct Uplink {
  bool video = false;          // it publishes video
  double available_kbps = 0;   // availableOutgoingBitrate; 0 = unknown
  bool limited = false;        // a video sender's qualityLimitationReason is bandwidth or cpu
};

using ClientMessage =
    std::variant<Join, Signal, Broadcast, Ping, Leave, FloorRequest, FloorRelease, Uplink>;

// ---- server -> client -------------------------------------------------------------------
struct Welcome {
  int version = kVersion;
  std::string room;
  std::string peer_id;
  std::string secret;
  bool resumed = false;
  std::vector<PeerInfo> peers;
  Json ice_servers = Json::array();
  FloorState floor;  // the room's floor now, so a late joiner knows who talks
  Role role = Role::Talker;              // the seat's role (from the token, if it had one)
  std::optional<std::string> identity;   // from the access token
  std::optional<TopologyInfo> topology;  // the room's topology now (absent from old servers)
};
struct PeerJoined {
  PeerInfo peer;
};
struct PeerLeft {
  std::string peer_id;
  std::string reason;  // left | timeout | replaced
};
struct Pong {
  std::optional<double> id;
};
struct Error {
  ErrorCode code;
  std::string message;
  std::string ref;
  std::optional<double> id;            // the `id` of the request it answers, if it had one
  std::optional<std::string> holder;   // floor-denied: who holds the floor
};
// The answer to the holder's `floor-request`.
struct FloorGranted {
  std::optional<double> id;
  std::uint32_t epoch = 0;
  double max_talk_ms = 0;
};
// Sent to every peer of the room on every change of the floor.
struct FloorUpdate {
  FloorState floor;
};
// Sent to every peer of the room on every change of its topology.
struct TopologyUpdate {
  TopologyInfo topology;
};

using ServerMessage = std::variant<Welcome, PeerJoined, PeerLeft, Signal, Broadcast, Pong, Error,
                                   FloorGranted, FloorUpdate, TopologyUpdate>;

template <typename T>
using Parsed = std::variant<T, ProtocolError>;

Parsed<ClientMessage> parse_client_message(std::string_view text);
Parsed<ServerMessage> parse_server_message(std::string_view text);

std::string serialize(const ClientMessage& message);
std::string serialize(const ServerMessage& message);
Json to_json(const ClientMessage& message);
Json to_json(const ServerMessage& message);

// Field rules shared by parser and server (docs/protocol.md, "Identifiers").
bool is_valid_peer_id(std::string_view id);
bool is_valid_secret(std::string_view secret);
bool is_valid_room(std::string_view room);
bool is_valid_name(std::string_view name);

// Shared by the parser and the client core: `role` of a join or peer object (absent or null is
// a talker; false for anything else that is not a role), a peer as JSON, and the floor
// state's fields (holder, epoch, reason) added to `out`.
bool optional_role(const Json& obj, Role& out);
Json to_json(const PeerInfo& peer);
Json floor_fields(Json out, const FloorState& floor);
// The topology object's fields added to `out`, and its parser (a `topology` message or the
// welcome's `topology` object).
Json topology_fields(Json out, const TopologyInfo& topology);
Parsed<TopologyInfo> parse_topology(const Json& obj, const char* ref);

}  // namespace chorus::protocol
