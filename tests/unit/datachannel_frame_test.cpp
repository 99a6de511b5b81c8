// DataChannel building blocks without a peer: the 16-byte frame codec, SHA-256, the receiving
// Reassembler and the sending MessageQueue (wasm/datachannel/). data_core_test.cpp drives two
// whole DataCores against each other.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "datachannel/frame.hpp"
#include "datachannel/message_queue.hpp"
#include "datachannel/reassembler.hpp"
#include "common/sha256.hpp"

using namespace chorus::datachannel;
using chorus::Sha256;
using chorus::ErrorCode;

namespace {

// A frame written byte by byte, so the tests do not trust append_header for what they check.
std::string raw(std::uint8_t version, std::uint8_t type, std::uint8_t flags, std::uint8_t byte3,
                std::uint32_t id, std::uint64_t word, std::string_view payload = {}) {
  std::string s;
  s.push_back(static_cast<char>(version));
  s.push_back(static_cast<char>(type));
  s.push_back(static_cast<char>(flags));
  s.push_back(static_cast<char>(byte3));
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>(id >> (8 * i)));
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>(word >> (8 * i)));
  s += payload;
  return s;
}

std::string encode(FrameType type, std::uint32_t id, std::uint64_t word, std::string_view payload = {},
                   std::uint8_t flags = 0, ControlKind control = ControlKind::Window) {
  return encode_frame(Frame{type, flags, control, id, word}, payload);
}

// The error code parse_frame gives, or nullopt when it accepts the bytes.
std::optional<ErrorCode> error_of(std::string_view bytes) {
  auto parsed = parse_frame(bytes);
  if (auto* e = std::get_if<FrameError>(&parsed)) {
    REQUIRE(e->what != nullptr);
    return e->code;
  }
  return std::nullopt;
}

Frame parsed(std::string_view bytes) {
  auto r = parse_frame(bytes);
  REQUIRE(std::holds_alternative<Frame>(r));
  return std::get<Frame>(r);
}

std::string sha_hex(std::string_view data) {
  Sha256 s;
  s.update(data);
  return Sha256::hex(s.finish());
}

// Deterministic bytes that do not repeat with a short period.
std::string pseudo_random(std::size_t n, std::uint64_t seed) {
  std::string s(n, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 56);
  }
  return s;
}

// A message frame for the reassembler: `total` bytes announced, this chunk at `offset`.
struct Chunk {
  std::string bytes;
  Frame frame() const { return parsed(bytes); }
};
Chunk chunk(FrameType type, std::uint32_t id, std::uint32_t offset, std::uint32_t total, std::string_view payload) {
  return {encode(type, id, message_word(offset, total), payload)};
}

}  // namespace

// ---- frame codec -------------------------------------------------------------------------------

TEST_CASE("dc frame: the header is 16 bytes, big-endian, laid out as documented", "[datachannel][frame]") {
  STATIC_REQUIRE(kHeaderSize == 16);
  const std::string h = encode(FrameType::Control, 0x01020304, 0x05060708090a0b0cULL, {}, kReply,
                               ControlKind::FileAck);
  REQUIRE(h.size() == 16);
  CHECK(h == raw(1, 8, 1, 2, 0x01020304, 0x05060708090a0b0cULL));
  CHECK(static_cast<unsigned char>(h[0]) == kFrameVersion);
  // Byte 3 is the control kind only for control frames.
  CHECK(encode(FrameType::Binary, 7, 0, {}, 0, ControlKind::FileAck)[3] == 0);
  // A header-only frame is a whole frame (a window grant has no payload).
  const Frame w = parsed(raw(1, 8, kReply, 1, 9, 1234));
  CHECK(w.payload.empty());
  CHECK(w.word == 1234);
}

