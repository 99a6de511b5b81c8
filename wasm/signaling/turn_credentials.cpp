#include "signaling/turn_credentials.hpp"

#include <cmath>

#include "common/base64.hpp"
#include "common/hmac.hpp"

namespace chorus {

TurnConfig TurnConfig::from_json(const Json& turn) {
  TurnConfig c;
  if (const Json* urls = find_field(turn, "urls"); urls != nullptr) {
    if (urls->is_string()) c.urls.push_back(urls->get<std::string>());
    if (urls->is_array()) {
      for (const auto& u : *urls) {
        if (u.is_string()) c.urls.push_back(u.get<std::string>());
      }
    }
  }
  if (auto secret = get_string(turn, "secret")) c.secret = *secret;
  read_positive(turn, "ttlSeconds", c.ttl_s);
  return c;
}

Json turn_ice_server(const TurnConfig& config, std::string_view user, double unix_ms) {
  const auto expiry = static_cast<long long>(std::floor(unix_ms / 1000.0 + config.ttl_s));
  std::string username = std::to_string(expiry) + ":" + std::string(user);
  const std::string credential = base64_encode(digest_bytes(hmac_sha1(config.secret, username)));
  return {{"urls", config.urls}, {"username", std::move(username)}, {"credential", credential}};
}

}  // namespace chorus
