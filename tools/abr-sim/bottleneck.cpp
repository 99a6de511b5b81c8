#include "bottleneck.hpp"

#include <algorithm>

namespace abrsim {

double Bottleneck::limit_bytes(double capacity_bps) const {
  return std::max(kMinQueueBytes, capacity_bps / 8 * kQueueSeconds);
}

bool Bottleneck::enqueue(const Packet& packet, double capacity_bps) {
  if (queued_bytes_ + packet.bytes > limit_bytes(capacity_bps)) return false;
  queue_.push_back(packet);
  queued_bytes_ += packet.bytes;
  return true;
}

void Bottleneck::serve(double now_s, double dt_s, double capacity_bps, double loss,
                       const std::function<void(const Packet&, double, bool)>& done) {
  if (capacity_bps <= 0) return;
  double budget_bits = capacity_bps * dt_s;
  double used_bits = 0;
  while (!queue_.empty()) {
    const Packet head = queue_.front();
    double need = head.bytes * 8.0 - head_served_bits_;
    if (used_bits + need > budget_bits) {
      head_served_bits_ += budget_bits - used_bits;
      return;
    }
    used_bits += need;
    head_served_bits_ = 0;
    queue_.pop_front();
    queued_bytes_ -= head.bytes;
    bool lost = loss > 0 && rng_.uniform() < loss;
    done(head, now_s + used_bits / capacity_bps, lost);
  }
}

}  // namespace abrsim