TEST_CASE("dc frame: every type survives a round trip", "[datachannel][frame]") {
  struct Case {
    FrameType type;
    std::uint8_t flags;
    ControlKind control;
    std::uint64_t word;
    std::string payload;
  };
  const std::string digest(32, '\xab');
  const std::vector<Case> cases = {
      {FrameType::Text, 0, ControlKind::Window, message_word(0, 6), "héllo"},  // 6 UTF-8 bytes
      {FrameType::Text, 0, ControlKind::Window, message_word(0, 0), ""},  // the empty message
      {FrameType::Json, 0, ControlKind::Window, message_word(3, 10), "{\"a\""},
      {FrameType::Binary, 0, ControlKind::Window, message_word(0xfffffffe, 0xffffffff), std::string(1, '\0')},
      {FrameType::FileBegin, 0, ControlKind::Window, 1ULL << 53, "{\"name\":\"a.txt\",\"type\":\"text/plain\"}"},
      {FrameType::FileChunk, 0, ControlKind::Window, 65536, std::string("\x00\xff\x10", 3)},
      {FrameType::FileEnd, 0, ControlKind::Window, 12345, digest},
      {FrameType::FileCancel, 0, ControlKind::Window, 0, "changed my mind"},
      {FrameType::FileCancel, kReply, ControlKind::Window, 0, ""},
      {FrameType::Control, kReply, ControlKind::Window, 16 << 20, ""},
      {FrameType::Control, kReply, ControlKind::FileAck, 999, std::string(1, '\x01')},
  };
  for (const auto& c : cases) {
    INFO(type_name(c.type) << " word " << c.word);
    const std::string bytes = encode(c.type, 0xdeadbeef, c.word, c.payload, c.flags, c.control);
    REQUIRE(bytes.size() == kHeaderSize + c.payload.size());
    const Frame f = parsed(bytes);
    CHECK(f.type == c.type);
    CHECK(f.flags == c.flags);
    CHECK(f.id == 0xdeadbeef);
    CHECK(f.word == c.word);
    CHECK(f.payload == c.payload);
    CHECK(f.payload.data() == bytes.data() + kHeaderSize);  // a view, not a copy
    if (c.type == FrameType::Control) CHECK(f.control == c.control);
    if (is_message(c.type)) {
      CHECK(f.offset() == static_cast<std::uint32_t>(c.word >> 32));
      CHECK(f.total() == static_cast<std::uint32_t>(c.word));
    }
  }
  CHECK(std::string(type_name(FrameType::FileChunk)) == "file-chunk");
  CHECK(is_message(FrameType::Json));
  CHECK_FALSE(is_message(FrameType::FileChunk));
}

