// Receiver side of chunked messages (text/json/binary frames) on one channel: collects the
// chunks of each message id until its announced length is covered, within hard limits, so a
// peer that lies about lengths or opens thousands of messages costs bounded memory.
//
// Chunks may arrive in any order (the unreliable channel is unordered); overlapping or
// duplicate chunks are refused. Memory is charged by announced length when a message starts.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "datachannel/frame.hpp"

namespace chorus::datachannel {

struct ReassemblyLimits {
  std::size_t max_message_bytes = 16 << 20;
  std::size_t max_partial_messages = 64;
  std::size_t max_partial_bytes = 64 << 20;  // announced lengths of unfinished messages
  double partial_timeout_ms = 0;             // 0: unfinished messages never expire
};

class Reassembler {
 public:
  struct Message {
    FrameType type;
    std::string data;
  };
  struct Error {
    ErrorCode code;
    std::string message;
  };
  // Exactly one of the two is set when a chunk completes a message or is refused; neither
  // while a message is still partial (or a chunk of an already refused message is skipped).
  struct Result {
    std::optional<Message> message;
    std::optional<Error> error;
  };

  explicit Reassembler(ReassemblyLimits limits = {}) : limits_(limits) {}

  // `frame` must be a message frame (is_message) that parse_frame() accepted.
  Result add(const Frame& frame, double now_ms);
  // Drops unfinished messages older than the timeout; returns how many.
  std::size_t expire(double now_ms);
  std::optional<double> next_expiry() const;
  // Forgets everything (the channel closed).
  void clear();

  std::size_t partial_messages() const { return partials_.size(); }
  std::size_t partial_bytes() const { return partial_bytes_; }

 private:
  struct Partial {
    FrameType type;
    std::string data;                         // sized to the announced length
    std::map<std::uint32_t, std::uint32_t> ranges;  // offset -> end of each chunk received
    std::uint32_t received = 0;
    double started_ms = 0;
  };

  void refuse(std::uint32_t id);
  bool refused(std::uint32_t id) const;
  void drop(std::map<std::uint32_t, Partial>::iterator it);

  ReassemblyLimits limits_;
  std::map<std::uint32_t, Partial> partials_;
  std::size_t partial_bytes_ = 0;
  // Ids whose message was refused: their remaining chunks are skipped without new errors.
  std::deque<std::uint32_t> refused_;
};

}  // namespace chorus::datachannel
