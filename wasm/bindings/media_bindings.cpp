// embind surface of the media-server module, dist/chorus-media.{mjs,wasm}: MediaCore, the
// ServerMedia machine (wasm/topology/server_media.hpp) that talks to Janus. Loaded by the glue
// only when a room first leaves the mesh. Only conversion lives here.
#include <emscripten/bind.h>

#include <string>

#include "bindings/config.hpp"
#include "common/json.hpp"
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

}  // namespace

EMSCRIPTEN_BINDINGS(chorus_media) {
  emscripten::class_<MediaCore>("MediaCore")
      .constructor<const std::string&>()
      .function("handle", &MediaCore::handle)
      .function("handleSocketMessage", &MediaCore::handleSocketMessage)
      .function("handleTimeout", &MediaCore::handleTimeout)
      .function("poll", &MediaCore::poll)
      .function("nextTimeout", &MediaCore::nextTimeout);
}