TEST_CASE("dc frame: every malformation has its code", "[datachannel][frame]") {
  const auto bad = ErrorCode::BadFrame;
  // Framing
  CHECK(error_of("") == bad);
  CHECK(error_of(std::string(1, '\x02')) == ErrorCode::UnsupportedVersion);
  CHECK(error_of(raw(0, 1, 0, 0, 1, message_word(0, 1), "x")) == ErrorCode::UnsupportedVersion);
  CHECK(error_of(raw(2, 1, 0, 0, 1, message_word(0, 1), "x")) == ErrorCode::UnsupportedVersion);
  CHECK(error_of(raw(255, 99, 99, 99, 0, 0)) == ErrorCode::UnsupportedVersion);
  const std::string ok = raw(1, 1, 0, 0, 1, message_word(0, 1), "x");
  REQUIRE_FALSE(error_of(ok));
  for (std::size_t n = 1; n < kHeaderSize; ++n) {
    INFO("truncated to " << n);
    CHECK(error_of(ok.substr(0, n)) == bad);
  }
  for (int type : {0, 10, 0x7f, 0xff}) {
    INFO("type " << type);
    CHECK(error_of(raw(1, static_cast<std::uint8_t>(type), 0, 0, 1, message_word(0, 1), "x")) == bad);
  }
  CHECK(error_of(raw(1, 1, 0, 0, 0, message_word(0, 1), "x")) == bad);  // id 0
  // Flags: none on data frames, only Reply on cancel and control.
  for (int flags : {1, 2, 0x80}) CHECK(error_of(raw(1, 1, flags, 0, 1, message_word(0, 1), "x")) == bad);
  CHECK(error_of(raw(1, 5, 1, 0, 1, 0, "x")) == bad);
  CHECK(error_of(raw(1, 7, 2, 0, 1, 0)) == bad);
  CHECK(error_of(raw(1, 7, 3, 0, 1, 0)) == bad);
  CHECK(error_of(raw(1, 8, 3, 1, 1, 0)) == bad);
  CHECK_FALSE(error_of(raw(1, 7, 1, 0, 1, 0)));
  // Byte 3 is 0 except on control frames, where it is a known kind; flags are 0 on data frames.
  const std::vector<std::string> valid = {
      raw(1, 1, 0, 0, 1, message_word(0, 1), "x"), raw(1, 2, 0, 0, 1, message_word(0, 2), "{}"),
      raw(1, 3, 0, 0, 1, message_word(0, 1), "x"), raw(1, 4, 0, 0, 1, 10, "{}"),
      raw(1, 5, 0, 0, 1, 0, "x"),                  raw(1, 6, 0, 0, 1, 10, std::string(32, 'h')),
      raw(1, 7, 0, 0, 1, 0, "why")};
  for (const auto& v : valid) {
    INFO("type " << int(v[1]));
    REQUIRE_FALSE(error_of(v));
    for (char b3 : {'\x01', '\x02', '\xff'}) {
      std::string with = v;
      with[3] = b3;
      CHECK(error_of(with) == bad);
    }
    std::string flagged = v;
    flagged[2] = v[1] == 7 ? '\x02' : '\x01';
    CHECK(error_of(flagged) == bad);
  }
  CHECK(error_of(raw(1, 8, 1, 0, 1, 0)) == bad);
  CHECK(error_of(raw(1, 8, 1, 3, 1, 0)) == bad);
  CHECK(error_of(raw(1, 8, 1, 0xff, 1, 0)) == bad);
  // Message chunks stay inside their announced total.
  CHECK_FALSE(error_of(raw(1, 3, 0, 0, 1, message_word(2, 5), "abc")));
  CHECK(error_of(raw(1, 3, 0, 0, 1, message_word(3, 5), "abc")) == bad);  // ends past the total
  CHECK(error_of(raw(1, 3, 0, 0, 1, message_word(0, 2), "abc")) == bad);
  CHECK(error_of(raw(1, 3, 0, 0, 1, message_word(5, 5), "x")) == bad);    // starts at the total
  CHECK(error_of(raw(1, 3, 0, 0, 1, message_word(9, 5), "x")) == bad);
  CHECK(error_of(raw(1, 3, 0, 0, 1, message_word(0, 5))) == bad);         // empty chunk
  CHECK(error_of(raw(1, 2, 0, 0, 1, message_word(4, 5))) == bad);
  CHECK(error_of(raw(1, 1, 0, 0, 1, message_word(0, 0), "x")) == bad);    // empty message with bytes
  CHECK(error_of(raw(1, 1, 0, 0, 1, message_word(1, 0))) == bad);
  CHECK(error_of(raw(1, 1, 0, 0, 1, message_word(0xffffffff, 0xffffffff), "x")) == bad);
  // Files
  CHECK_FALSE(error_of(raw(1, 4, 0, 0, 1, 1ULL << 53, "{}")));
  CHECK(error_of(raw(1, 4, 0, 0, 1, (1ULL << 53) + 1, "{}")) == bad);
  CHECK(error_of(raw(1, 5, 0, 0, 1, 0)) == bad);  // empty file chunk
  CHECK(error_of(raw(1, 5, 0, 0, 1, (1ULL << 53) + 1, "x")) == bad);
  CHECK(error_of(raw(1, 5, 0, 0, 1, ~0ULL, "x")) == bad);
  for (std::size_t n : {0, 1, 31, 33, 64}) {
    INFO("file-end with " << n << " bytes");
    CHECK(error_of(raw(1, 6, 0, 0, 1, 10, std::string(n, 'h'))) == bad);
  }
  CHECK(error_of(raw(1, 6, 0, 0, 1, ~0ULL, std::string(32, 'h'))) == bad);
  CHECK(error_of(raw(1, 7, 0, 0, 1, 1)) == bad);  // cancel word must be 0
  CHECK_FALSE(error_of(raw(1, 7, 0, 0, 1, 0, std::string(1024, 'r'))));
  CHECK(error_of(raw(1, 7, 0, 0, 1, 0, std::string(1025, 'r'))) == bad);
  // Control
  CHECK(error_of(raw(1, 8, 0, 1, 1, 100)) == bad);  // without the reply flag
  CHECK(error_of(raw(1, 8, 0, 2, 1, 100, "\x01")) == bad);
  CHECK(error_of(raw(1, 8, 1, 1, 1, 100, "x")) == bad);  // window with a payload
  CHECK(error_of(raw(1, 8, 1, 2, 1, 100)) == bad);       // ack without its byte
  CHECK(error_of(raw(1, 8, 1, 2, 1, 100, "\x01\x01")) == bad);
  CHECK_FALSE(error_of(raw(1, 8, 1, 2, 1, 100, "\x01")));
}

