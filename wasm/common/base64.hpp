// Base64 (RFC 4648): the standard alphabet with padding (TURN REST credentials) and the URL
// alphabet without padding (JWT segments, RFC 7515 section 2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chorus {

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);
// nullopt for characters outside the URL alphabet, '=' padding, or an impossible length
// (4n + 1), and for non-zero bits left over in the last character (a second spelling of the
// same bytes: a JWT's signature has one spelling).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace chorus
