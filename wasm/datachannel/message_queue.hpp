// Sender side of app messages (text/json/binary) on one channel: a bounded queue that cuts
// each message into chunks and interleaves the messages in progress, one chunk each in turn,
// so a 16 MiB message never holds back a chat line queued after it.
//
// A message that needs several chunks occupies reassembly memory at the receiver until it is
// complete, so at most `max_active` of them are in progress at a time, with announced lengths
// within `max_active_bytes` (the receiver's limits, ReassemblyLimits). Single-chunk messages
// always go straight through.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "datachannel/frame.hpp"

namespace chorus::datachannel {

struct MessageQueueLimits {
  std::size_t max_message_bytes = 16 << 20;
  std::size_t max_queued_messages = 4096;
  std::size_t max_queued_bytes = 32 << 20;
  std::size_t max_active = 16;
  std::size_t max_active_bytes = 64 << 20;
};

class MessageQueue {
 public:
  explicit MessageQueue(MessageQueueLimits limits = {}) : limits_(limits) {}

  // Queues a message; the error code says why not (message-too-large, send-queue-full).
  std::optional<ErrorCode> push(FrameType type, std::uint32_t id, std::string data);
  // What push() would answer for a message of `size` bytes, without queueing it.
  std::optional<ErrorCode> check(std::size_t size) const;

  bool empty() const { return waiting_.empty() && active_.empty(); }
  // Appends the next frame (header + at most `max_payload` bytes) to `out`; false if nothing
  // is ready.
  bool next_frame(std::size_t max_payload, std::string& out);
  // The channel closed: messages cut short start again from their first byte on the next
  // channel (the receiver dropped their chunks with the old one).
  void restart();
  void clear();

  std::size_t queued_messages() const { return waiting_.size() + active_.size(); }
  std::size_t queued_bytes() const { return queued_bytes_; }

 private:
  struct Outgoing {
    FrameType type;
    std::uint32_t id;
    std::string data;
    std::size_t sent = 0;
  };

  bool admit(const Outgoing& m, std::size_t max_payload) const;

  MessageQueueLimits limits_;
  std::deque<Outgoing> waiting_;  // FIFO, not started
  std::deque<Outgoing> active_;   // started, round robin: the front sends next
  std::size_t queued_bytes_ = 0;
  std::size_t active_bytes_ = 0;
};

}  // namespace chorus::datachannel
