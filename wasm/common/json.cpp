#include "common/json.hpp"

#include <algorithm>

namespace chorus {
namespace {

// Deepest [ / { nesting outside strings. nlohmann parses iteratively, but copying, comparing,
// dumping and destroying a value recurse: 30,000 levels (60 KB of "[") would overflow the
// wasm stack, so such input is refused before it is parsed.
std::size_t nesting_depth(std::string_view text) {
  std::size_t depth = 0, max_depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

std::optional<Json> parse_json(std::string_view text) {
  if (nesting_depth(text) > kMaxJsonDepth) return std::nullopt;
  // nlohmann's lexer ends the input at a NUL byte, which would let "{...}\0garbage" pass.
  // A raw NUL is never valid JSON text (inside strings it must be escaped).
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

std::string dump_json(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

const Json* find_field(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> get_string(const Json& object, std::string_view key) {
  const Json* v = find_field(object, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<double> get_number(const Json& object, std::string_view key) {
  const Json* v = find_field(object, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::optional<bool> get_bool(const Json& object, std::string_view key) {
  const Json* v = find_field(object, key);
  if (v == nullptr || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

}  // namespace chorus
