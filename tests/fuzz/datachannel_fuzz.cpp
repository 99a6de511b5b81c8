// libFuzzer target over everything that reads DataChannel bytes from a peer: parse_frame, the
// Reassembler, and DataCores. Any crash, sanitizer report, runaway output or broken invariant
// is a bug. Run by tools/test.sh for a bounded time, seeded by datachannel_fuzz_seeds (this
// file built with CHORUS_DC_SEEDS_MAIN), which writes a few valid scripts.
//
// The input is a script. Its first byte picks the mode:
//   even: one DataCore ("me", peer "P") receives the script's frames on channels 0-2, with app
//         sends, file transfers, glue inputs and timeouts in between; each message frame also
//         goes through a standalone Reassembler whose limits are checked after every chunk.
//   odd:  two DataCores back to back with app traffic both ways; the script also corrupts,
//         drops, duplicates frames in transit and closes channels. When it did none of that,
//         every message and file must arrive intact (files verified on both sides).
// Records: one op byte, then its arguments (see `run_single` and `run_pair`).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "datachannel/data_core.hpp"
#include "datachannel/frame.hpp"
#include "datachannel/reassembler.hpp"
#include "common/sha256.hpp"

using namespace chorus::datachannel;
using chorus::Sha256;
using chorus::Json;

namespace {

#define CHECK_OR_ABORT(cond) \
  do {                       \
    if (!(cond)) std::abort(); \
  } while (0)

struct Reader {
  std::string_view in;
  bool empty() const { return in.empty(); }
  std::uint8_t u8() {
    if (in.empty()) return 0;
    const auto v = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    return v;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }
  std::string_view bytes(std::size_t n) {
    n = std::min(n, in.size());
    auto v = in.substr(0, n);
    in.remove_prefix(n);
    return v;
  }
};

// Deterministic file contents, by position: a 251-byte pattern per seed, copied in blocks
// (a per-byte loop would be traced compare by compare and slow the fuzzer down).
std::string file_bytes(std::uint32_t seed, std::uint64_t offset, std::uint64_t length) {
  constexpr std::size_t kPeriod = 251, kBlock = 4096;
  static std::map<std::uint32_t, std::string> patterns;  // seeds are op bytes: at most 256
  std::string& pattern = patterns[seed];
  if (pattern.empty()) {
    pattern.assign(kBlock + kPeriod, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < kPeriod; ++i) {
      x = x * 1103515245u + 12345u;
      pattern[i] = static_cast<char>(x >> 24);
    }
    for (std::size_t i = kPeriod; i < pattern.size(); ++i) pattern[i] = pattern[i - kPeriod];
  }
  std::string s;
  s.reserve(static_cast<std::size_t>(length));
  std::uint64_t at = offset;
  while (s.size() < length) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, length - s.size()));
    s.append(pattern, static_cast<std::size_t>(at % kPeriod), n);
    at += n;
  }
  return s;
}

// Small limits and frames: the fuzzer should spend its time in logic (many frames, windows,
// reads), not in copying and hashing megabytes.
constexpr double kMaxMessageSize = 2048;  // sctp.maxMessageSize the cores are told
DataConfig fuzz_config() {
  DataConfig c;
  for (auto& r : c.receive) {
    r.max_message_bytes = 64 << 10;
    r.max_partial_messages = 8;
    r.max_partial_bytes = 128 << 10;
  }
  c.receive[1].partial_timeout_ms = 1000;
  for (auto& q : c.queue) {
    q.max_message_bytes = 64 << 10;
    q.max_queued_messages = 64;
    q.max_queued_bytes = 256 << 10;
    q.max_active = 4;
    q.max_active_bytes = 128 << 10;
  }
  c.file_read_bytes = 1 << 10;
  c.file_read_ahead = 2 << 10;
  c.receive_window = 4 << 10;
  c.max_transfers = 4;
  c.progress_interval_ms = 0;
  return c;
}

constexpr std::size_t kMaxOutputsPerDrain = 100000;

// ---- mode 1: one core, raw frames from the peer ------------------------------------------------

struct Single {
  DataCore core{fuzz_config()};
  std::map<std::uint32_t, std::uint32_t> seeds;  // our transfers
  double now = 0;

