#include "signaling/floor.hpp"

#include <limits>

namespace chorus {

using protocol::FloorReason;
using protocol::Role;

Floor::Answer Floor::request(const std::string& peer, Role role, double now_ms, double max_talk_ms) {
  if (state_.holder == peer) return {true, false, state_.epoch};  // idempotent, same deadline
  const bool preempts = role == Role::Dispatcher && holder_role_ != Role::Dispatcher;
  if (held() && !preempts) return {false, false, state_.epoch};
  // The voice path drops frames of any other epoch: one must never come back.
  if (state_.epoch == std::numeric_limits<std::uint32_t>::max()) return {false, false, state_.epoch};
  state_.reason = held() ? FloorReason::Preempted : FloorReason::Granted;
  state_.holder = peer;
  ++state_.epoch;
  holder_role_ = role;
  deadline_ = now_ms + max_talk_ms;
  return {true, true, state_.epoch};
}

bool Floor::release(const std::string& peer, FloorReason reason) {
  if (state_.holder != peer) return false;
  state_.holder.reset();
  state_.reason = reason;
  return true;
}

bool Floor::expire(double now_ms) {
  if (!held() || now_ms < deadline_) return false;
  state_.holder.reset();
  state_.reason = FloorReason::Timeout;
  return true;
}

}  // namespace chorus
