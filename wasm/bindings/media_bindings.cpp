// embind surface of the media module, dist/chorus-media.{mjs,wasm}: MediaCore, the ServerMedia
// machine (wasm/topology/server_media.hpp) that talks to Janus, and AbrCore, bitrate and quality
// from getStats() (wasm/abr/abr_core.hpp). Loaded by the glue once a room has media to send or
// a media server; data-only apps never download it. Only conversion lives here.
#include <emscripten/bind.h>

#include <string>

#include "bindings/config.hpp"
#include "common/json.hpp"
#include "abr/abr_core.hpp"
#include "topology/server_media.hpp"

namespace {

using chorus::bindings::config_from;

class MediaCore {
 public:
  explicit MediaCore(const std::string& config)
      : media_(chorus::topology::ServerMediaConfig::from_json(config_from(config))) {}

  void handle(const std::string& input, double now_ms) { media_.handle_text(input, now_ms); }
  void handleSocketMessage(const std::string& text, double now_ms) {
    media_.handle_socket_message(text, now_ms);
  }
  void handleTimeout(double now_ms) { media_.handle_timeout(now_ms); }
  std::string poll() {
    auto out = media_.poll();
    return out ? chorus::dump_json(*out) : std::string();
  }
  double nextTimeout() const { return media_.next_timeout().value_or(-1); }

 private:
  chorus::topology::ServerMedia media_;
};

// Bitrate and quality (wasm/abr/abr_core.hpp): decides from getStats() samples.
class AbrCore {
 public:
  explicit AbrCore(const std::string& config)
      : core_(chorus::abr::AbrConfig::from_json(config_from(config))) {}

  void handle(const std::string& input, double now_ms) { core_.handle_text(input, now_ms); }
  std::string poll() {
    auto out = core_.poll();
    return out ? chorus::dump_json(*out) : std::string();
  }

 private:
  chorus::abr::AbrCore core_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(chorus_media) {
  emscripten::class_<MediaCore>("MediaCore")
      .constructor<const std::string&>()
      .function("handle", &MediaCore::handle)
      .function("handleSocketMessage", &MediaCore::handleSocketMessage)
      .function("handleTimeout", &MediaCore::handleTimeout)
      .function("poll", &MediaCore::poll)
      .function("nextTimeout", &MediaCore::nextTimeout);
  emscripten::class_<AbrCore>("AbrCore")
      .constructor<const std::string&>()
      .function("handle", &AbrCore::handle)
      .function("poll", &AbrCore::poll);
}