  // Carries out the outputs; returns how many were not `send` actions (and counts the sends).
  std::size_t drain(std::size_t* sends = nullptr) {
    std::size_t n = 0, other = 0;
    while (auto o = core.poll(now)) {
      CHECK_OR_ABORT(++n < kMaxOutputsPerDrain);
      const Json& info = o->info;
      if (info.contains("action")) {
        const std::string action = info["action"];
        if (action == "send") {
          const int ch = info["channel"];
          CHECK_OR_ABORT(!std::holds_alternative<FrameError>(parse_frame(o->bytes)));
          CHECK_OR_ABORT(o->bytes.size() <= 64 * 1024);  // maxMessageSize, reopened at most u16
          core.set_buffered("P", ch, 0);
          if (sends) ++*sends;
          continue;
        }
        ++other;
        if (action == "read-file") {
          const auto id = info["transfer"].get<std::uint32_t>();
          const auto offset = info["offset"].get<std::uint64_t>();
          const auto length = info["length"].get<std::uint64_t>();
          CHECK_OR_ABORT(length > 0 && length <= fuzz_config().file_read_bytes);
          core.file_data("P", id, offset, file_bytes(seeds[id], offset, length), now);
        }
        continue;
      }
      ++other;
      CHECK_OR_ABORT(info.contains("event"));
      if (info["event"] == "file-data") CHECK_OR_ABORT(!o->bytes.empty());
    }
    return other;
  }

  void open_all() {
    for (int ch = 0; ch < kChannels; ++ch) {
      core.handle({{"type", "channel-open"}, {"peer", "P"}, {"channel", ch}, {"maxMessageSize", kMaxMessageSize}}, now);
    }
    drain();
  }
};

void run_single(Reader r) {
  Single s;
  s.open_all();
  Reassembler reassembler(fuzz_config().receive[1]);
  const ReassemblyLimits limits = fuzz_config().receive[1];
  while (!r.empty()) {
    const std::uint8_t op = r.u8();
    switch ((op & 0x0f) % 12) {
      case 0: case 1: case 2: case 3: case 4: {  // a frame from the peer on channel (op >> 4) % 3
        const int ch = (op >> 4) % 3;
        const std::string frame(r.bytes(r.u16() % 4096));
        auto parsed = parse_frame(frame);
        if (auto* f = std::get_if<Frame>(&parsed); f && is_message(f->type)) {
          auto res = reassembler.add(*f, s.now);
          CHECK_OR_ABORT(!(res.message && res.error));
          if (res.message) CHECK_OR_ABORT(res.message->data.size() == f->total() && res.message->type == f->type);
          CHECK_OR_ABORT(reassembler.partial_messages() <= limits.max_partial_messages);
          CHECK_OR_ABORT(reassembler.partial_bytes() <= limits.max_partial_bytes);
        }
        s.core.receive("P", ch, frame, s.now);
        // One frame makes a few events or actions, plus, per frame of ours it lets go (a window
        // grant), a progress event and the reads that filled it (1 KiB reads, 2 KiB frames).
        std::size_t sends = 0;
        CHECK_OR_ABORT(s.drain(&sends) <= 4 + 4 * sends);
        break;
      }
      case 5: {  // app message
        const auto type = static_cast<FrameType>(1 + (op >> 4) % 3);
        const std::size_t len = r.u16();
        (void)s.core.send("P", type, type == FrameType::Json ? "{\"k\":[1,2]}" : std::string(len, 'm'), op & 0x80);
        s.drain();
        break;
      }
      case 6: {  // app file
        const std::uint64_t size = r.u16();
        auto res = s.core.send_file("P", size, "f", "x/y", s.now);
        if (!res.error) s.seeds[res.id] = op;
        s.drain();
        break;
      }
      case 7:  // time passes
        s.now += r.u8() * 20.0;
        s.core.handle_timeout(s.now);
        if (auto t = s.core.next_timeout()) CHECK_OR_ABORT(*t > s.now);
        reassembler.expire(s.now);
        s.drain();
        break;
      case 8:  // the app wrote some of an incoming file
        s.core.handle({{"type", "file-written"}, {"peer", "P"}, {"transfer", 1 + r.u8() % 8}, {"bytes", r.u16() * 64.0}}, s.now);
        s.drain();
        break;
      case 9:  // the app cancels
        s.core.handle({{"type", "cancel-transfer"}, {"peer", "P"}, {"transfer", 1 + r.u8() % 8},
                       {"direction", (op & 0x10) ? "send" : "receive"}}, s.now);
        s.drain();
        break;
      case 10: {  // a channel closes, and maybe opens again
        const int ch = (op >> 4) % 3;
        s.core.handle({{"type", "channel-closed"}, {"peer", "P"}, {"channel", ch}}, s.now);
        if (op & 0x80) {
          s.core.handle({{"type", "channel-open"}, {"peer", "P"}, {"channel", ch}, {"maxMessageSize", r.u16()}}, s.now);
        }
        s.drain();
        break;
      }
      case 11: {  // raw glue input, or a bufferedAmount report
        if (op & 0x10) {
          s.core.handle_text(r.bytes(r.u8()), s.now);
        } else {
          s.core.set_buffered("P", (op >> 5) % 3, r.u16() * 1024.0);
        }
        s.drain();
        break;
      }
    }
  }
  s.core.handle({{"type", "peer-removed"}, {"peer", "P"}}, s.now);
  s.drain();
  CHECK_OR_ABORT(s.core.peer_count() == 0);
}