// ---- SHA-256 -------------------------------------------------------------------------------------

TEST_CASE("dc sha256: FIPS 180-4 vectors", "[datachannel][sha]") {
  CHECK(sha_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                "mnopqrstnopqrstu") == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(sha_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Around the padding boundaries (reference: Python hashlib).
  const std::vector<std::pair<std::size_t, const char*>> edges = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
  };
  for (const auto& [n, hex] : edges) {
    INFO(n << " x 'a'");
    CHECK(sha_hex(std::string(n, 'a')) == hex);
  }
}

TEST_CASE("dc sha256: the digest does not depend on how the data is cut", "[datachannel][sha]") {
  const std::string data = pseudo_random(200003, 7);
  const std::string whole = sha_hex(data);
  for (std::size_t piece : {1, 3, 55, 63, 64, 65, 127, 1000, 4099}) {
    INFO("pieces of " << piece);
    Sha256 s;
    for (std::size_t at = 0; at < data.size(); at += piece) s.update(std::string_view(data).substr(at, piece));
    CHECK(Sha256::hex(s.finish()) == whole);
  }
  // Irregular pieces, including empty ones.
  Sha256 s;
  std::size_t at = 0, k = 0;
  while (at < data.size()) {
    const std::size_t n = (k * 37 + 11) % 211;
    s.update(std::string_view(data).substr(at, n));
    at += n;
    ++k;
  }
  CHECK(Sha256::hex(s.finish()) == whole);
  CHECK(whole != sha_hex(data.substr(1)));
}

// ---- Reassembler --------------------------------------------------------------------------------

TEST_CASE("dc reassembler: a single chunk is a message at once, and is not kept", "[datachannel][reassembl]") {
  Reassembler r;
  auto c = chunk(FrameType::Json, 1, 0, 7, "{\"a\":1}");
  auto res = r.add(c.frame(), 0);
  REQUIRE(res.message);
  CHECK_FALSE(res.error);
  CHECK(res.message->type == FrameType::Json);
  CHECK(res.message->data == "{\"a\":1}");
  CHECK(r.partial_messages() == 0);
  CHECK(r.partial_bytes() == 0);
  auto empty = r.add(chunk(FrameType::Text, 2, 0, 0, "").frame(), 0);
  REQUIRE(empty.message);
  CHECK(empty.message->data.empty());
}

TEST_CASE("dc reassembler: chunks in order, out of order and interleaved", "[datachannel][reassembl]") {
  Reassembler r;
  const std::string a = pseudo_random(1000, 1), b = pseudo_random(777, 2);
  std::vector<Chunk> chunks;
  for (std::uint32_t at = 0; at < 1000; at += 100) chunks.push_back(chunk(FrameType::Binary, 10, at, 1000, a.substr(at, 100)));
  SECTION("in order") {
    for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
      auto res = r.add(chunks[i].frame(), 0);
      CHECK_FALSE(res.message);
      CHECK_FALSE(res.error);
    }
    CHECK(r.partial_messages() == 1);
    CHECK(r.partial_bytes() == 1000);
    auto res = r.add(chunks.back().frame(), 0);
    REQUIRE(res.message);
    CHECK(res.message->data == a);
    CHECK(r.partial_bytes() == 0);
  }
  SECTION("out of order (the unreliable channel)") {
    const std::vector<int> order = {9, 3, 0, 7, 1, 8, 2, 6, 5, 4};
    std::optional<Reassembler::Message> done;
    for (int i : order) {
      auto res = r.add(chunks[i].frame(), 0);
      CHECK_FALSE(res.error);
      if (res.message) done = res.message;
      else CHECK(r.partial_messages() == 1);
    }
    REQUIRE(done);
    CHECK(done->data == a);
    CHECK(r.partial_messages() == 0);
  }
  SECTION("two messages interleaved with a single-chunk one between") {
    std::vector<Chunk> bc;
    for (std::uint32_t at = 0; at < 777; at += 300) {
      bc.push_back(chunk(FrameType::Text, 11, at, 777, b.substr(at, 300)));
    }
    std::vector<std::string> got;
    auto feed = [&](const Chunk& c) {
      auto res = r.add(c.frame(), 0);
      CHECK_FALSE(res.error);
      if (res.message) got.push_back(res.message->data);
    };
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      feed(chunks[i]);
      if (i < bc.size()) feed(bc[i]);
      if (i == 1) feed(chunk(FrameType::Text, 12, 0, 2, "hi"));
    }
    REQUIRE(got.size() == 3);
    CHECK(got[0] == "hi");
    CHECK(got[1] == b);
    CHECK(got[2] == a);
  }
}

