#include "common/json.hpp"

namespace chorus {

std::optional<Json> parse_json(std::string_view text) {
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
