// State of one file transfer on each side, and the progress meter both sides share.
// DataLink drives them; they hold no policy of their own beyond their invariants.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "common/sha256.hpp"

namespace chorus::datachannel {

// Bytes/s over a sliding window of recent samples, and how often to report.
class Progress {
 public:
  Progress(std::uint64_t total, double interval_ms) : total_(total), interval_ms_(interval_ms) {}
  // Records `bytes` done at `now`; true when a progress event is due (interval elapsed).
  bool update(std::uint64_t bytes, double now_ms);
  double rate() const { return rate_; }                 // bytes per second, 0 until known
  std::optional<double> eta_seconds() const;            // nullopt while the rate is unknown
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t total() const { return total_; }

 private:
  struct Sample { double t; std::uint64_t bytes; };
  std::uint64_t total_, bytes_ = 0;
  double interval_ms_;
  std::optional<double> last_report_;
  std::deque<Sample> samples_;
  double rate_ = 0;
};

struct OutgoingTransfer {
  std::uint32_t id;
  int channel;                      // where its file frames go: kBulk, or kReliable without it
  std::uint64_t size;
  std::string name, mime;
  Sha256 sha;
  std::deque<std::string> pending;  // read from the file, not yet sent (in file order)
  std::size_t pending_front = 0;    // bytes of pending.front() already sent
  std::uint64_t read_to = 0;        // bytes the glue has delivered
  std::optional<std::uint64_t> reading;  // length of the read in flight
  std::uint64_t sent = 0;
  std::uint64_t window = 0;         // highest offset the receiver accepts (0 until it says)
  bool begun = false, ended = false;
  std::optional<Sha256::Digest> digest;  // known once every byte has been read
  Progress progress;
};

struct IncomingTransfer {
  std::uint32_t id;
  int channel;                      // its file frames must all come on the channel of its begin
  std::uint64_t size;
  std::string name, mime;
  Sha256 sha;
  std::uint64_t received = 0, written = 0, granted = 0;
  Progress progress;
};

}  // namespace chorus::datachannel
