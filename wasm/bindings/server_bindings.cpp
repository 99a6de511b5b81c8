// embind surface of the signaling server's module, dist/chorus-server.{mjs,wasm}
// (docs/architecture.md, "ServerCore"). Browsers never load it. Conversion only.
#include <emscripten/bind.h>

#include <string>

#include "bindings/config.hpp"
#include "common/json.hpp"
#include "signaling/room_server.hpp"

namespace {

using chorus::Json;
using chorus::bindings::config_from;

class ServerCore {
 public:
  explicit ServerCore(const std::string& config)
      : server_(chorus::ServerConfig::from_json(config_from(config))) {}

  void handleConnect(double conn, double now_ms, const std::string& address,
                     const std::string& origin) {
    server_.handle_connect(id(conn), now_ms, address, origin);
  }
  void setWallClock(double unix_ms) { server_.set_wall_clock(unix_ms); }
  // The host's probe of the configured media server (Janus): reachable or not.
  void setMediaServers(bool reachable, double now_ms) { server_.set_media_servers(reachable, now_ms); }
  // Four uint32 words of fresh OS entropy (the host calls this per connection).
  void addEntropy(double a, double b, double c, double d) {
    auto word = [](double v) { return static_cast<std::uint64_t>(static_cast<std::uint32_t>(v)); };
    server_.add_entropy(word(a) | (word(b) << 32), word(c) | (word(d) << 32));
  }
  void handleMessage(double conn, const std::string& data, bool is_binary, double byte_length,
                     double now_ms) {
    server_.handle_message(id(conn), data, is_binary, static_cast<std::size_t>(byte_length), now_ms);
  }
  void handleClose(double conn, int code, double now_ms) { server_.handle_close(id(conn), code, now_ms); }
  void handleTimeout(double now_ms) { server_.handle_timeout(now_ms); }
  std::string poll() {
    auto out = server_.poll();
    if (!out) return {};
    Json j = {{"action", out->kind == chorus::ServerOutput::Kind::Send ? "send" : "close"},
              {"conn", out->conn}};
    if (out->kind == chorus::ServerOutput::Kind::Send) {
      j["data"] = std::move(out->data);
    } else {
      j["code"] = out->code;
      j["reason"] = out->reason;
    }
    return chorus::dump_json(j);
  }
  double nextTimeout() const { return server_.next_timeout().value_or(-1); }
  // Counters and gauges for /metrics (docs/architecture.md, "ServerCore").
  std::string stats() const {
    const auto& c = server_.counters();
    Json errors = Json::object();
    for (const auto& [code, n] : c.errors) errors[std::string(chorus::to_string(code))] = n;
    return chorus::dump_json({{"connections", server_.connection_count()},
                              {"rooms", server_.room_count()},
                              {"peers", server_.seat_count()},
                              {"messagesIn", c.messages_in},
                              {"messagesOut", c.messages_out},
                              {"bytesIn", c.bytes_in},
                              {"bytesOut", c.bytes_out},
                              {"errors", errors},
                              {"policyCloses", c.policy_closes}});
  }
  // Seats in one room (the Redis adapter releases its claim on a room when it is empty).
  double peerCount(const std::string& room) const { return static_cast<double>(server_.peer_count(room)); }
  double roomCount() const { return static_cast<double>(server_.room_count()); }
  double connectionCount() const { return static_cast<double>(server_.connection_count()); }

 private:
  static chorus::ConnId id(double conn) { return static_cast<chorus::ConnId>(conn); }
  chorus::RoomServer server_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(chorus_server) {
  emscripten::class_<ServerCore>("ServerCore")
      .constructor<std::string>()
      .function("handleConnect", &ServerCore::handleConnect)
      .function("setWallClock", &ServerCore::setWallClock)
      .function("setMediaServers", &ServerCore::setMediaServers)
      .function("stats", &ServerCore::stats)
      .function("peerCount", &ServerCore::peerCount)
      .function("addEntropy", &ServerCore::addEntropy)
      .function("handleMessage", &ServerCore::handleMessage)
      .function("handleClose", &ServerCore::handleClose)
      .function("handleTimeout", &ServerCore::handleTimeout)
      .function("poll", &ServerCore::poll)
      .function("nextTimeout", &ServerCore::nextTimeout)
      .function("roomCount", &ServerCore::roomCount)
      .function("connectionCount", &ServerCore::connectionCount);
}