// ---- mode 2: two cores back to back ------------------------------------------------------------

struct Node {
  std::string name, peer;
  std::unique_ptr<DataCore> core;
  std::deque<std::string> wire[kChannels];
  std::map<std::uint32_t, std::uint32_t> seeds;
  std::map<std::uint32_t, std::uint64_t> sizes;              // our transfers
  std::map<std::uint32_t, std::pair<Sha256, std::uint64_t>> incoming;
  std::vector<std::string> messages;
  std::size_t completed_send = 0, completed_receive = 0, ended = 0;
};

struct Pair {
  Node a, b;
  double now = 0;
  bool disturbed = false;  // frames were changed, dropped or doubled, or channels closed
  std::size_t corrupt_in = 0, drop_in = 0, dup_in = 0;  // act on the n-th frame from now
  std::uint8_t corrupt_xor = 1;
  std::size_t corrupt_at = 0;
  std::vector<std::string> sent_messages[2];

  Pair() {
    a.name = "A", a.peer = "B", b.name = "B", b.peer = "A";
    a.core = std::make_unique<DataCore>(fuzz_config());
    b.core = std::make_unique<DataCore>(fuzz_config());
    for (Node* n : {&a, &b}) open(*n, true);
  }

  void open(Node& n, bool bulk) {
    for (int ch = 0; ch < (bulk ? 3 : 2); ++ch) {
      n.core->handle({{"type", "channel-open"}, {"peer", n.peer}, {"channel", ch}, {"maxMessageSize", kMaxMessageSize}}, now);
    }
  }

  std::size_t pump(Node& n) {
    std::size_t outputs = 0;
    while (auto o = n.core->poll(now)) {
      CHECK_OR_ABORT(++outputs < kMaxOutputsPerDrain);
      const Json& info = o->info;
      if (info.contains("action")) {
        const std::string action = info["action"];
        if (action == "send") {
          const int ch = info["channel"];
          n.wire[ch].push_back(std::move(o->bytes));
          n.core->set_buffered(n.peer, ch, 0);
        } else if (action == "read-file") {
          const auto id = info["transfer"].get<std::uint32_t>();
          const auto offset = info["offset"].get<std::uint64_t>();
          const auto length = info["length"].get<std::uint64_t>();
          n.core->file_data(n.peer, id, offset, file_bytes(n.seeds[id], offset, length), now);
        }
        continue;
      }
      const std::string event = info["event"];
      if (event == "file-data") {
        auto& in = n.incoming[info["transfer"].get<std::uint32_t>()];
        CHECK_OR_ABORT(info["offset"].get<std::uint64_t>() == in.second);
        in.first.update(o->bytes);
        in.second += o->bytes.size();
        n.core->handle({{"type", "file-written"}, {"peer", n.peer}, {"transfer", info["transfer"]}, {"bytes", in.second}}, now);
      } else if (event == "message") {
        n.messages.push_back(std::move(o->bytes));
      } else if (event == "transfer-complete") {
        const auto id = info["transfer"].get<std::uint32_t>();
        if (info["direction"] == "receive") {
          auto& in = n.incoming[id];
          Sha256 copy = in.first;
          CHECK_OR_ABORT(info["sha256"] == Sha256::hex(copy.finish()));
          CHECK_OR_ABORT(info["size"] == in.second);
          ++n.completed_receive;
        } else {
          CHECK_OR_ABORT(info["verified"] == true);
          CHECK_OR_ABORT(info["size"] == n.sizes[id]);
          ++n.completed_send;
        }
        ++n.ended;
      } else if (event == "transfer-failed" || event == "transfer-cancelled") {
        ++n.ended;
      }
    }
    return outputs;
  }