TEST_CASE("dc reassembler: a repeated or overlapping chunk drops its message, others go on",
          "[datachannel][reassembl]") {
  Reassembler r;
  const std::string a(300, 'a');
  REQUIRE_FALSE(r.add(chunk(FrameType::Binary, 1, 0, 300, a.substr(0, 100)).frame(), 0).error);
  REQUIRE_FALSE(r.add(chunk(FrameType::Binary, 2, 0, 300, a.substr(0, 100)).frame(), 0).error);
  REQUIRE_FALSE(r.add(chunk(FrameType::Binary, 3, 200, 300, a.substr(0, 100)).frame(), 0).error);
  REQUIRE_FALSE(r.add(chunk(FrameType::Binary, 4, 0, 300, a.substr(0, 100)).frame(), 0).error);
  REQUIRE(r.partial_messages() == 4);
  // 1: the same chunk again; 2: starts inside the first; 3: ends inside the one at 200;
  // 4: another type for the same id.
  auto dup = r.add(chunk(FrameType::Binary, 1, 0, 300, a.substr(0, 100)).frame(), 0);
  auto into_prev = r.add(chunk(FrameType::Binary, 2, 99, 300, a.substr(0, 2)).frame(), 0);
  auto into_next = r.add(chunk(FrameType::Binary, 3, 150, 300, a.substr(0, 51)).frame(), 0);
  auto retyped = r.add(chunk(FrameType::Text, 4, 100, 300, a.substr(0, 100)).frame(), 0);
  for (auto* res : {&dup, &into_prev, &into_next, &retyped}) {
    REQUIRE(res->error);
    CHECK(res->error->code == ErrorCode::BadFrame);
    CHECK_FALSE(res->message);
  }
  CHECK(r.partial_messages() == 0);
  CHECK(r.partial_bytes() == 0);
  // The rest of a dropped message is skipped without another error and is not kept.
  auto rest = r.add(chunk(FrameType::Binary, 1, 100, 300, a.substr(0, 200)).frame(), 0);
  CHECK_FALSE(rest.error);
  CHECK_FALSE(rest.message);
  CHECK(r.partial_messages() == 0);
  // Adjacent chunks are not overlaps; another message completes normally.
  REQUIRE_FALSE(r.add(chunk(FrameType::Binary, 5, 100, 200, a.substr(0, 100)).frame(), 0).error);
  auto done = r.add(chunk(FrameType::Binary, 5, 0, 200, a.substr(0, 100)).frame(), 0);
  REQUIRE(done.message);
  CHECK(done.message->data == a.substr(0, 200));
  // Another total for the same id is refused too.
  REQUIRE_FALSE(r.add(chunk(FrameType::Binary, 6, 0, 300, a.substr(0, 100)).frame(), 0).error);
  auto relength = r.add(chunk(FrameType::Binary, 6, 100, 301, a.substr(0, 100)).frame(), 0);
  REQUIRE(relength.error);
  CHECK(relength.error->code == ErrorCode::BadFrame);
}

