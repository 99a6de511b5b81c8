#include "datachannel/message_queue.hpp"

#include <algorithm>

namespace chorus::datachannel {

std::optional<ErrorCode> MessageQueue::check(std::size_t size) const {
  if (size > limits_.max_message_bytes) return ErrorCode::MessageTooLarge;
  if (waiting_.size() + active_.size() >= limits_.max_queued_messages ||
      queued_bytes_ + size > limits_.max_queued_bytes) {
    return ErrorCode::SendQueueFull;
  }
  return std::nullopt;
}

std::optional<ErrorCode> MessageQueue::push(FrameType type, std::uint32_t id, std::string data) {
  if (auto err = check(data.size())) return err;
  queued_bytes_ += data.size();
  waiting_.push_back(Outgoing{type, id, std::move(data)});
  return std::nullopt;
}

bool MessageQueue::admit(const Outgoing& m, std::size_t max_payload) const {
  if (m.data.size() <= max_payload) return true;  // one chunk: no reassembly at the receiver
  return active_.size() < limits_.max_active &&
         active_bytes_ + m.data.size() <= limits_.max_active_bytes;
}

bool MessageQueue::next_frame(std::size_t max_payload, std::string& out) {
  // Waiting messages join the rotation in order, as far as the receiver's limits allow; the
  // first one that does not fit waits (FIFO), later single-chunk ones may pass it.
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (!admit(*it, max_payload)) {
      ++it;
      continue;
    }
    if (it->data.size() > max_payload) active_bytes_ += it->data.size();
    // A single-chunk message goes next; a long one joins the back of the rotation.
    if (it->data.size() <= max_payload) active_.push_front(std::move(*it));
    else active_.push_back(std::move(*it));
    it = waiting_.erase(it);
    break;
  }
  if (active_.empty()) return false;

  Outgoing m = std::move(active_.front());
  active_.pop_front();
  const std::size_t n = std::min(max_payload, m.data.size() - m.sent);
  Frame f;
  f.type = m.type;
  f.id = m.id;
  f.word = message_word(static_cast<std::uint32_t>(m.sent), static_cast<std::uint32_t>(m.data.size()));
  append_header(out, f);
  out.append(m.data, m.sent, n);
  m.sent += n;
  if (m.sent < m.data.size()) {
    active_.push_back(std::move(m));
  } else {
    queued_bytes_ -= m.data.size();
    if (m.data.size() > max_payload) active_bytes_ -= m.data.size();
  }
  return true;
}

void MessageQueue::restart() {
  for (auto it = active_.rbegin(); it != active_.rend(); ++it) {
    it->sent = 0;
    waiting_.push_front(std::move(*it));
  }
  active_.clear();
  active_bytes_ = 0;
}

void MessageQueue::clear() {
  waiting_.clear();
  active_.clear();
  queued_bytes_ = 0;
  active_bytes_ = 0;
}

}  // namespace chorus::datachannel