  std::size_t deliver(Node& from, Node& to) {
    std::size_t frames = 0;
    for (int ch = 0; ch < kChannels; ++ch) {
      while (!from.wire[ch].empty()) {
        std::string frame = std::move(from.wire[ch].front());
        from.wire[ch].pop_front();
        ++frames;
        if (drop_in && --drop_in == 0) continue;
        if (corrupt_in && --corrupt_in == 0 && !frame.empty()) frame[corrupt_at % frame.size()] ^= corrupt_xor;
        to.core->receive(to.peer, ch, frame, now);
        if (dup_in && --dup_in == 0) to.core->receive(to.peer, ch, frame, now);
      }
      from.core->set_buffered(from.peer, ch, 0);  // the wire is empty again
    }
    return frames;
  }

  bool step() {
    now += 5;
    a.core->handle_timeout(now);
    b.core->handle_timeout(now);
    std::size_t moved = pump(a) + pump(b);
    moved += deliver(a, b) + deliver(b, a);
    return moved > 0;
  }

  void send(Node& n, Reader& r, std::uint8_t op) {
    const auto type = static_cast<FrameType>(1 + ((op >> 4) & 3) % 3);
    std::string data = type == FrameType::Json ? "[" + std::to_string(r.u16()) + "]" : file_bytes(op, 0, r.u16() % 12000);
    auto res = n.core->send(n.peer, type, data, true);
    if (!res.error) sent_messages[&n == &a ? 0 : 1].push_back(std::move(data));
  }

  void send_file(Node& n, Reader& r, std::uint8_t op) {
    const std::uint64_t size = r.u16() % 16000;
    auto res = n.core->send_file(n.peer, size, "f", "", now);
    if (res.error) return;
    n.seeds[res.id] = op;
    n.sizes[res.id] = size;
  }
};

void run_pair(Reader r) {
  Pair p;
  std::size_t files = 0;
  while (!r.empty()) {
    const std::uint8_t op = r.u8();
    Node& n = (op & 0x80) ? p.b : p.a;
    switch ((op & 0x0f) % 10) {
      case 0: p.send(n, r, op); break;
      case 1: {
        const std::size_t before = n.sizes.size();
        p.send_file(n, r, op);
        files += n.sizes.size() - before;
        break;
      }
      case 2: for (int i = r.u8() % 16; i >= 0; --i) p.step(); break;
      case 3:
        p.disturbed = true;
        p.corrupt_in = 1 + r.u8() % 8;
        p.corrupt_at = r.u16();
        p.corrupt_xor = r.u8() | 1;
        break;
      case 4: p.disturbed = true; p.drop_in = 1 + r.u8() % 8; break;
      case 5: p.disturbed = true; p.dup_in = 1 + r.u8() % 8; break;
      case 6:
        p.disturbed = true;
        n.core->handle({{"type", "cancel-transfer"}, {"peer", n.peer}, {"transfer", 1 + r.u8() % 8},
                        {"direction", (op & 0x10) ? "send" : "receive"}}, p.now);
        break;
      case 7: {  // a channel closes on both sides (frames in flight are lost), maybe reopens
        p.disturbed = true;
        const int ch = ((op >> 4) & 3) % 3;
        for (Node* x : {&p.a, &p.b}) {
          x->wire[ch].clear();
          x->core->handle({{"type", "channel-closed"}, {"peer", x->peer}, {"channel", ch}}, p.now);
          if (op & 0x40) x->core->handle({{"type", "channel-open"}, {"peer", x->peer}, {"channel", ch}, {"maxMessageSize", kMaxMessageSize}}, p.now);
        }
        break;
      }
      case 8: p.now += r.u8() * 10.0; break;
      case 9: n.core->set_buffered(n.peer, ((op >> 4) & 3) % 3, r.u16() * 256.0); break;
    }
  }
  // Settle: everything in flight arrives (bounded: the data is bounded).
  int idle = 0, steps = 0;
  while (idle < 3) {
    CHECK_OR_ABORT(++steps < 20000);
    idle = p.step() ? 0 : idle + 1;
  }
  if (!p.disturbed) {
    // Nothing went wrong on the way: all messages arrived (small ones may pass big ones), all
    // files completed and verified.
    for (int i = 0; i < 2; ++i) {
      auto got = (i == 0 ? p.b : p.a).messages;
      std::sort(got.begin(), got.end());
      std::sort(p.sent_messages[i].begin(), p.sent_messages[i].end());
      CHECK_OR_ABORT(got == p.sent_messages[i]);
    }
    CHECK_OR_ABORT(p.a.completed_send + p.b.completed_send == files);
    CHECK_OR_ABORT(p.a.completed_receive + p.b.completed_receive == files);
  }
  // Every transfer ended, one way or another, on both sides... unless its file-begin never
  // reached the peer; at least the sender's side always ends.
  for (Node* n : {&p.a, &p.b}) n->core->handle({{"type", "peer-removed"}, {"peer", n->peer}}, p.now);
  p.pump(p.a);
  p.pump(p.b);
  CHECK_OR_ABORT(p.a.ended + p.b.ended >= files);
}

}  // namespace

