#include "datachannel/reassembler.hpp"

#include <algorithm>
#include <cstring>

namespace chorus::datachannel {

namespace {
constexpr std::size_t kRememberRefused = 256;
}

Reassembler::Result Reassembler::add(const Frame& f, double now_ms) {
  Result r;
  const std::uint32_t total = f.total(), offset = f.offset();
  const auto size = static_cast<std::uint32_t>(f.payload.size());

  auto it = partials_.find(f.id);
  if (it == partials_.end()) {
    if (refused(f.id)) return r;
    if (total > limits_.max_message_bytes) {
      refuse(f.id);
      r.error = Error{ErrorCode::MessageTooLarge,
                      "message of " + std::to_string(total) + " bytes is over the limit of " +
                          std::to_string(limits_.max_message_bytes)};
      return r;
    }
    if (offset == 0 && size == total) {  // the common case: one chunk, nothing kept
      r.message = Message{f.type, std::string(f.payload)};
      return r;
    }
    if (partials_.size() >= limits_.max_partial_messages ||
        partial_bytes_ + total > limits_.max_partial_bytes) {
      refuse(f.id);
      r.error = Error{ErrorCode::ReassemblyLimit,
                      "too many unfinished messages from this peer (" +
                          std::to_string(partials_.size()) + ", " + std::to_string(partial_bytes_) +
                          " bytes); message dropped"};
      return r;
    }
    Partial p{f.type, std::string(total, '\0'), {}, 0, now_ms};
    it = partials_.emplace(f.id, std::move(p)).first;
    partial_bytes_ += total;
  }

  Partial& p = it->second;
  if (p.type != f.type || p.data.size() != total) {
    drop(it);
    refuse(f.id);
    r.error = Error{ErrorCode::BadFrame, "chunk disagrees with its message's type or length; message dropped"};
    return r;
  }
  // Overlap check against the neighbours in offset order.
  auto next = p.ranges.lower_bound(offset);
  const bool overlaps_next = next != p.ranges.end() && next->first < offset + size;
  const bool overlaps_prev = next != p.ranges.begin() && std::prev(next)->second > offset;
  if (overlaps_next || overlaps_prev) {
    drop(it);
    refuse(f.id);
    r.error = Error{ErrorCode::BadFrame, "overlapping or repeated chunk; message dropped"};
    return r;
  }
  p.ranges.emplace(offset, offset + size);
  std::memcpy(p.data.data() + offset, f.payload.data(), size);
  p.received += size;
  if (p.received == total) {
    // drop() releases data.size() bytes: account for them before the data moves out.
    partial_bytes_ -= total;
    r.message = Message{p.type, std::move(p.data)};
    partials_.erase(it);
  }
  return r;
}

std::size_t Reassembler::expire(double now_ms) {
  if (limits_.partial_timeout_ms <= 0) return 0;
  std::size_t n = 0;
  for (auto it = partials_.begin(); it != partials_.end();) {
    auto cur = it++;
    if (now_ms - cur->second.started_ms >= limits_.partial_timeout_ms) {
      drop(cur);
      ++n;
    }
  }
  return n;
}

std::optional<double> Reassembler::next_expiry() const {
  if (limits_.partial_timeout_ms <= 0 || partials_.empty()) return std::nullopt;
  double first = partials_.begin()->second.started_ms;
  for (const auto& [id, p] : partials_) first = std::min(first, p.started_ms);
  return first + limits_.partial_timeout_ms;
}

void Reassembler::clear() {
  partials_.clear();
  partial_bytes_ = 0;
  refused_.clear();
}

void Reassembler::refuse(std::uint32_t id) {
  refused_.push_back(id);
  if (refused_.size() > kRememberRefused) refused_.pop_front();
}

bool Reassembler::refused(std::uint32_t id) const {
  return std::find(refused_.begin(), refused_.end(), id) != refused_.end();
}

void Reassembler::drop(std::map<std::uint32_t, Partial>::iterator it) {
  partial_bytes_ -= it->second.data.size();
  partials_.erase(it);
}

}  // namespace chorus::datachannel
