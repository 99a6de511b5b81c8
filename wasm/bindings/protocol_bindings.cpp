// The signaling parsers as functions of both wasm modules: what the shared protocol vectors
// (tests/vectors/protocol.json) check from Node.
#include <emscripten/bind.h>

#include <string>

#include "common/json.hpp"
#include "signaling/protocol.hpp"

namespace {

// Parses one frame and returns {"ok": canonical form} or {"error": code}: what the shared
// protocol vectors (tests/vectors/protocol.json) check.
template <typename Parse>
std::string check(const std::string& text, Parse parse) {
  auto parsed = parse(text);
  if (auto* err = std::get_if<chorus::protocol::ProtocolError>(&parsed)) {
    return chorus::dump_json({{"error", chorus::to_string(err->code)}});
  }
  return chorus::dump_json({{"ok", chorus::protocol::to_json(std::get<0>(parsed))}});
}

std::string parseClientMessage(const std::string& text) {
  return check(text, chorus::protocol::parse_client_message);
}
std::string parseServerMessage(const std::string& text) {
  return check(text, chorus::protocol::parse_server_message);
}

}  // namespace

EMSCRIPTEN_BINDINGS(chorus_protocol) {
  emscripten::function("parseClientMessage", &parseClientMessage);
  emscripten::function("parseServerMessage", &parseServerMessage);
}