#ifndef CHORUS_DC_SEEDS_MAIN

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Reader r{std::string_view(reinterpret_cast<const char*>(data), size)};
  const std::uint8_t mode = r.u8();
  if (mode % 2 == 0) run_single(r);
  else run_pair(r);
  return 0;
}

#else  // A few valid scripts to start from: datachannel_fuzz_seeds <directory>

#include <fstream>

namespace {

struct Script {
  std::string s;
  Script& u8(std::uint8_t v) { s.push_back(static_cast<char>(v)); return *this; }
  Script& u16(std::uint16_t v) { return u8(v >> 8).u8(v & 0xff); }
  Script& frame(int ch, FrameType type, std::uint32_t id, std::uint64_t word, std::string_view payload,
                std::uint8_t flags = 0, ControlKind kind = ControlKind::Window) {
    const std::string bytes = encode_frame(Frame{type, flags, kind, id, word}, payload);
    u8(static_cast<std::uint8_t>(ch << 4)).u16(static_cast<std::uint16_t>(bytes.size()));
    s += bytes;
    return *this;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  std::vector<Script> seeds;
  {  // messages, whole and in chunks out of order, on channels 0 and 1
    Script x;
    x.u8(0).frame(0, FrameType::Text, 1, message_word(0, 5), "hello")
        .frame(0, FrameType::Json, 2, message_word(0, 7), "{\"a\":1}")
        .frame(1, FrameType::Binary, 3, message_word(4, 8), "5678")
        .frame(1, FrameType::Binary, 3, message_word(0, 8), "1234")
        .frame(0, FrameType::Text, 4, message_word(0, 10), "abc")
        .u8(7).u8(100);  // time passes
    seeds.push_back(x);
  }
  {  // a whole incoming file on the bulk channel, then a cancel of another
    const std::string content = "0123456789";
    Sha256 sha;
    sha.update(content);
    const auto digest = sha.finish();
    Script x;
    x.u8(0).frame(2, FrameType::FileBegin, 1, 10, "{\"name\":\"a.txt\",\"type\":\"text/plain\"}")
        .frame(2, FrameType::FileChunk, 1, 0, content.substr(0, 4))
        .frame(2, FrameType::FileChunk, 1, 4, content.substr(4))
        .frame(2, FrameType::FileEnd, 1, 10, std::string_view(reinterpret_cast<const char*>(digest.data()), 32))
        .u8(8).u8(0).u16(1)
        .frame(0, FrameType::FileBegin, 2, 100000, "{}")
        .frame(0, FrameType::FileCancel, 2, 0, "bye");
    seeds.push_back(x);
  }
  {  // our own file: the peer grants a window and acknowledges (our first id is 1)
    Script x;
    x.u8(0).u8(6).u16(800)  // an 800-byte file
        .frame(0, FrameType::Control, 1, 800, "", kReply, ControlKind::Window)
        .frame(0, FrameType::Control, 1, 800, "\x01", kReply, ControlKind::FileAck)
        .u8(5).u16(24000)   // a 24000-byte message
        .u8(11 | 0x10).u8(2).s += "{}";
    seeds.push_back(x);
  }
  {  // two cores: a text, json, files both ways, binary, then steps
    Script x;
    x.u8(1).u8(0x00).u16(100).u8(0x80 | 0x10).u16(5000).u8(0x01).u16(20000).u8(0x80 | 0x01).u16(300)
        .u8(0x20).u16(7).u8(0x02).u8(15).u8(0x02).u8(15);
    seeds.push_back(x);
  }
  {  // two cores: a file, a corrupted frame, the bulk channel closing and reopening, a message
    Script x;
    x.u8(1).u8(0x01).u16(5000).u8(0x02).u8(3).u8(0x03).u8(2).u16(40).u8(0x10).u8(0x02).u8(4)
        .u8(0x07 | 0x40 | 0x20).u8(0x00).u16(9);
    seeds.push_back(x);
  }
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream out(dir + "/seed-" + std::to_string(i), std::ios::binary);
    out << seeds[i].s;
    if (!out) return 1;
  }
  return 0;
}

#endif
