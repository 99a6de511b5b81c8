// nlohmann/json without exceptions: every accessor here checks the type first, parsing
// returns a discarded value on error, and dumping replaces invalid UTF-8. The core is built
// with JSON_NOEXCEPTION, so a throwing nlohmann path would abort: never call one.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace chorus {

using Json = nlohmann::json;

// Deeper nesting is refused: values are copied and freed recursively.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses `text`; nullopt if it is not valid JSON or nests deeper than kMaxJsonDepth.
std::optional<Json> parse_json(std::string_view text);
// Compact serialization that never throws (invalid UTF-8 becomes U+FFFD).
std::string dump_json(const Json& value);

// Field accessors on an object: nullopt when the field is missing or has another type.
const Json* find_field(const Json& object, std::string_view key);
std::optional<std::string> get_string(const Json& object, std::string_view key);
std::optional<double> get_number(const Json& object, std::string_view key);
std::optional<bool> get_bool(const Json& object, std::string_view key);

// Config reading: sets `field` from a positive number below 1e12 at `key`, else leaves it.
// Bounded before the cast: converting an out-of-range double is undefined behaviour.
template <typename T>
void read_positive(const Json& config, std::string_view key, T& field) {
  if (auto v = get_number(config, key); v && *v > 0 && *v < 1e12) field = static_cast<T>(*v);
}

}  // namespace chorus
