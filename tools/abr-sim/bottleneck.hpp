// The bottleneck: a drop-tail FIFO in front of a link whose rate follows the trace.
//
// Queue limit: 200 ms worth of bytes at the current capacity, never below 15,000 bytes
// (ten full-size packets), like a bfifo sized from the rate. A packet that would make the queue
// exceed the limit is dropped at the tail. The link serves bytes at the capacity of the moment,
// continuously within each simulation step (a packet's departure time is exact to the bit, not
// rounded to the step). Random loss (lossy traces) hits a packet after it crossed the link: it
// used capacity and is then lost, as on a noisy radio link. Propagation: half the base RTT each
// way, added by the caller.
#pragma once

#include <deque>
#include <functional>

#include "packet.hpp"
#include "rng.hpp"

namespace abrsim {

class Bottleneck {
 public:
  static constexpr double kQueueSeconds = 0.200;
  static constexpr double kMinQueueBytes = 15000;

  explicit Bottleneck(std::uint64_t seed) : rng_(seed) {}

  // A packet arrives at the queue at `now_s`; false if it was dropped at the tail.
  bool enqueue(const Packet& packet, double capacity_bps);
  // Serves the link from `now_s` for `dt_s` at `capacity_bps`; `loss` is the random loss
  // probability. Calls `done(packet, departure_s, lost)` for every packet that left the queue.
  void serve(double now_s, double dt_s, double capacity_bps, double loss,
             const std::function<void(const Packet&, double, bool)>& done);

  double queued_bytes() const { return queued_bytes_; }
  double limit_bytes(double capacity_bps) const;

 private:
  std::deque<Packet> queue_;
  double queued_bytes_ = 0;
  double head_served_bits_ = 0;  // bits of the head packet already on the wire
  Rng rng_;
};

}  // namespace abrsim
