// Topology selection for one room, decided on the signaling server so that every peer agrees
// (docs/protocol.md, "Topology"). Pure and deterministic: inputs are the room's members, what
// they publish and what they report about their uplink, with the time; the output is the
// room's topology and an epoch that orders changes.
//
//   p2p        two peers, one direct connection
//   mesh       every peer connected to every other (N-1 uploads each): fine for 2-4 people
//   sfu        everyone publishes once to Janus VideoRoom and subscribes there
//   mcu-audio  audio only, mixed by Janus AudioBridge (walkie channels)
//
// Rules (defaults in SelectorConfig):
//   - Up at once: a meeting goes to the SFU at `sfu_from` peers (5), a classroom (one teacher to
//     many) at `classroom_sfu_from` (3). A mesh whose video publishers report a limited uplink
//     (quality-limitation "bandwidth" or "cpu", or an uplink below what N-1 streams need) for
//     `limited_hold_ms` goes to the SFU from 3 peers.
//   - Down with hysteresis: back to mesh only at `mesh_back_at` peers (3) or fewer, after that
//     has held for `down_hold_ms`, and not while uplink limits still hold: a room at the
//     threshold does not flap.
//   - No media server configured or reachable: mesh (or p2p). One that goes down while the room
//     uses it: mesh when the room is at most `mesh_fallback_max` (6) peers, else the room keeps
//     its topology and waits for the server to come back (`reason` says so).
//   - walkie rooms are audio only: mcu-audio from `walkie_mcu_from` peers (3) when an MCU is
//     available, else mesh.
// Reports from unknown peers are ignored; a peer's last report counts until it reports again
// or leaves, and reports older than `report_ttl_ms` are ignored.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "topology/topology.hpp"

namespace chorus::topology {


struct SelectorConfig {
  std::size_t sfu_from = 5;
  std::size_t mesh_back_at = 3;
  std::size_t classroom_sfu_from = 3;
  std::size_t walkie_mcu_from = 3;
  std::size_t limited_sfu_from = 3;
  std::size_t mesh_fallback_max = 6;
  double down_hold_ms = 10000;
  double limited_hold_ms = 5000;
  double report_ttl_ms = 15000;
  // A video stream's share of an uplink below which a mesh counts as limited (kbit/s).
  double min_stream_kbps = 250;
};

// What a peer's stats say about its uplink (the glue samples getStats; docs/protocol.md).
struct UplinkReport {
  bool publishes_video = false;
  double available_kbps = 0;  // availableOutgoingBitrate; 0 = unknown
  bool limited = false;       // qualityLimitationReason bandwidth or cpu on a video sender
};

struct Decision {
  Topology topology = Topology::P2P;
  std::uint32_t epoch = 0;
  std::string reason;
  bool operator==(const Decision& o) const { return topology == o.topology && epoch == o.epoch; }
};

class TopologySelector {
 public:
  explicit TopologySelector(RoomPolicy policy = RoomPolicy::Meeting, SelectorConfig config = {});

  // Each input re-evaluates and returns true when the decision changed.
  // Media servers the room may use now (configured and reachable).
  bool set_available(bool sfu, bool mcu, double now_ms);
  bool peer_joined(const std::string& peer, double now_ms);
  bool peer_left(const std::string& peer, double now_ms);
  bool report(const std::string& peer, const UplinkReport& report, double now_ms);
  // Re-evaluates with the time (hold periods end); returns true when the decision changed.
  bool evaluate(double now_ms);

  const Decision& decision() const { return decision_; }
  // When evaluate() should run again for a hold period to end, if one is running.
  std::optional<double> next_deadline() const;
  std::size_t peers() const { return peers_.size(); }

 private:
  struct Peer {
    std::optional<UplinkReport> report;
    double reported_at = 0;
  };
  Topology wanted(double now_ms);
  bool uplink_limited(double now_ms) const;

  RoomPolicy policy_;
  SelectorConfig config_;
  bool sfu_ = false;
  bool mcu_ = false;
  std::map<std::string, Peer> peers_;
  Decision decision_;
  std::optional<double> down_since_;     // since when the room qualifies for going down
  std::optional<double> limited_since_;  // since when the mesh's uplinks are limited
  std::string pending_reason_;
  double last_evaluated_ms_ = 0;
};

}  // namespace chorus::topology
