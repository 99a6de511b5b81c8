// Protocol v1 parsing against the shared vectors, plus inputs too awkward for a JSON file.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "signaling/protocol.hpp"

using chorus::Json;
namespace p = chorus::protocol;

namespace {

Json load_vectors() {
  std::ifstream in(std::string(CHORUS_VECTORS_DIR) + "/protocol.json");
  std::stringstream buffer;
  buffer << in.rdbuf();
  // Plain nlohmann: the file itself nests deeper than the protocol's limit.
  Json parsed = Json::parse(buffer.str(), nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  return parsed;
}

template <typename Parse>
Json outcome(const std::string& text, Parse parse) {
  auto parsed = parse(text);
  if (auto* err = std::get_if<p::ProtocolError>(&parsed)) {
    return {{"error", chorus::to_string(err->code)}};
  }
  return {{"ok", p::to_json(std::get<0>(parsed))}};
}

}  // namespace

TEST_CASE("client messages match the shared vectors", "[protocol]") {
  const Json vectors = load_vectors();
  REQUIRE(vectors["client"].size() > 30);
  for (const Json& v : vectors["client"]) {
    INFO(v["name"].get<std::string>());
    CHECK(outcome(v["input"].get<std::string>(), p::parse_client_message) == v["expect"]);
  }
}

TEST_CASE("server messages match the shared vectors", "[protocol]") {
  const Json vectors = load_vectors();
  REQUIRE(vectors["server"].size() > 10);
  for (const Json& v : vectors["server"]) {
    INFO(v["name"].get<std::string>());
    CHECK(outcome(v["input"].get<std::string>(), p::parse_server_message) == v["expect"]);
  }
}

TEST_CASE("canonical forms parse back to themselves", "[protocol]") {
  const Json vectors = load_vectors();
  for (const Json& v : vectors["client"]) {
    if (!v["expect"].contains("ok")) continue;
    INFO(v["name"].get<std::string>());
    const std::string canonical = chorus::dump_json(v["expect"]["ok"]);
    CHECK(outcome(canonical, p::parse_client_message) == v["expect"]);
  }
  for (const Json& v : vectors["server"]) {
    if (!v["expect"].contains("ok")) continue;
    INFO(v["name"].get<std::string>());
    const std::string canonical = chorus::dump_json(v["expect"]["ok"]);
    CHECK(outcome(canonical, p::parse_server_message) == v["expect"]);
  }
}

TEST_CASE("malformed input never crashes the parser", "[protocol]") {
  SECTION("invalid UTF-8 is bad JSON") {
    const std::string text = "{\"type\":\"join\",\"v\":1,\"room\":\"\xff\xfe\",\"name\":\"a\"}";
    CHECK(outcome(text, p::parse_client_message) == Json{{"error", "bad-json"}});
  }
  SECTION("nesting up to the limit is fine, deeper is refused before parsing") {
    auto nested = [](std::size_t depth) {
      return "{\"type\":\"broadcast\",\"data\":" + std::string(depth - 1, '[') +
             std::string(depth - 1, ']') + "}";
    };
    CHECK(std::holds_alternative<p::ClientMessage>(p::parse_client_message(nested(chorus::kMaxJsonDepth))));
    CHECK(outcome(nested(chorus::kMaxJsonDepth + 1), p::parse_client_message) == Json{{"error", "bad-json"}});
    CHECK(outcome(nested(30000), p::parse_client_message) == Json{{"error", "bad-json"}});
  }
  SECTION("brackets inside strings do not count as nesting") {
    const std::string text = "{\"type\":\"broadcast\",\"data\":\"" + std::string(500, '[') + "\\\"\"}";
    CHECK(std::holds_alternative<p::ClientMessage>(p::parse_client_message(text)));
  }
  SECTION("an embedded NUL byte") {
    const std::string text("{\"type\":\"ping\"}\0garbage", 23);
    CHECK(outcome(text, p::parse_client_message) == Json{{"error", "bad-json"}});
  }
  SECTION("every prefix of a valid frame") {
    const std::string frame =
        "{\"type\":\"signal\",\"to\":\"p2\",\"kind\":\"candidate\",\"candidate\":\"c\",\"sdpMid\":\"0\"}";
    for (std::size_t n = 0; n < frame.size(); ++n) {
      CHECK(outcome(frame.substr(0, n), p::parse_client_message) == Json{{"error", "bad-json"}});
    }
  }
}

TEST_CASE("identifier rules", "[protocol]") {
  CHECK(p::is_valid_peer_id("Ab9_-"));
  CHECK_FALSE(p::is_valid_peer_id(""));
  CHECK_FALSE(p::is_valid_peer_id(std::string(65, 'a')));
  CHECK_FALSE(p::is_valid_peer_id("a/b"));
  CHECK(p::is_valid_room("Raum 1"));
  CHECK_FALSE(p::is_valid_room("tab\there"));
  CHECK_FALSE(p::is_valid_name("c1 \xc2\x85 control"));
  CHECK(p::is_valid_secret("0123456789abcdef"));
  CHECK_FALSE(p::is_valid_secret("0123456789abcde"));
}
