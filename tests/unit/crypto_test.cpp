// SHA-1, SHA-256, HMAC and base64 against their RFCs' published vectors, and the TURN REST
// credential against one computed by Node's crypto (the form coturn checks).
#include <catch2/catch.hpp>
#include <string>

#include "common/base64.hpp"
#include "common/hmac.hpp"
#include "signaling/turn_credentials.hpp"

using namespace chorus;

namespace {

template <typename Digest>
std::string hex(const Digest& d) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (auto b : d) {
    s.push_back(k[b >> 4]);
    s.push_back(k[b & 15]);
  }
  return s;
}

std::string sha1_hex(const std::string& text) {
  Sha1 h;
  h.update(text);
  return hex(h.finish());
}

}  // namespace

TEST_CASE("SHA-1 matches FIPS 180 vectors, also fed in pieces", "[crypto]") {
  CHECK(sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  Sha1 pieces;  // a million 'a' in uneven pieces crosses every block boundary case
  const std::string chunk(997, 'a');
  std::size_t left = 1000000;
  while (left > 0) {
    const std::size_t n = std::min(left, chunk.size());
    pieces.update(std::string_view(chunk).substr(0, n));
    left -= n;
  }
  CHECK(hex(pieces.finish()) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("HMAC-SHA256 matches RFC 4231", "[crypto]") {
  // Test case 1, 2 and 6 (a key longer than the block is hashed first).
  CHECK(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hex(hmac_sha256(std::string(131, '\xaa'),
                        "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("HMAC-SHA1 matches RFC 2202", "[crypto]") {
  CHECK(hex(hmac_sha1(std::string(20, '\x0b'), "Hi There")) ==
        "b617318655057264e28bc0b6fb378c8ef146be00");
  CHECK(hex(hmac_sha1("Jefe", "what do ya want for nothing?")) ==
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  CHECK(hex(hmac_sha1(std::string(80, '\xaa'),
                      "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

TEST_CASE("constant_time_equal compares whole strings", "[crypto]") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "ab"));
  CHECK(constant_time_equal("", ""));
}

TEST_CASE("base64 matches RFC 4648 and base64url decodes only one spelling", "[crypto]") {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* standard[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    CHECK(base64_encode(plain[i]) == standard[i]);
    const std::string url = base64url_encode(plain[i]);
    CHECK(url.find('=') == std::string::npos);
    CHECK(base64url_decode(url) == std::optional<std::string>(plain[i]));
  }
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(base64_encode("\xfb\xff") == "+/8=");
  CHECK(base64url_decode("-_8") == std::optional<std::string>("\xfb\xff"));
  CHECK_FALSE(base64url_decode("Zg=="));  // padding is not part of the URL form
  CHECK_FALSE(base64url_decode("Zm9v+"));  // the standard alphabet's '+'
  CHECK_FALSE(base64url_decode("Zm9vY"));  // 4n + 1 characters cannot be
  CHECK_FALSE(base64url_decode("Zh"));     // "Zg" with non-zero spare bits: a second spelling
}

TEST_CASE("TURN REST credentials are what coturn's use-auth-secret recomputes", "[crypto]") {
  TurnConfig config = TurnConfig::from_json(
      {{"urls", "turn:10.0.0.1:3478?transport=udp"}, {"secret", "chorus-turn-secret"}, {"ttlSeconds", 3600}});
  REQUIRE(config.enabled());
  const Json server = turn_ice_server(config, "peer-1", 1700000000.0 * 1000 + 999);
  CHECK(server["urls"] == Json::array({"turn:10.0.0.1:3478?transport=udp"}));
  CHECK(server["username"] == "1700003600:peer-1");
  // node -e 'crypto.createHmac("sha1","chorus-turn-secret").update("1700003600:peer-1").digest("base64")'
  CHECK(server["credential"] == "g6ZhUBm4Ook9V5ApOTVX++pdWZs=");
  CHECK_FALSE(TurnConfig::from_json({{"urls", Json::array()}, {"secret", "s"}}).enabled());
  CHECK_FALSE(TurnConfig::from_json({{"urls", "turn:x"}}).enabled());
}
