// Shared by the wasm modules' bindings: config parsing. Conversion only, no decisions.
#pragma once

#include <string>

#include "common/json.hpp"

namespace chorus::bindings {

// The constructor argument of every core: a JSON object, or {} when it is anything else.
inline Json config_from(const std::string& text) {
  auto value = parse_json(text);
  return value && value->is_object() ? *value : Json::object();
}

}  // namespace chorus::bindings