TEST_CASE("dc reassembler: an announced length over the limit is refused before any memory",
          "[datachannel][reassembl]") {
  ReassemblyLimits limits;
  limits.max_message_bytes = 1000;
  Reassembler r(limits);
  auto res = r.add(chunk(FrameType::Binary, 1, 0, 0xffffffff, "x").frame(), 0);
  REQUIRE(res.error);
  CHECK(res.error->code == ErrorCode::MessageTooLarge);
  CHECK(r.partial_bytes() == 0);
  // Even complete in one chunk.
  auto one = r.add(chunk(FrameType::Binary, 2, 0, 1001, std::string(1001, 'x')).frame(), 0);
  REQUIRE(one.error);
  CHECK(one.error->code == ErrorCode::MessageTooLarge);
  // Later chunks of the refused message pass silently.
  auto later = r.add(chunk(FrameType::Binary, 1, 1, 0xffffffff, "y").frame(), 0);
  CHECK_FALSE(later.error);
  CHECK_FALSE(later.message);
  CHECK(r.partial_messages() == 0);
  // Exactly at the limit is fine.
  auto at = r.add(chunk(FrameType::Binary, 3, 0, 1000, std::string(1000, 'x')).frame(), 0);
  CHECK(at.message);
}

TEST_CASE("dc reassembler: 10,000 unfinished messages cost bounded memory", "[datachannel][reassembl]") {
  ReassemblyLimits limits;  // the defaults: 64 partial messages
  Reassembler r(limits);
  const std::uint32_t total = 4096;
  std::size_t accepted = 0, limited = 0, other = 0;
  for (std::uint32_t id = 1; id <= 10000; ++id) {
    auto res = r.add(chunk(FrameType::Binary, id, 0, total, std::string(1024, 'p')).frame(), 0);
    if (!res.error && !res.message) ++accepted;
    else if (res.error && res.error->code == ErrorCode::ReassemblyLimit) ++limited;
    else ++other;
    REQUIRE(r.partial_messages() <= limits.max_partial_messages);
    REQUIRE(r.partial_bytes() <= limits.max_partial_bytes);
  }
  CHECK(accepted == limits.max_partial_messages);
  CHECK(limited == 10000 - limits.max_partial_messages);
  CHECK(other == 0);
  CHECK(r.partial_bytes() == limits.max_partial_messages * total);
  // The last refused ones: their later chunks are skipped silently.
  for (std::uint32_t id = 9901; id <= 10000; ++id) {
    auto res = r.add(chunk(FrameType::Binary, id, 1024, total, std::string(1024, 'q')).frame(), 0);
    CHECK_FALSE(res.error);
    CHECK_FALSE(res.message);
  }
  CHECK(r.partial_messages() == limits.max_partial_messages);
  // The accepted ones complete and free their room.
  std::size_t completed = 0;
  for (std::uint32_t id = 1; id <= limits.max_partial_messages; ++id) {
    auto res = r.add(chunk(FrameType::Binary, id, 1024, total, std::string(3072, 'q')).frame(), 0);
    REQUIRE_FALSE(res.error);
    if (res.message && res.message->data == std::string(1024, 'p') + std::string(3072, 'q')) ++completed;
  }
  CHECK(completed == limits.max_partial_messages);
  CHECK(r.partial_messages() == 0);
  CHECK(r.partial_bytes() == 0);
  // And new messages are accepted again.
  CHECK_FALSE(r.add(chunk(FrameType::Binary, 20000, 0, total, "x").frame(), 0).error);
}

TEST_CASE("dc reassembler: announced bytes of unfinished messages are capped", "[datachannel][reassembl]") {
  ReassemblyLimits limits;
  limits.max_message_bytes = 1 << 20;
  limits.max_partial_bytes = 3 << 20;
  Reassembler r(limits);
  for (std::uint32_t id = 1; id <= 3; ++id) {
    REQUIRE_FALSE(r.add(chunk(FrameType::Binary, id, 0, 1 << 20, "x").frame(), 0).error);
  }
  auto res = r.add(chunk(FrameType::Binary, 4, 0, 1, "y").frame(), 0);
  CHECK(res.message);  // one chunk: nothing kept, so no limit applies
  res = r.add(chunk(FrameType::Binary, 5, 0, 2, "y").frame(), 0);
  REQUIRE(res.error);
  CHECK(res.error->code == ErrorCode::ReassemblyLimit);
  CHECK(r.partial_bytes() == 3u << 20);
}

