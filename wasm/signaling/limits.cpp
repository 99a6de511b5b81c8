#include "signaling/limits.hpp"

#include <algorithm>

namespace chorus {

AbuseLimits AbuseLimits::from_json(const Json& limits) {
  AbuseLimits l;
  auto positive = [&](const char* key, auto& field) { read_positive(limits, key, field); };
  positive("messagesPerSecond", l.messages_per_second);
  positive("messageBurst", l.message_burst);
  positive("maxRooms", l.max_rooms);
  positive("maxConnectionsPerAddress", l.max_connections_per_address);
  positive("maxStrikes", l.max_strikes);
  positive("strikeDecayMs", l.strike_decay_ms);
  if (const Json* origins = find_field(limits, "allowedOrigins"); origins && origins->is_array()) {
    for (const auto& o : *origins) {
      if (o.is_string()) l.allowed_origins.push_back(o.get<std::string>());
    }
  }
  return l;
}

bool AbuseLimits::origin_allowed(const std::string& origin) const {
  return allowed_origins.empty() ||
         std::find(allowed_origins.begin(), allowed_origins.end(), origin) != allowed_origins.end();
}

bool TokenBucket::take(double now_ms) {
  if (now_ms > last_ms_) {
    tokens_ = std::min(capacity_, tokens_ + (now_ms - last_ms_) * per_ms_);
    last_ms_ = now_ms;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace chorus
