#include "topology/selector.hpp"

#include <algorithm>

namespace chorus::topology {

TopologySelector::TopologySelector(RoomPolicy policy, SelectorConfig config)
    : policy_(policy), config_(config) {}

bool TopologySelector::set_available(bool sfu, bool mcu, double now_ms) {
  sfu_ = sfu;
  mcu_ = mcu;
  return evaluate(now_ms);
}

bool TopologySelector::peer_joined(const std::string& peer, double now_ms) {
  peers_.try_emplace(peer);
  return evaluate(now_ms);
}

bool TopologySelector::peer_left(const std::string& peer, double now_ms) {
  peers_.erase(peer);
  return evaluate(now_ms);
}

bool TopologySelector::report(const std::string& peer, const UplinkReport& report, double now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;  // not (or no longer) a member: its word does not count
  it->second.report = report;
  it->second.reported_at = now_ms;
  return evaluate(now_ms);
}

bool TopologySelector::uplink_limited(double now_ms) const {
  const std::size_t n = peers_.size();
  if (n < 2) return false;
  for (const auto& [id, p] : peers_) {
    if (!p.report || now_ms - p.reported_at > config_.report_ttl_ms) continue;
    const UplinkReport& r = *p.report;
    if (!r.publishes_video) continue;
    if (r.limited) return true;
    // A mesh asks every publisher for n-1 streams out of one uplink.
    if (r.available_kbps > 0 && r.available_kbps / static_cast<double>(n - 1) < config_.min_stream_kbps) {
      return true;
    }
  }
  return false;
}

Topology TopologySelector::wanted(double now_ms) {
  const std::size_t n = peers_.size();
  const bool walkie = policy_ == RoomPolicy::Walkie;
  const Topology server = walkie ? Topology::McuAudio : Topology::Sfu;
  const bool available = walkie ? mcu_ : sfu_;
  const std::size_t up_at = policy_ == RoomPolicy::Meeting   ? config_.sfu_from
                            : policy_ == RoomPolicy::Classroom ? config_.classroom_sfu_from
                                                               : config_.walkie_mcu_from;
  const std::size_t down_at = policy_ == RoomPolicy::Meeting ? config_.mesh_back_at : up_at - 1;
  const Topology small = n <= 2 ? Topology::P2P : Topology::Mesh;
  const bool on_server = decision_.topology == server;

  const bool limited_now = !walkie && uplink_limited(now_ms);
  if (limited_now) limited_since_ = limited_since_.value_or(now_ms);
  else limited_since_.reset();
  const bool limited = limited_now && n >= config_.limited_sfu_from &&
                       now_ms - *limited_since_ >= config_.limited_hold_ms;

  if (!on_server || !available || n >= up_at || limited) down_since_.reset();
  if (!available) {
    if (on_server && n > config_.mesh_fallback_max) {
      pending_reason_ = "media server unavailable; the room is too large for a mesh and waits for it";
      return server;
    }
    pending_reason_ = on_server ? "media server unavailable: back to a mesh" : "no media server";
    return small;
  }
  if (n >= up_at) {
    pending_reason_ = std::to_string(n) + " peers";
    return server;
  }
  if (limited) {
    pending_reason_ = "uplinks too small for a mesh of " + std::to_string(n);
    return server;
  }
  if (on_server) {
    // Hysteresis: down only at `down_at` peers with healthy uplinks, held for down_hold_ms.
    if (n > down_at || limited_now) {
      down_since_.reset();
      return server;
    }
    down_since_ = down_since_.value_or(now_ms);
    if (now_ms - *down_since_ < config_.down_hold_ms) return server;
    down_since_.reset();
    pending_reason_ = std::to_string(n) + " peers for " +
                      std::to_string(static_cast<long>(config_.down_hold_ms)) + " ms";
    return small;
  }
  pending_reason_ = std::to_string(n) + " peers";
  return small;
}

bool TopologySelector::evaluate(double now_ms) {
  last_evaluated_ms_ = now_ms;
  const Topology next = wanted(now_ms);
  if (next == decision_.topology) return false;
  decision_.topology = next;
  ++decision_.epoch;
  decision_.reason = pending_reason_;
  return true;
}

std::optional<double> TopologySelector::next_deadline() const {
  // Only deadlines still ahead: one that passed without a change (a limited uplink in a room
  // too small for the SFU) must not wake the host again and again.
  std::optional<double> at;
  auto consider = [&](std::optional<double> since, double hold) {
    if (!since || *since + hold <= last_evaluated_ms_) return;
    if (!at || *since + hold < *at) at = *since + hold;
  };
  consider(down_since_, config_.down_hold_ms);
  consider(limited_since_, config_.limited_hold_ms);
  return at;
}

}  // namespace chorus::topology
