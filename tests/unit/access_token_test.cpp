// Access token verification (signaling/access_token): signature, algorithm, claims, times.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "signaling/access_token.hpp"
#include "token_mint.hpp"

using namespace chorus;
using test::mint_jwt;

namespace {

constexpr double kNowMs = 1700000000.0 * 1000;
const std::string kSecret = "dev-secret";

Json claims(Json extra = Json::object()) {
  Json c = {{"room", "class-1"}, {"sub", "alice"}, {"exp", 1700003600}};
  c.update(extra);
  return c;
}

ErrorCode rejected(const std::string& token, const std::string& room = "class-1", double now = kNowMs) {
  auto v = verify_access_token(token, kSecret, room, now);
  REQUIRE(std::holds_alternative<TokenRejection>(v));
  return std::get<TokenRejection>(v).code;
}

}  // namespace

TEST_CASE("a token minted by tools/server/token.mjs verifies", "[token]") {
  // Minted with Node's crypto (see the mint in tools/server/token.mjs): the two sides agree.
  const std::string node_token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb29tIjoiY2xhc3MtMSIsInN1YiI6ImFsaWNlIiwicm9sZSI6InRl"
      "YWNoZXIiLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTcwMDAwMDAwMH0.gCubgrHK_06W1l0wPoqoxu64N4KIOuuu-x_9NnN1YtU";
  auto v = verify_access_token(node_token, kSecret, "class-1", kNowMs);
  REQUIRE(std::holds_alternative<AccessClaims>(v));
  const auto& c = std::get<AccessClaims>(v);
  CHECK(c.identity == "alice");
  CHECK(c.role == protocol::Role::Teacher);
  CHECK(c.expires_unix_s == 1700003600);
  CHECK(rejected(node_token, "class-1", 1700003600.0 * 1000) == ErrorCode::TokenExpired);
}

TEST_CASE("a forged, altered or unsigned token is refused", "[token]") {
  const std::string good = mint_jwt(claims(), kSecret);
  CHECK(std::holds_alternative<AccessClaims>(verify_access_token(good, kSecret, "class-1", kNowMs)));
  CHECK(rejected(mint_jwt(claims(), "other-secret")) == ErrorCode::Unauthorized);
  // The payload swapped for another (a different identity) under the old signature.
  const std::string forged_payload = base64url_encode(claims({{"sub", "mallory"}}).dump());
  const auto d1 = good.find('.'), d2 = good.rfind('.');
  CHECK(rejected(good.substr(0, d1 + 1) + forged_payload + good.substr(d2)) == ErrorCode::Unauthorized);
  // alg none with an empty signature, and algorithms we do not do.
  CHECK(rejected(base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(claims().dump()) + ".") ==
        ErrorCode::Unauthorized);
  CHECK(rejected(mint_jwt(claims(), kSecret, {{"alg", "HS512"}})) == ErrorCode::Unauthorized);
  CHECK(rejected(mint_jwt(claims(), kSecret, {{"typ", "JWT"}})) == ErrorCode::Unauthorized);
  // Not a JWT at all.
  for (const std::string& bad : std::vector<std::string>{"", "a", "a.b", "a.b.c.d", "!!.??.**", good + "x", "." + good}) {
    CHECK(rejected(bad) == ErrorCode::Unauthorized);
  }
}

TEST_CASE("claims are checked: room, identity, role, times", "[token]") {
  CHECK(rejected(mint_jwt(claims(), kSecret), "class-2") == ErrorCode::Unauthorized);
  auto any_room = verify_access_token(mint_jwt(claims({{"room", "*"}}), kSecret), kSecret, "x", kNowMs);
  CHECK(std::holds_alternative<AccessClaims>(any_room));
  Json no_room = claims();
  no_room.erase("room");
  CHECK(rejected(mint_jwt(no_room, kSecret)) == ErrorCode::Unauthorized);
  CHECK(rejected(mint_jwt(claims({{"sub", ""}}), kSecret)) == ErrorCode::Unauthorized);
  CHECK(rejected(mint_jwt(claims({{"sub", 42}}), kSecret)) == ErrorCode::Unauthorized);
  CHECK(rejected(mint_jwt(claims({{"role", "admin"}}), kSecret)) == ErrorCode::Unauthorized);
  CHECK(rejected(mint_jwt(claims({{"role", 1}}), kSecret)) == ErrorCode::Unauthorized);
  Json no_exp = claims();
  no_exp.erase("exp");
  CHECK(rejected(mint_jwt(no_exp, kSecret)) == ErrorCode::Unauthorized);  // tokens must expire
  CHECK(rejected(mint_jwt(claims({{"exp", "soon"}}), kSecret)) == ErrorCode::Unauthorized);
  CHECK(rejected(mint_jwt(claims({{"exp", 1699999999}}), kSecret)) == ErrorCode::TokenExpired);
  CHECK(rejected(mint_jwt(claims({{"nbf", 1700000100}}), kSecret)) == ErrorCode::TokenExpired);
  auto started = verify_access_token(mint_jwt(claims({{"nbf", 1700000000}}), kSecret), kSecret, "class-1", kNowMs);
  CHECK(std::holds_alternative<AccessClaims>(started));
  auto no_role = verify_access_token(mint_jwt(claims(), kSecret), kSecret, "class-1", kNowMs);
  REQUIRE(std::holds_alternative<AccessClaims>(no_role));
  CHECK_FALSE(std::get<AccessClaims>(no_role).role.has_value());
}
