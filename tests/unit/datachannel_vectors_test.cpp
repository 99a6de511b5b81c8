// DataChannel frames against the shared vectors (tests/vectors/datachannel.json), which the
// Node tests also run through the wasm module: one format, written down once, checked twice.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "common/json.hpp"
#include "datachannel/frame.hpp"

using chorus::Json;

namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace

TEST_CASE("DataChannel frames match the shared vectors", "[datachannel][vectors]") {
  std::ifstream in(std::string(CHORUS_VECTORS_DIR) + "/datachannel.json");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const Json vectors = Json::parse(buffer.str(), nullptr, false);
  REQUIRE_FALSE(vectors.is_discarded());
  REQUIRE(vectors["frames"].size() > 30);
  for (const auto& v : vectors["frames"]) {
    INFO(v["name"].get<std::string>());
    const Json got = Json::parse(chorus::datachannel::frame_to_json(from_hex(v["input"].get<std::string>())));
    CHECK(got == v["expect"]);
  }
}

TEST_CASE("encoded headers parse back to the same fields", "[datachannel][vectors]") {
  using namespace chorus::datachannel;
  Frame f;
  f.type = FrameType::Control;
  f.control = ControlKind::Window;
  f.flags = kReply;
  f.id = 0x01020304;
  f.word = 0x0000001122334455ULL;
  std::string bytes;
  append_header(bytes, f);
  REQUIRE(bytes.size() == kHeaderSize);
  const Json got = Json::parse(frame_to_json(bytes));
  CHECK(got["ok"]["id"] == 0x01020304);
  CHECK(got["ok"]["word"] == 0x1122334455ULL);
  CHECK(got["ok"]["control"] == "window");
}
