// embind surface of the browser module, dist/chorus-core.{mjs,wasm} (docs/architecture.md):
// ClientCore and DataCore. Only conversion lives here: JSON text and byte views in and out,
// numbers for times. No decision is taken in this file.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <string>

#include "bindings/config.hpp"
#include "common/json.hpp"
#include "datachannel/data_core.hpp"
#include "datachannel/frame.hpp"
#include "signaling/client_session.hpp"

namespace {

using chorus::Json;
using chorus::bindings::config_from;

class ClientCore {
 public:
  explicit ClientCore(const std::string& config)
      : session_(chorus::ClientConfig::from_json(config_from(config))) {}

  void handle(const std::string& input, double now_ms) { session_.handle_text(input, now_ms); }
  void handleSocketMessage(const std::string& text, double now_ms) {
    session_.handle_socket_message(text, now_ms);
  }
  void handleTimeout(double now_ms) { session_.handle_timeout(now_ms); }
  std::string poll() {
    auto out = session_.poll();
    return out ? chorus::dump_json(*out) : std::string();
  }
  double nextTimeout() const { return session_.next_timeout().value_or(-1); }

 private:
  chorus::ClientSession session_;
};

// The DataChannel protocol of one Room (wasm/datachannel/data_core.hpp). Control inputs are
// JSON text; frames, messages and file slices cross as bytes through inbox() (in) and
// payload() (out): views into wasm memory, valid until the next call into this module.
class DataCore {
 public:
  explicit DataCore(const std::string& config)
      : core_(chorus::datachannel::DataConfig::from_json(config_from(config))) {}

  void handle(const std::string& input, double now_ms) { core_.handle_text(input, now_ms); }
  // Bytes in: the glue copies them into inbox(n) (one memcpy; embind's std::string copies a
  // Uint8Array byte by byte), then calls receive() or fileData() for them.
  emscripten::val inbox(double size) {
    inbox_.resize(static_cast<std::size_t>(size >= 0 && size <= (1 << 30) ? size : 0));
    return emscripten::val(emscripten::typed_memory_view(inbox_.size(),
                                                         reinterpret_cast<std::uint8_t*>(inbox_.data())));
  }
  void receive(const std::string& peer, int channel, double now_ms) {
    core_.receive(peer, channel, inbox_, now_ms);
  }
  void setBufferedAmount(const std::string& peer, int channel, double amount) {
    core_.set_buffered(peer, channel, amount);
  }
  // kind: 1 text, 2 json, 3 binary. Returns "" or {"code","message"} JSON.
  // The message is the inbox's content (UTF-8 for text and json).
  std::string send(const std::string& peer, int kind, bool reliable) {
    if (kind < 1 || kind > 3) return result({chorus::ErrorCode::BadMessage, "unknown kind", 0});
    auto r = core_.send(peer, static_cast<chorus::datachannel::FrameType>(kind), inbox_, reliable);
    return r.error ? result(r) : std::string();
  }
  // What send() would answer for `size` bytes, without queueing: "" or {"code","message"}.
  std::string canSend(const std::string& peer, double size, bool reliable) {
    const auto n = static_cast<std::size_t>(size >= 0 && size < 4294967296.0 ? size : 4294967295.0);
    auto r = core_.check_send(peer, n, reliable);
    return r.error ? result(r) : std::string();
  }
  // Returns {"transfer": id} or {"code","message"} JSON.
  std::string sendFile(const std::string& peer, double size, const std::string& name,
                       const std::string& mime, double now_ms) {
    if (!(size >= 0 && size <= 9007199254740992.0)) {
      return result({chorus::ErrorCode::MessageTooLarge, "bad file size", 0});
    }
    auto r = core_.send_file(peer, static_cast<std::uint64_t>(size), name, mime, now_ms);
    return r.error ? result(r) : chorus::dump_json({{"transfer", r.id}});
  }
  void fileData(const std::string& peer, double transfer, double offset, double now_ms) {
    if (!(transfer >= 0 && transfer < 4294967296.0 && offset >= 0 && offset <= 9007199254740992.0)) return;
    core_.file_data(peer, static_cast<std::uint32_t>(transfer), static_cast<std::uint64_t>(offset),
                    inbox_, now_ms);
  }
  // The inbox holds one Opus packet; returns how many peers it was queued for, or -1 if the
  // core refused it (zero epoch, size).
  int sendVoice(double epoch, double seq, double timestamp, bool last) {
    auto u32 = [](double v) { return v >= 0 && v < 4294967296.0 ? static_cast<std::uint32_t>(v) : 0u; };
    auto r = core_.send_voice(u32(epoch), u32(seq), u32(timestamp), last, inbox_);
    return r.error ? -1 : static_cast<int>(r.id);
  }
  void handleTimeout(double now_ms) { core_.handle_timeout(now_ms); }
  std::string poll(double now_ms) {
    auto out = core_.poll(now_ms);
    if (!out) return {};
    payload_ = std::move(out->bytes);
    return chorus::dump_json(out->info);
  }
  emscripten::val payload() const {
    return emscripten::val(emscripten::typed_memory_view(payload_.size(),
                                                         reinterpret_cast<const std::uint8_t*>(payload_.data())));
  }
  double nextTimeout() const { return core_.next_timeout().value_or(-1); }

 private:
  static std::string result(const chorus::datachannel::SendResult& r) {
    return chorus::dump_json({{"code", chorus::to_string(*r.error)}, {"message", r.message}});
  }
  chorus::datachannel::DataCore core_;
  std::string payload_, inbox_;
};

// One DataChannel frame, given as lowercase hex, for the shared frame vectors.
std::string parseDataFrame(const std::string& hex) {
  std::string bytes;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return chorus::datachannel::frame_to_json(bytes);
}

}  // namespace

EMSCRIPTEN_BINDINGS(chorus_client) {
  emscripten::class_<ClientCore>("ClientCore")
      .constructor<std::string>()
      .function("handle", &ClientCore::handle)
      .function("handleSocketMessage", &ClientCore::handleSocketMessage)
      .function("handleTimeout", &ClientCore::handleTimeout)
      .function("poll", &ClientCore::poll)
      .function("nextTimeout", &ClientCore::nextTimeout);
  emscripten::class_<DataCore>("DataCore")
      .constructor<std::string>()
      .function("handle", &DataCore::handle)
      .function("inbox", &DataCore::inbox)
      .function("receive", &DataCore::receive)
      .function("setBufferedAmount", &DataCore::setBufferedAmount)
      .function("send", &DataCore::send)
      .function("canSend", &DataCore::canSend)
      .function("sendFile", &DataCore::sendFile)
      .function("fileData", &DataCore::fileData)
      .function("sendVoice", &DataCore::sendVoice)
      .function("handleTimeout", &DataCore::handleTimeout)
      .function("poll", &DataCore::poll)
      .function("payload", &DataCore::payload)
      .function("nextTimeout", &DataCore::nextTimeout);
  emscripten::function("parseDataFrame", &parseDataFrame);
}