TEST_CASE("dc reassembler: unfinished messages expire after partial_timeout_ms", "[datachannel][reassembl]") {
  ReassemblyLimits limits;
  limits.partial_timeout_ms = 3000;
  Reassembler r(limits);
  CHECK_FALSE(r.next_expiry());
  REQUIRE_FALSE(r.add(chunk(FrameType::Text, 1, 0, 10, "abcde").frame(), 1000).error);
  REQUIRE_FALSE(r.add(chunk(FrameType::Text, 2, 0, 10, "abcde").frame(), 2500).error);
  REQUIRE(r.next_expiry());
  CHECK(*r.next_expiry() == 4000);
  CHECK(r.expire(3999) == 0);
  CHECK(r.expire(4000) == 1);
  CHECK(r.partial_messages() == 1);
  CHECK(r.partial_bytes() == 10);
  CHECK(*r.next_expiry() == 5500);
  // The survivor still completes.
  auto done = r.add(chunk(FrameType::Text, 2, 5, 10, "fghij").frame(), 5000);
  REQUIRE(done.message);
  CHECK(done.message->data == "abcdefghij");
  CHECK_FALSE(r.next_expiry());
  // Without a timeout nothing expires.
  Reassembler forever;
  REQUIRE_FALSE(forever.add(chunk(FrameType::Text, 1, 0, 10, "abcde").frame(), 0).error);
  CHECK(forever.expire(1e12) == 0);
  CHECK_FALSE(forever.next_expiry());
  forever.clear();
  CHECK(forever.partial_messages() == 0);
  CHECK(forever.partial_bytes() == 0);
}

// ---- MessageQueue -------------------------------------------------------------------------------

namespace {

struct Sent {
  FrameType type;
  std::uint32_t id, offset, total;
  std::string payload;
};

std::optional<Sent> next(MessageQueue& q, std::size_t max_payload) {
  std::string out = "garbage that must stay in front";
  const std::size_t before = out.size();
  if (!q.next_frame(max_payload, out)) {
    CHECK(out.size() == before);
    return std::nullopt;
  }
  const Frame f = parsed(std::string_view(out).substr(before));
  REQUIRE(is_message(f.type));
  REQUIRE(f.payload.size() <= max_payload);
  return Sent{f.type, f.id, f.offset(), f.total(), std::string(f.payload)};
}

std::vector<Sent> drain(MessageQueue& q, std::size_t max_payload) {
  std::vector<Sent> all;
  while (auto s = next(q, max_payload)) all.push_back(*s);
  return all;
}

}  // namespace

TEST_CASE("dc queue: a message is cut at max_payload", "[datachannel][queue]") {
  MessageQueue q;
  const std::string data = pseudo_random(100, 3);
  REQUIRE_FALSE(q.push(FrameType::Binary, 7, data));
  CHECK(q.queued_messages() == 1);
  CHECK(q.queued_bytes() == 100);
  const auto frames = drain(q, 30);
  REQUIRE(frames.size() == 4);
  std::string joined;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CHECK(frames[i].id == 7);
    CHECK(frames[i].type == FrameType::Binary);
    CHECK(frames[i].total == 100);
    CHECK(frames[i].offset == 30 * i);
    joined += frames[i].payload;
  }
  CHECK(frames.back().payload.size() == 10);
  CHECK(joined == data);
  CHECK(q.empty());
  CHECK(q.queued_bytes() == 0);
  // Exactly max_payload: one frame. The empty message: one empty frame.
  REQUIRE_FALSE(q.push(FrameType::Text, 8, std::string(30, 't')));
  REQUIRE_FALSE(q.push(FrameType::Text, 9, ""));
  const auto two = drain(q, 30);
  REQUIRE(two.size() == 2);
  CHECK(two[0].total == 30);
  CHECK(two[1].total == 0);
  CHECK(two[1].payload.empty());
}

