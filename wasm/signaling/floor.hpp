// Push-to-talk floor control of one room, pure: who holds the floor, under which grant, until
// when. The room machine (room_server) owns one per room, feeds it requests, releases and the
// time, and tells the room about every change (docs/protocol.md, "Floor control").
//
// Rules: first come, first served, no queue; a dispatcher preempts a talker but not another
// dispatcher; the holder asking again is granted the same epoch (its deadline stays); a grant
// ends at its deadline (max talk time). Every grant takes a new epoch, 1, 2, ... never reused
// in the room's life; once 2^32 - 1 grants are spent, requests are denied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "signaling/protocol.hpp"

namespace chorus {

class Floor {
 public:
  struct Answer {
    bool granted = false;
    bool changed = false;  // the state changed (a new grant): tell the room
    std::uint32_t epoch = 0;
  };

  // `start_epoch` is the last epoch already used (tests start near the top of the range).
  explicit Floor(std::uint32_t start_epoch = 0) { state_.epoch = start_epoch; }

  Answer request(const std::string& peer, protocol::Role role, double now_ms, double max_talk_ms);
  // Ends the holder's grant for `reason` (released, left, dropped). False, and nothing changes,
  // when `peer` does not hold the floor.
  bool release(const std::string& peer, protocol::FloorReason reason);
  // Ends a grant whose deadline has passed (reason timeout). True when it did.
  bool expire(double now_ms);

  const protocol::FloorState& state() const { return state_; }
  bool held() const { return state_.holder.has_value(); }
  // When the current grant ends, if the floor is held.
  std::optional<double> deadline() const {
    return held() ? std::optional<double>(deadline_) : std::nullopt;
  }

 private:
  protocol::FloorState state_;
  protocol::Role holder_role_ = protocol::Role::Talker;
  double deadline_ = 0;
};

}  // namespace chorus
