// Abuse limits of the signaling server (server config `limits`, docs/architecture.md): what one
// connection, one address and the whole server may take. RoomServer applies them; this file
// holds the numbers and the one mechanism they share, a token bucket.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace chorus {

struct AbuseLimits {
  // Messages one connection may send: `message_burst` at once, refilled at
  // `messages_per_second`. Generous for signaling: a join with a few peers sends tens of
  // candidates in a burst, then next to nothing.
  double messages_per_second = 50;
  double message_burst = 200;
  std::size_t max_rooms = 10000;
  std::size_t max_connections_per_address = 200;
  // Origin header values admitted (exact match, e.g. "https://app.example"); empty admits all.
  // A non-empty list also refuses sockets without an Origin (not opened by a web page).
  std::vector<std::string> allowed_origins;
  // Refused messages (malformed, too large, rate-limited, a bad token ...) a connection may
  // send in a row before it is closed with 1008; one is forgiven every `strike_decay_ms`.
  double max_strikes = 20;
  double strike_decay_ms = 5000;

  // Reads `limits: {...}`; missing or out-of-range fields keep their defaults.
  static AbuseLimits from_json(const Json& limits);
  bool origin_allowed(const std::string& origin) const;
};

// A token bucket that starts full. Time only moves forward: an earlier `now_ms` adds nothing.
class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(double capacity, double per_ms, double now_ms)
      : capacity_(capacity), per_ms_(per_ms), tokens_(capacity), last_ms_(now_ms) {}

  // Takes one token if there is one.
  bool take(double now_ms);

 private:
  double capacity_ = 0;
  double per_ms_ = 0;
  double tokens_ = 0;
  double last_ms_ = 0;
};

}  // namespace chorus