TEST_CASE("dc queue: a small message passes a big one in progress", "[datachannel][queue]") {
  MessageQueue q;
  REQUIRE_FALSE(q.push(FrameType::Binary, 1, std::string(1000, 'B')));
  auto first = next(q, 100);
  REQUIRE(first);
  CHECK(first->id == 1);
  REQUIRE_FALSE(q.push(FrameType::Text, 2, "chat"));
  REQUIRE_FALSE(q.push(FrameType::Binary, 3, std::string(300, 'C')));
  const auto rest = drain(q, 100);
  std::vector<std::uint32_t> ids;
  for (const auto& s : rest) ids.push_back(s.id);
  // The chat line goes next; the second big message joins the rotation and alternates.
  REQUIRE(ids.size() == 1 + 9 + 3);
  CHECK(ids[0] == 2);
  CHECK(ids == std::vector<std::uint32_t>{2, 1, 3, 1, 3, 1, 3, 1, 1, 1, 1, 1, 1});
}

TEST_CASE("dc queue: limits on size, count, bytes and messages in progress", "[datachannel][queue]") {
  MessageQueueLimits limits;
  limits.max_message_bytes = 1000;
  limits.max_queued_messages = 3;
  limits.max_queued_bytes = 1500;
  limits.max_active = 2;
  limits.max_active_bytes = 2000;
  MessageQueue q(limits);
  CHECK(q.push(FrameType::Binary, 1, std::string(1001, 'x')) == ErrorCode::MessageTooLarge);
  CHECK_FALSE(q.push(FrameType::Binary, 1, std::string(1000, 'a')));
  CHECK(q.push(FrameType::Binary, 2, std::string(501, 'b')) == ErrorCode::SendQueueFull);  // bytes
  CHECK_FALSE(q.push(FrameType::Binary, 2, std::string(400, 'b')));
  CHECK_FALSE(q.push(FrameType::Binary, 3, std::string(100, 'c')));
  CHECK(q.push(FrameType::Text, 4, "") == ErrorCode::SendQueueFull);  // count
  CHECK(q.queued_messages() == 3);
  CHECK(q.queued_bytes() == 1500);
  // Only two long messages in progress at a time: the third starts when one ends.
  std::vector<Sent> frames = drain(q, 50);
  std::size_t last_of_1 = 0, last_of_2 = 0, first_of_3 = frames.size();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].id == 1) last_of_1 = i;
    if (frames[i].id == 2) last_of_2 = i;
    if (frames[i].id == 3 && first_of_3 == frames.size()) first_of_3 = i;
  }
  CHECK(first_of_3 > std::min(last_of_1, last_of_2));
  CHECK(frames.size() == 20 + 8 + 2);
  CHECK(q.queued_bytes() == 0);
  CHECK_FALSE(q.push(FrameType::Text, 5, "room again"));
}

TEST_CASE("dc queue: restart sends messages cut short from their first byte", "[datachannel][queue]") {
  MessageQueue q;
  const std::string big = pseudo_random(500, 9);
  REQUIRE_FALSE(q.push(FrameType::Binary, 1, big));
  REQUIRE_FALSE(q.push(FrameType::Text, 2, "done before the close"));
  auto a = next(q, 100), b = next(q, 100), c = next(q, 100);
  REQUIRE((a && b && c));
  CHECK(a->id == 1);
  CHECK(b->id == 2);
  CHECK(c->offset == 100);
  REQUIRE_FALSE(q.push(FrameType::Text, 3, "queued, not started"));
  q.restart();
  CHECK(q.queued_messages() == 2);
  CHECK(q.queued_bytes() == big.size() + 19);
  const auto frames = drain(q, 100);
  REQUIRE_FALSE(frames.empty());
  CHECK(frames[0].id == 1);
  CHECK(frames[0].offset == 0);
  std::string joined;
  for (const auto& s : frames) {
    CHECK(s.id != 2);
    if (s.id == 1) joined += s.payload;
  }
  CHECK(joined == big);
  CHECK(q.empty());
  q.push(FrameType::Text, 4, "x");
  q.clear();
  CHECK(q.empty());
  CHECK(q.queued_bytes() == 0);
  CHECK_FALSE(next(q, 100));
}
