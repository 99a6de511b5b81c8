#include "common/hmac.hpp"

namespace chorus {

namespace {

// HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' = K (hashed first when longer than a
// block) zero-padded to the 64-byte block of both hashes.
template <typename Hash>
typename Hash::Digest hmac(std::string_view key, std::string_view message) {
  std::string block_key;
  if (key.size() > 64) {
    Hash h;
    h.update(key);
    block_key = digest_bytes(h.finish());
  } else {
    block_key = std::string(key);
  }
  block_key.resize(64, '\0');
  std::string ipad(64, '\0'), opad(64, '\0');
  for (std::size_t i = 0; i < 64; ++i) {
    ipad[i] = static_cast<char>(block_key[i] ^ 0x36);
    opad[i] = static_cast<char>(block_key[i] ^ 0x5c);
  }
  Hash inner;
  inner.update(ipad);
  inner.update(message);
  const std::string inner_digest = digest_bytes(inner.finish());
  Hash outer;
  outer.update(opad);
  outer.update(inner_digest);
  return outer.finish();
}

}  // namespace

Sha256::Digest hmac_sha256(std::string_view key, std::string_view message) {
  return hmac<Sha256>(key, message);
}

Sha1::Digest hmac_sha1(std::string_view key, std::string_view message) {
  return hmac<Sha1>(key, message);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace chorus
