// Two DataCores back to back (A's peer is "B" and B's peer is "A"): a small harness plays both
// glues, with or without the bulk channel (2) for file frames. It carries `send` actions to the
// other core's receive() through a per-channel wire whose
// undelivered bytes are the modelled bufferedAmount (drained `drain_bytes` per step and reported
// with set_buffered), answers `read-file` with deterministic file bytes and `file-data` with
// `file-written`, and records every event and frame.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "datachannel/data_core.hpp"
#include "common/sha256.hpp"

using namespace chorus::datachannel;
using chorus::Sha256;
using chorus::ErrorCode;
using chorus::Json;

namespace {

// Byte `i` of the test file with `seed`: a hash of the position, so any slice can be made alone.
std::string file_bytes(std::uint64_t seed, std::uint64_t offset, std::uint64_t length) {
  std::string s(static_cast<std::size_t>(length), '\0');
  for (std::uint64_t i = 0; i < length; ++i) {
    const std::uint64_t at = offset + i;
    std::uint64_t x = (at >> 3) * 0x9E3779B97F4A7C15ULL ^ (seed + 1) * 0xD1B54A32D192ED03ULL;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 29;
    s[i] = static_cast<char>(x >> (8 * (at & 7)));
  }
  return s;
}

std::string file_sha(std::uint64_t seed, std::uint64_t size) {
  Sha256 sha;
  for (std::uint64_t at = 0; at < size; at += 1 << 20) {
    sha.update(file_bytes(seed, at, std::min<std::uint64_t>(1 << 20, size - at)));
  }
  return Sha256::hex(sha.finish());
}

struct Event {
  Json info;
  std::string bytes;
  std::uint64_t seq;
};

struct FrameLog {
  std::uint64_t seq;
  FrameType type;
  std::uint32_t id;
  std::uint8_t flags;
  std::size_t size;
  int channel;
};

FrameLog describe(std::uint64_t seq, const std::string& bytes, int ch) {
  auto parsed = parse_frame(bytes);
  REQUIRE(std::holds_alternative<Frame>(parsed));  // the core only sends valid frames
  const Frame& f = std::get<Frame>(parsed);
  return {seq, f.type, f.id, f.flags, bytes.size(), ch};
}

struct Incoming {
  Sha256 sha;
  std::uint64_t bytes = 0;
};

struct Side {
  std::string name, peer;
  std::unique_ptr<DataCore> core;  // on the heap: its links point at its members
  std::deque<std::string> wire[kChannels];
  std::size_t in_flight[kChannels] = {0, 0, 0};
  std::vector<Event> events;
  std::vector<FrameLog> sent, received;
  std::map<std::uint32_t, std::uint64_t> seeds;  // outgoing transfer -> file seed
  std::map<std::uint32_t, Incoming> incoming;
  std::uint64_t read_bytes = 0;
  bool auto_write = true;
  bool answer_reads = true;
  std::deque<Json> held_reads;
  bool hold[kChannels] = {false, false, false};  // a held channel delivers nothing for now
};

struct Pair {
  DataConfig config;
  Side a, b;
  double now = 1000;
  double step_ms = 10;
  std::size_t drain_bytes = 1 << 20;  // per channel and step
  std::uint64_t seq = 0;
  // Sees (and may change) every frame in transit; false drops it.
  std::function<bool(Side& from, int ch, std::string& frame)> tamper;

  explicit Pair(bool bulk) : Pair(test_config(), bulk) {}
  explicit Pair(DataConfig c = test_config(), bool bulk = true, double max_message_size = 65536) : config(c) {
    a.name = "A";
    a.peer = "B";
    b.name = "B";
    b.peer = "A";
    a.core = std::make_unique<DataCore>(config);
    b.core = std::make_unique<DataCore>(config);
    for (Side* s : {&a, &b}) {
      for (int ch = 0; ch < (bulk ? 3 : 2); ++ch) {
        input(*s, {{"type", "channel-open"}, {"peer", s->peer}, {"channel", ch}, {"maxMessageSize", max_message_size}});
      }
    }
    run();
  }

  static DataConfig test_config() {
    DataConfig c;
    c.progress_interval_ms = 20;
    return c;
  }

  Side& other(Side& s) { return &s == &a ? b : a; }
  void input(Side& s, const Json& j) { s.core->handle(j, now); }

  void close_channel(int ch) {
    for (Side* s : {&a, &b}) {
      s->wire[ch].clear();  // lost with the channel
      s->in_flight[ch] = 0;
      input(*s, {{"type", "channel-closed"}, {"peer", s->peer}, {"channel", ch}});
    }
  }

  std::uint32_t send_file(Side& s, std::uint64_t size, std::uint64_t seed, std::string name = "f.bin",
                          std::string mime = "application/octet-stream") {
    auto r = s.core->send_file(s.peer, size, name, mime, now);
    REQUIRE_FALSE(r.error);
    REQUIRE(r.id != 0);
    s.seeds[r.id] = seed;
    return r.id;
  }

  std::uint32_t send(Side& s, FrameType type, std::string data, bool reliable = true) {
    auto r = s.core->send(s.peer, type, std::move(data), reliable);
    REQUIRE_FALSE(r.error);
    return r.id;
  }

  void answer_read(Side& s, const Json& info) {
    const auto id = info["transfer"].get<std::uint32_t>();
    const auto offset = info["offset"].get<std::uint64_t>();
    const auto length = info["length"].get<std::uint64_t>();
    REQUIRE(length <= config.file_read_bytes);
    s.read_bytes += length;
    auto seed = s.seeds.find(id);
    REQUIRE(seed != s.seeds.end());
    s.core->file_data(s.peer, id, offset, file_bytes(seed->second, offset, length), now);
  }

  // Carries out every output the core has now; returns how many there were.
  std::size_t pump(Side& s) {
    std::size_t n = 0;
    while (auto o = s.core->poll(now)) {
      REQUIRE(++n < 1000000);
      const Json& info = o->info;
      if (info.contains("action")) {
        const std::string action = info["action"];
        REQUIRE(info["peer"] == s.peer);
        if (action == "send") {
          const int ch = info["channel"];
          s.sent.push_back(describe(++seq, o->bytes, ch));
          REQUIRE(o->bytes.size() <= 65536);
          s.in_flight[ch] += o->bytes.size();
          s.wire[ch].push_back(std::move(o->bytes));
          s.core->set_buffered(s.peer, ch, static_cast<double>(s.in_flight[ch]));
        } else if (action == "read-file") {
          if (s.answer_reads) answer_read(s, info);
          else s.held_reads.push_back(info);
        } else {
          REQUIRE(action == "configure-channel");
        }
        continue;
      }
      REQUIRE(info.contains("event"));
      if (info["event"] == "file-data") {
        const auto id = info["transfer"].get<std::uint32_t>();
        Incoming& in = s.incoming[id];
        REQUIRE(info["offset"].get<std::uint64_t>() == in.bytes);  // in order, no gaps
        REQUIRE_FALSE(o->bytes.empty());
        in.sha.update(o->bytes);
        in.bytes += o->bytes.size();
        if (s.auto_write) input(s, {{"type", "file-written"}, {"peer", s.peer}, {"transfer", id}, {"bytes", in.bytes}});
        s.events.push_back({info, {}, ++seq});
        continue;
      }
      s.events.push_back({info, std::move(o->bytes), ++seq});
    }
    return n;
  }

  std::size_t deliver(Side& from) {
    Side& to = other(from);
    std::size_t frames = 0;
    for (int ch = 0; ch < kChannels; ++ch) {
      std::size_t budget = from.hold[ch] ? 0 : drain_bytes;
      while (!from.wire[ch].empty() && budget > 0) {
        std::string frame = std::move(from.wire[ch].front());
        from.wire[ch].pop_front();
        from.in_flight[ch] -= frame.size();
        budget -= std::min(budget, frame.size());
        ++frames;
        if (tamper && !tamper(from, ch, frame)) continue;
        auto parsed = parse_frame(frame);
        if (auto* f = std::get_if<Frame>(&parsed)) to.received.push_back({++seq, f->type, f->id, f->flags, frame.size(), ch});
        to.core->receive(to.peer, ch, frame, now);
      }
      from.core->set_buffered(from.peer, ch, static_cast<double>(from.in_flight[ch]));
    }
    return frames;
  }

  // One round: time passes, both glues act, the wires move. False when nothing happened.
  bool step() {
    now += step_ms;
    a.core->handle_timeout(now);
    b.core->handle_timeout(now);
    std::size_t moved = pump(a) + pump(b);
    moved += deliver(a) + deliver(b);
    return moved > 0;
  }

  // Runs until nothing moves (twice in a row); returns the steps taken.
  int run(int max_steps = 20000) {
    int idle = 0, steps = 0;
    while (idle < 2) {
      REQUIRE(++steps < max_steps);
      idle = step() ? 0 : idle + 1;
    }
    return steps;
  }

  template <typename Pred>
  void run_until(Pred pred, int max_steps = 20000) {
    for (int steps = 0; !pred(); ++steps) {
      REQUIRE(steps < max_steps);
      step();
    }
  }
};

std::vector<Event> events(const Side& s, const std::string& name) {
  std::vector<Event> out;
  for (const auto& e : s.events) {
    if (e.info["event"] == name) out.push_back(e);
  }
  return out;
}

// Transfer ids are per sender: each side's own transfers and the peer's may share a number.
std::vector<Event> transfer_events(const Side& s, const std::string& name, std::uint32_t id, const char* direction) {
  std::vector<Event> out;
  for (const auto& e : events(s, name)) {
    if (e.info["transfer"] == id && e.info["direction"] == direction) out.push_back(e);
  }
  return out;
}

// The single final event of a transfer on one side (complete, cancelled or failed).
Event final_event(const Side& s, std::uint32_t id, const char* direction) {
  std::vector<Event> finals;
  for (const char* name : {"transfer-complete", "transfer-cancelled", "transfer-failed"}) {
    for (auto& e : transfer_events(s, name, id, direction)) finals.push_back(e);
  }
  INFO(s.name << " transfer " << id << " " << direction);
  REQUIRE(finals.size() == 1);
  return finals[0];
}

std::size_t count_frames(const std::vector<FrameLog>& log, FrameType type, std::uint32_t id = 0) {
  std::size_t n = 0;
  for (const auto& f : log) n += f.type == type && (id == 0 || f.id == id);
  return n;
}

std::uint64_t chunk_bytes(const std::vector<FrameLog>& log, std::uint32_t id) {
  std::uint64_t n = 0;
  for (const auto& f : log) {
    if (f.type == FrameType::FileChunk && f.id == id) n += f.size - kHeaderSize;
  }
  return n;
}

void check_progress(const Side& s, std::uint32_t id, const char* direction, std::uint64_t total) {
  INFO(s.name << " progress of transfer " << id);
  const auto progress = transfer_events(s, "transfer-progress", id, direction);
  REQUIRE_FALSE(progress.empty());
  std::uint64_t last = 0;
  for (const auto& p : progress) {
    CHECK(p.info["total"] == total);
    const auto bytes = p.info["bytes"].get<std::uint64_t>();
    CHECK(bytes >= last);
    CHECK(bytes <= total);
    last = bytes;
  }
  CHECK(last == total);
  // The last progress event comes before the completion.
  CHECK(progress.back().seq < final_event(s, id, direction).seq);
}

// Completed transfer of `size` bytes with `seed` from `from` to `to`, checked on both sides.
void check_complete(const Side& from, const Side& to, std::uint32_t id, std::uint64_t size, std::uint64_t seed) {
  INFO("transfer " << id << " of " << size << " bytes from " << from.name);
  const std::string expected = file_sha(seed, size);
  const Event sent = final_event(from, id, "send");
  const Event got = final_event(to, id, "receive");
  REQUIRE(sent.info["event"] == "transfer-complete");
  REQUIRE(got.info["event"] == "transfer-complete");
  CHECK(sent.info["direction"] == "send");
  CHECK(sent.info["verified"] == true);
  CHECK(sent.info["sha256"] == expected);
  CHECK(sent.info["size"] == size);
  CHECK(got.info["direction"] == "receive");
  CHECK(got.info["sha256"] == expected);
  CHECK(got.info["size"] == size);
  // What the receiving app was given, hashed independently.
  auto in = to.incoming.find(id);
  const std::uint64_t received = in == to.incoming.end() ? 0 : in->second.bytes;
  CHECK(received == size);
  if (in != to.incoming.end()) {
    Sha256 copy = in->second.sha;
    CHECK(Sha256::hex(copy.finish()) == expected);
  }
  check_progress(from, id, "send", size);
  check_progress(to, id, "receive", size);
}

void check_no_errors(const Side& s) {
  for (const auto& e : events(s, "error")) FAIL_CHECK(s.name << " error: " << e.info.dump());
  for (const auto& e : events(s, "transfer-failed")) FAIL_CHECK(s.name << " failed: " << e.info.dump());
}

std::string big_payload(std::size_t n) { return file_bytes(99, 0, n); }

}  // namespace

TEST_CASE("dc core: text, json and binary messages arrive whole with their kind", "[datachannel][core]") {
  Pair p;
  const std::string binary("\x00\x01\xff\x00tail", 8);
  const std::string long_text(200000, 'L');  // several chunks
  p.send(p.a, FrameType::Text, "héllo");
  p.send(p.a, FrameType::Json, R"({"n":1,"s":"x"})");
  p.send(p.a, FrameType::Binary, binary);
  p.send(p.a, FrameType::Text, "");
  p.send(p.a, FrameType::Text, long_text);
  p.send(p.a, FrameType::Text, "unreliable", false);
  p.send(p.b, FrameType::Binary, "back", true);
  p.run();
  const auto got = events(p.b, "message");
  REQUIRE(got.size() == 6);
  std::map<std::string, std::pair<std::string, bool>> by_data;
  for (const auto& e : got) {
    CHECK(e.info["peer"] == "A");
    by_data[e.bytes] = {e.info["kind"], e.info["reliable"]};
  }
  CHECK(by_data["héllo"] == std::make_pair(std::string("text"), true));
  CHECK(by_data[R"({"n":1,"s":"x"})"] == std::make_pair(std::string("json"), true));
  CHECK(by_data[binary] == std::make_pair(std::string("binary"), true));
  CHECK(by_data[""] == std::make_pair(std::string("text"), true));
  CHECK(by_data[long_text] == std::make_pair(std::string("text"), true));
  CHECK(by_data["unreliable"] == std::make_pair(std::string("text"), false));
  // Single-chunk messages on one channel keep their order.
  CHECK(got[0].bytes == "héllo");
  CHECK(got[1].info["kind"] == "json");
  const auto back = events(p.a, "message");
  REQUIRE(back.size() == 1);
  CHECK(back[0].bytes == "back");
  CHECK(back[0].info["kind"] == "binary");
  CHECK(back[0].info["peer"] == "B");
  check_no_errors(p.a);
  check_no_errors(p.b);
  // A json message that does not parse is dropped at the receiver with an error; the next arrives.
  p.send(p.a, FrameType::Json, "{not json");
  p.send(p.a, FrameType::Json, "[1]");
  p.run();
  const auto errors = events(p.b, "error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].info["code"] == "bad-frame");
  CHECK(events(p.b, "message").back().bytes == "[1]");
}

TEST_CASE("dc core: a 5 MiB message does not hold back messages sent after it", "[datachannel][core]") {
  Pair p;
  p.drain_bytes = 256 << 10;
  const std::string big = big_payload(5 << 20);
  p.send(p.a, FrameType::Binary, big);
  p.step();
  p.step();
  const std::size_t sent_before = p.a.sent.size();
  for (int i = 0; i < 3; ++i) p.send(p.a, FrameType::Text, "small " + std::to_string(i));
  p.send(p.a, FrameType::Json, R"({"after":"big"})", false);
  p.run();
  const auto got = events(p.b, "message");
  REQUIRE(got.size() == 5);
  CHECK(got.back().bytes.size() == big.size());
  CHECK(got.back().bytes == big);
  CHECK(got.back().info["kind"] == "binary");
  std::vector<std::string> reliable;
  for (std::size_t i = 0; i + 1 < got.size(); ++i) {
    if (got[i].info["reliable"] == true) reliable.push_back(got[i].bytes);
  }
  CHECK(reliable == std::vector<std::string>{"small 0", "small 1", "small 2"});
  // The core framed them at once, ahead of the rest of the big message.
  REQUIRE(p.a.sent.size() > sent_before + 4);
  std::size_t small_frames = 0;
  for (std::size_t i = sent_before; i < sent_before + 4; ++i) {
    small_frames += p.a.sent[i].type == FrameType::Text || p.a.sent[i].type == FrameType::Json;
  }
  CHECK(small_frames == 4);
  CHECK(count_frames(p.a.sent, FrameType::Binary) == ((5u << 20) + 65519) / 65520);
  check_no_errors(p.b);
}

TEST_CASE("dc core: files arrive whole, in order, with a verified SHA-256", "[datachannel][core][file]") {
  const std::uint64_t one_chunk = 65536 - kHeaderSize;
  const std::uint64_t size = GENERATE_COPY(values<std::uint64_t>(
      {0, 1, one_chunk, one_chunk + 1, 3 * (1 << 20) + 12345, 2 * one_chunk}));
  const bool bulk = GENERATE(true, false);
  INFO("file of " << size << " bytes " << (bulk ? "on the bulk channel" : "on channel 0"));
  Pair p(bulk);
  const std::uint32_t id = p.send_file(p.a, size, 42, "report.pdf", "application/pdf");
  p.run();
  const auto incoming = transfer_events(p.b, "transfer-incoming", id, "receive");
  REQUIRE(incoming.size() == 1);
  CHECK(incoming[0].info["name"] == "report.pdf");
  CHECK(incoming[0].info["type"] == "application/pdf");
  CHECK(incoming[0].info["size"] == size);
  CHECK(incoming[0].info["direction"] == "receive");
  check_complete(p.a, p.b, id, size, 42);
  check_no_errors(p.a);
  check_no_errors(p.b);
  CHECK(p.a.read_bytes == size);  // every byte read once
  // Full chunks, except where a window edge (not a multiple of the chunk) cuts one short.
  const std::size_t chunks = count_frames(p.a.sent, FrameType::FileChunk, id);
  const std::size_t full = (size + one_chunk - 1) / one_chunk;
  CHECK(chunks >= full);
  CHECK(chunks <= full + size / (DataConfig{}.receive_window / 2) + 1);
  CHECK(count_frames(p.a.sent, FrameType::FileBegin, id) == 1);
  CHECK(count_frames(p.a.sent, FrameType::FileEnd, id) == 1);
  // File frames on the bulk channel when it is open; control frames always on channel 0.
  for (const auto& f : p.a.sent) {
    if (f.type >= FrameType::FileBegin && f.type <= FrameType::FileEnd) CHECK(f.channel == (bulk ? 2 : 0));
  }
  for (const auto& f : p.b.sent) CHECK(f.channel == 0);
}

TEST_CASE("dc core: files both ways and side by side share the channel", "[datachannel][core][file]") {
  Pair p;
  p.drain_bytes = 512 << 10;
  const std::uint32_t a1 = p.send_file(p.a, 2 << 20, 1);
  const std::uint32_t a2 = p.send_file(p.a, (1 << 20) + 7, 2);
  const std::uint32_t b1 = p.send_file(p.b, 1500000, 3);
  p.send(p.a, FrameType::Text, "while the files go");
  p.run();
  check_complete(p.a, p.b, a1, 2 << 20, 1);
  check_complete(p.a, p.b, a2, (1 << 20) + 7, 2);
  check_complete(p.b, p.a, b1, 1500000, 3);
  check_no_errors(p.a);
  check_no_errors(p.b);
  REQUIRE(events(p.b, "message").size() == 1);
  // Round robin: the second file's data starts before the first one's ends.
  std::uint64_t first_a2 = 0, last_a1 = 0;
  for (const auto& f : p.a.sent) {
    if (f.type != FrameType::FileChunk) continue;
    if (f.id == a1) last_a1 = f.seq;
    if (f.id == a2 && first_a2 == 0) first_a2 = f.seq;
  }
  CHECK(first_a2 < last_a1);
}

TEST_CASE("dc core: the receiver cancels a transfer", "[datachannel][core][file]") {
  Pair p;
  p.drain_bytes = 256 << 10;
  const std::uint32_t id = p.send_file(p.a, 8 << 20, 5);
  p.run_until([&] { return p.b.incoming[id].bytes >= (1 << 20); });
  p.input(p.b, {{"type", "cancel-transfer"}, {"peer", "A"}, {"transfer", id}, {"direction", "receive"},
                {"reason", "not now"}});
  p.run();
  const Event mine = final_event(p.b, id, "receive"), theirs = final_event(p.a, id, "send");
  CHECK(mine.info["event"] == "transfer-cancelled");
  CHECK(mine.info["by"] == "local");
  CHECK(theirs.info["event"] == "transfer-cancelled");
  CHECK(theirs.info["by"] == "remote");
  CHECK(theirs.info["reason"] == "not now");
  // No file chunk left A after it read the cancel; those in flight were dropped quietly by B.
  std::uint64_t cancel_seen = 0;
  for (const auto& f : p.a.received) {
    if (f.type == FrameType::FileCancel && f.id == id) cancel_seen = f.seq;
  }
  REQUIRE(cancel_seen > 0);
  for (const auto& f : p.a.sent) {
    if (f.id == id) CHECK(f.seq < cancel_seen);
  }
  CHECK(chunk_bytes(p.a.sent, id) < (8u << 20));
  check_no_errors(p.a);
  check_no_errors(p.b);
  // Cancelling again, or a transfer that never was, does nothing.
  p.input(p.b, {{"type", "cancel-transfer"}, {"peer", "A"}, {"transfer", id}, {"direction", "receive"}});
  p.input(p.a, {{"type", "cancel-transfer"}, {"peer", "B"}, {"transfer", 777}, {"direction", "send"}});
  p.run();
  CHECK(events(p.a, "transfer-cancelled").size() == 1);
  CHECK(events(p.b, "transfer-cancelled").size() == 1);
  check_no_errors(p.a);
  check_no_errors(p.b);
  // The channel is still good for files.
  const std::uint32_t next = p.send_file(p.a, 100000, 6);
  p.run();
  check_complete(p.a, p.b, next, 100000, 6);
}

TEST_CASE("dc core: the sender cancels a transfer, even with a read in flight", "[datachannel][core][file]") {
  Pair p;
  p.drain_bytes = 256 << 10;
  const std::uint32_t id = p.send_file(p.a, 8 << 20, 7);
  p.run_until([&] { return p.b.incoming[id].bytes >= (1 << 20); });
  p.a.answer_reads = false;
  p.run_until([&] { return !p.a.held_reads.empty(); });
  const std::size_t sent_before = p.a.sent.size();
  p.input(p.a, {{"type", "cancel-transfer"}, {"peer", "B"}, {"transfer", id}, {"direction", "send"},
                {"reason", "oops"}});
  // The read comes back after the cancel: ignored.
  for (const auto& r : p.a.held_reads) p.answer_read(p.a, r);
  p.a.held_reads.clear();
  p.a.answer_reads = true;
  p.run();
  const Event mine = final_event(p.a, id, "send"), theirs = final_event(p.b, id, "receive");
  CHECK(mine.info["event"] == "transfer-cancelled");
  CHECK(mine.info["by"] == "local");
  CHECK(theirs.info["event"] == "transfer-cancelled");
  CHECK(theirs.info["by"] == "remote");
  CHECK(theirs.info["reason"] == "oops");
  for (std::size_t i = sent_before; i < p.a.sent.size(); ++i) {
    CHECK(p.a.sent[i].type == FrameType::FileCancel);
    CHECK(p.a.sent[i].flags == 0);
  }
  CHECK(events(p.b, "transfer-complete").empty());
  check_no_errors(p.a);
  check_no_errors(p.b);
}

TEST_CASE("dc core: flow control holds the sender at the receiver's window", "[datachannel][core][file]") {
  DataConfig c = Pair::test_config();
  c.receive_window = 256 << 10;
  c.file_read_bytes = 64 << 10;
  c.file_read_ahead = 128 << 10;
  Pair p(c);
  p.b.auto_write = false;  // the receiving app writes nothing yet
  const std::uint64_t size = 1 << 20;
  const std::uint32_t id = p.send_file(p.a, size, 8);
  p.run();
  CHECK(chunk_bytes(p.a.sent, id) == c.receive_window);
  CHECK(p.b.incoming[id].bytes == c.receive_window);
  // Memory stays bounded at the sender: it read no more than the window plus its read-ahead.
  CHECK(p.a.read_bytes <= c.receive_window + c.file_read_ahead + c.file_read_bytes);
  CHECK(events(p.a, "transfer-complete").empty());
  // Writing less than half a window more does not re-grant (no chatter per write)...
  p.input(p.b, {{"type", "file-written"}, {"peer", "A"}, {"transfer", id}, {"bytes", 100 << 10}});
  p.run();
  CHECK(chunk_bytes(p.a.sent, id) == c.receive_window);
  // ...half a window or more does, up to written + window.
  p.input(p.b, {{"type", "file-written"}, {"peer", "A"}, {"transfer", id}, {"bytes", 256 << 10}});
  p.run();
  CHECK(chunk_bytes(p.a.sent, id) == 2 * c.receive_window);
  CHECK(p.a.read_bytes <= 2 * c.receive_window + c.file_read_ahead + c.file_read_bytes);
  // Written bytes beyond what arrived count only as far as it arrived.
  p.input(p.b, {{"type", "file-written"}, {"peer", "A"}, {"transfer", id}, {"bytes", 1e15}});
  p.run();
  CHECK(chunk_bytes(p.a.sent, id) == 3 * c.receive_window);
  // The app catches up: the rest flows and the file completes.
  p.b.auto_write = true;
  p.input(p.b, {{"type", "file-written"}, {"peer", "A"}, {"transfer", id}, {"bytes", p.b.incoming[id].bytes}});
  p.run();
  check_complete(p.a, p.b, id, size, 8);
  check_no_errors(p.a);
  check_no_errors(p.b);
}

TEST_CASE("dc core: a chat message overtakes a file being sent", "[datachannel][core][file]") {
  const bool bulk = GENERATE(true, false);
  INFO((bulk ? "file on the bulk channel" : "file on channel 0"));
  Pair p(bulk);
  p.drain_bytes = 64 << 10;  // the channel moves one frame per step
  const std::uint32_t id = p.send_file(p.a, 8 << 20, 9);
  p.run_until([&] { return p.b.incoming[id].bytes >= (1 << 20); });
  // The modelled bufferedAmount keeps the file's backlog near bulk_high_water.
  CHECK(p.a.in_flight[bulk ? 2 : 0] <= p.config.bulk_high_water + 65536);
  const std::size_t sent_before = p.a.sent.size(), received_before = p.b.received.size();
  p.send(p.a, FrameType::Text, "are you there?");
  p.run_until([&] { return !events(p.b, "message").empty(); }, 100);
  // Framed next, delivered behind at most what was already buffered (~1 MiB / 64 KiB frames).
  REQUIRE(p.a.sent.size() > sent_before);
  CHECK(p.a.sent[sent_before].type == FrameType::Text);
  // Frames that reached B on the chat's channel before it.
  std::size_t frames_ahead = 0;
  for (std::size_t i = received_before; i < p.b.received.size(); ++i) {
    if (p.b.received[i].channel == 0 && p.b.received[i].type != FrameType::Text) ++frames_ahead;
  }
  CHECK(frames_ahead <= (bulk ? 0 : p.config.bulk_high_water / 65520 + 2));
  CHECK(events(p.b, "transfer-complete").empty());  // it really was mid-file
  p.run();
  check_complete(p.a, p.b, id, 8 << 20, 9);
}

TEST_CASE("dc core: control frames go ahead of file data", "[datachannel][core][file]") {
  // B sends a big file to A while A sends one to B: B's window grants for A's transfer must
  // not wait behind B's own file data.
  const bool bulk = GENERATE(true, false);
  Pair p(bulk);
  p.drain_bytes = 64 << 10;
  const std::uint32_t from_b = p.send_file(p.b, 6 << 20, 10);
  p.run_until([&] { return p.a.incoming[from_b].bytes >= (512 << 10); });
  const std::uint32_t from_a = p.send_file(p.a, 300000, 11);
  p.run_until([&] { return !transfer_events(p.a, "transfer-complete", from_a, "send").empty(); }, 400);
  CHECK(transfer_events(p.a, "transfer-complete", from_b, "receive").empty());
  p.run();
  check_complete(p.a, p.b, from_a, 300000, 11);
  check_complete(p.b, p.a, from_b, 6 << 20, 10);
}

TEST_CASE("dc core: a closed channel fails transfers on both sides, messages restart", "[datachannel][core][file]") {
  const int closing = GENERATE(0, 2);
  INFO("closing channel " << closing);
  // Little buffering for messages, so that the big one is still being framed at the close (what
  // the browser had buffered is lost with the channel; only what the core still holds restarts).
  DataConfig c = Pair::test_config();
  c.message_high_water = 256 << 10;
  Pair p(c);
  p.drain_bytes = 128 << 10;
  const std::uint32_t ab = p.send_file(p.a, 4 << 20, 12);
  const std::uint32_t ba = p.send_file(p.b, 4 << 20, 13);
  const std::string big = big_payload(3 << 20);
  p.send(p.a, FrameType::Binary, big);
  // (B's file may not have data moving yet: A's window grant for it waits on channel 0 behind
  // the big message.)
  p.run_until([&] {
    return p.b.incoming[ab].bytes >= (256 << 10) && !transfer_events(p.a, "transfer-incoming", ba, "receive").empty();
  });
  REQUIRE(events(p.b, "message").empty());
  p.close_channel(closing);
  p.run();
  for (auto [side, id, dir] : {std::make_tuple(&p.a, ab, "send"), std::make_tuple(&p.b, ab, "receive"),
                               std::make_tuple(&p.b, ba, "send"), std::make_tuple(&p.a, ba, "receive")}) {
    const Event e = final_event(*side, id, dir);
    CHECK(e.info["event"] == "transfer-failed");
    CHECK(e.info["code"] == "transfer-failed");
  }
  if (closing == 0) {
    // A new file needs channel 0.
    auto closed = p.a.core->send_file("B", 10, "x", "", p.now);
    CHECK(closed.error == ErrorCode::NotConnected);
    // Messages wait for the channel and start again from their first byte.
    p.send(p.a, FrameType::Text, "sent while closed");
    for (Side* s : {&p.a, &p.b}) {
      p.input(*s, {{"type", "channel-open"}, {"peer", s->peer}, {"channel", 0}, {"maxMessageSize", 65536}});
    }
    p.run();
    const auto got = events(p.b, "message");
    REQUIRE(got.size() == 2);
    CHECK(got[0].bytes == "sent while closed");
    CHECK(got[1].bytes == big);
  } else {
    // The message on channel 0 went on; new files use channel 0 now.
    p.run();
    REQUIRE(events(p.b, "message").size() == 1);
    CHECK(events(p.b, "message")[0].bytes == big);
  }
  CHECK(events(p.b, "error").empty());
  CHECK(events(p.a, "error").empty());
  const std::size_t sent_before = p.a.sent.size();
  const std::uint32_t again = p.send_file(p.a, 200000, 14);
  p.run();
  check_complete(p.a, p.b, again, 200000, 14);
  for (std::size_t i = sent_before; i < p.a.sent.size(); ++i) CHECK(p.a.sent[i].channel == (closing == 2 ? 0 : 2));
}

TEST_CASE("dc core: peer-removed cancels every transfer and forgets the peer", "[datachannel][core][file]") {
  Pair p;
  p.drain_bytes = 128 << 10;
  const std::uint32_t ab = p.send_file(p.a, 4 << 20, 15);
  const std::uint32_t ba = p.send_file(p.b, 4 << 20, 16);
  p.run_until([&] { return p.b.incoming[ab].bytes > 0 && p.a.incoming[ba].bytes > 0; });
  p.input(p.a, {{"type", "peer-removed"}, {"peer", "B"}});
  CHECK(p.a.core->peer_count() == 0);
  p.pump(p.a);
  for (auto [id, dir] : {std::make_pair(ab, "send"), std::make_pair(ba, "receive")}) {
    const Event e = final_event(p.a, id, dir);
    CHECK(e.info["event"] == "transfer-cancelled");
    CHECK(e.info["by"] == "remote");
    CHECK(e.info["reason"] == "the peer left");
  }
  // Frames still arriving from B are ignored; nothing is sent to B any more.
  const std::size_t events_before = p.a.events.size(), sent_before = p.a.sent.size();
  for (int i = 0; i < 20; ++i) p.step();
  CHECK(p.a.events.size() == events_before);
  CHECK(p.a.sent.size() == sent_before);
  auto r = p.a.core->send_file("B", 10, "x", "", p.now);
  CHECK(r.error == ErrorCode::NotConnected);
  CHECK_FALSE(p.a.core->next_timeout());
}

TEST_CASE("dc core: a corrupted file chunk is an integrity mismatch on both sides", "[datachannel][core][file]") {
  Pair p;
  int chunks = 0;
  p.tamper = [&](Side& from, int, std::string& frame) {
    if (&from == &p.a && frame[1] == static_cast<char>(FrameType::FileChunk) && ++chunks == 3) {
      frame[kHeaderSize + 1000] ^= 0x20;
    }
    return true;
  };
  const std::uint32_t id = p.send_file(p.a, 1 << 20, 17);
  p.run();
  REQUIRE(chunks > 3);
  for (auto [s, dir] : {std::make_pair(&p.a, "send"), std::make_pair(&p.b, "receive")}) {
    const Event e = final_event(*s, id, dir);
    CHECK(e.info["event"] == "transfer-failed");
    CHECK(e.info["code"] == "integrity-mismatch");
  }
  CHECK(events(p.b, "transfer-complete").empty());
  CHECK(events(p.a, "transfer-complete").empty());
  // The link is fine afterwards.
  p.tamper = nullptr;
  const std::uint32_t next = p.send_file(p.a, 70000, 18);
  p.run();
  check_complete(p.a, p.b, next, 70000, 18);
}

TEST_CASE("dc core: a chunk past the size or the window fails only its transfer", "[datachannel][core][file]") {
  DataConfig c = Pair::test_config();
  c.receive_window = 64 << 10;
  const bool past_size = GENERATE(true, false);
  INFO((past_size ? "past the announced size" : "past the granted window"));
  Pair p(c);
  const std::uint64_t size = past_size ? 50000 : 200000;
  bool done = false;
  p.tamper = [&](Side& from, int, std::string& frame) {
    if (&from == &p.a && !done && frame[1] == static_cast<char>(FrameType::FileChunk)) {
      done = true;
      frame.append(past_size ? 1000 : 100, 'X');  // 50000 + 1000 > size; 65520 + 100 > 65536
    }
    return true;
  };
  const std::uint32_t id = p.send_file(p.a, size, 19);
  p.send(p.a, FrameType::Text, "before");
  p.run();
  REQUIRE(done);
  const Event mine = final_event(p.b, id, "receive"), theirs = final_event(p.a, id, "send");
  CHECK(mine.info["event"] == "transfer-failed");
  CHECK(mine.info["code"] == "bad-frame");
  CHECK(theirs.info["event"] == "transfer-cancelled");
  CHECK(theirs.info["by"] == "remote");
  CHECK(p.b.incoming[id].bytes == 0);  // the bad chunk was not handed to the app
  CHECK(events(p.b, "error").empty());  // the rest of the transfer in flight is dropped quietly
  CHECK(events(p.a, "error").empty());
  p.send(p.a, FrameType::Text, "after");
  p.send(p.b, FrameType::Text, "and back");
  const std::uint32_t next = p.send_file(p.a, 1000, 20);
  p.run();
  const auto got = events(p.b, "message");
  REQUIRE(got.size() == 2);
  CHECK(got[1].bytes == "after");
  REQUIRE(events(p.a, "message").size() == 1);
  check_complete(p.a, p.b, next, 1000, 20);
}

TEST_CASE("dc core: reading the file fails or returns other bytes", "[datachannel][core][file]") {
  Pair p;
  p.a.answer_reads = false;
  const std::uint32_t failing = p.send_file(p.a, 100000, 21);
  const std::uint32_t liar = p.send_file(p.a, 100000, 22);
  p.run();
  REQUIRE(p.a.held_reads.size() == 2);
  p.input(p.a, {{"type", "file-read-failed"}, {"peer", "B"}, {"transfer", failing}, {"message", "NotReadableError"}});
  p.a.core->file_data("B", liar, 1, "wrong offset", p.now);
  p.run();
  for (std::uint32_t id : {failing, liar}) {
    const Event mine = final_event(p.a, id, "send"), theirs = final_event(p.b, id, "receive");
    CHECK(mine.info["event"] == "transfer-failed");
    CHECK(mine.info["code"] == "transfer-failed");
    CHECK(theirs.info["event"] == "transfer-cancelled");
    CHECK(theirs.info["by"] == "remote");
  }
  CHECK(final_event(p.a, failing, "send").info["message"].get<std::string>().find("NotReadableError") != std::string::npos);
  check_no_errors(p.b);
}

TEST_CASE("dc core: garbage frames are errors and the link goes on", "[datachannel][core]") {
  Pair p;
  auto receive = [&](int ch, const std::string& bytes) { p.b.core->receive("A", ch, bytes, p.now); };
  auto frame = [](FrameType type, std::uint32_t id, std::uint64_t word, std::string_view payload = {},
                  std::uint8_t flags = 0, ControlKind kind = ControlKind::Window) {
    return encode_frame(Frame{type, flags, kind, id, word}, payload);
  };
  struct Case {
    int ch;
    std::string bytes;
    const char* code;
  };
  const std::vector<Case> cases = {
      {0, "", "bad-frame"},
      {0, "\x02 future frame", "unsupported-version"},
      {1, std::string(15, '\x01'), "bad-frame"},
      {0, frame(FrameType::FileChunk, 500, 0, "data for no transfer"), "bad-frame"},
      {0, frame(FrameType::FileEnd, 501, 0, std::string(32, 's')), "bad-frame"},
      {0, frame(FrameType::Control, 503, 100, {}, kReply), "bad-frame"},
      {1, frame(FrameType::FileBegin, 504, 10, "{}"), "bad-frame"},  // files only on the reliable channel
      {0, frame(FrameType::FileBegin, 505, 10, "not json"), "bad-frame"},
      {0, frame(FrameType::FileBegin, 506, 10, R"({"name":5})"), "bad-frame"},
      {0, frame(FrameType::FileBegin, 507, 10, "[]"), "bad-frame"},
      {0, frame(FrameType::Text, 508, message_word(0, 0xffffff00), "x"), "message-too-large"},
      {2, frame(FrameType::Text, 509, message_word(0, 1), "x"), "bad-frame"},  // no messages on bulk
      {2, frame(FrameType::FileCancel, 510, 0), "bad-frame"},                 // nor cancel and control
      {2, frame(FrameType::Control, 511, 1, {}, kReply), "bad-frame"},
      {1, frame(FrameType::Control, 512, 1, {}, kReply), "bad-frame"},
  };
  for (const auto& c : cases) {
    INFO(c.bytes.size() << " bytes on channel " << c.ch);
    const std::size_t before = p.b.events.size();
    receive(c.ch, c.bytes);
    p.pump(p.b);
    std::vector<Event> errors;
    for (std::size_t i = before; i < p.b.events.size(); ++i) {
      if (p.b.events[i].info["event"] == "error") errors.push_back(p.b.events[i]);
    }
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].info["code"] == c.code);
    CHECK(errors[0].info["peer"] == "A");
    CHECK_FALSE(errors[0].info["message"].get<std::string>().empty());
  }
  // A sender's cancel for a transfer B never heard of may have overtaken its file-begin (bulk
  // channel): no error, and the begin is dropped when it comes.
  {
    const std::size_t before = p.b.events.size();
    receive(0, frame(FrameType::FileCancel, 502, 0, "who?"));
    receive(2, frame(FrameType::FileBegin, 502, 10, "{}"));
    p.pump(p.b);
    CHECK(p.b.events.size() == before);
    // A receiver's cancel (reply) for a transfer of B's that does not exist is an error.
    receive(0, frame(FrameType::FileCancel, 502, 0, "who?", kReply));
    p.pump(p.b);
    REQUIRE(p.b.events.size() == before + 1);
    CHECK(p.b.events.back().info["code"] == "bad-frame");
  }
  // A refused file-begin is answered with a cancel, so the sender does not wait forever.
  CHECK(count_frames(p.b.sent, FrameType::FileCancel) == 3);
  // A file-begin for an id in use.
  receive(0, frame(FrameType::FileBegin, 600, 10, R"({"name":"a"})"));
  receive(0, frame(FrameType::FileBegin, 600, 10, R"({"name":"a"})"));
  p.pump(p.b);
  CHECK(transfer_events(p.b, "transfer-incoming", 600, "receive").size() == 1);
  CHECK(events(p.b, "error").size() == cases.size() + 2);
  // Too many incoming transfers: refused with a cancel and reassembly-limit.
  for (std::uint32_t id = 601; id < 601 + p.config.max_transfers; ++id) {
    receive(0, frame(FrameType::FileBegin, id, 10, "{}"));
  }
  p.pump(p.b);
  auto errors = events(p.b, "error");
  CHECK(errors.back().info["code"] == "reassembly-limit");
  CHECK(transfer_events(p.b, "transfer-incoming", 601 + p.config.max_transfers - 1, "receive").empty());
  // A file chunk on another channel than its file-begin fails that transfer.
  receive(2, frame(FrameType::FileBegin, 700, 10, "{}"));  // refused: too many transfers
  p.pump(p.b);
  CHECK(events(p.b, "error").back().info["code"] == "reassembly-limit");
  p.input(p.b, {{"type", "cancel-transfer"}, {"peer", "A"}, {"transfer", 600}, {"direction", "receive"}});
  receive(2, frame(FrameType::FileBegin, 701, 10, "{}"));
  receive(0, frame(FrameType::FileChunk, 701, 0, "0123456789"));
  p.pump(p.b);
  CHECK(final_event(p.b, 701, "receive").info["code"] == "bad-frame");
  // Things go on.
  p.b.auto_write = true;
  p.run();
  p.send(p.a, FrameType::Text, "still here");
  p.run();
  REQUIRE_FALSE(events(p.b, "message").empty());
  CHECK(events(p.b, "message").back().bytes == "still here");
}

TEST_CASE("dc core: bad inputs to handle() are error events", "[datachannel][core]") {
  DataCore core;
  auto last_error = [&]() -> std::string {
    std::string code = "none";
    std::size_t n = 0;
    while (auto o = core.poll(0)) {
      if (o->info.value("event", "") == "error") {
        code = o->info["code"];
        ++n;
      }
    }
    return n == 1 ? code : n == 0 ? "none" : "several";
  };
  core.handle_text("not json", 0);
  CHECK(last_error() == "bad-json");
  core.handle_text("[1,2]", 0);
  CHECK(last_error() == "bad-json");
  core.handle_text(std::string(100, '['), 0);
  CHECK(last_error() == "bad-json");
  const std::vector<std::pair<Json, const char*>> cases = {
      {Json::object(), "bad-message"},
      {{{"type", 5}, {"peer", "B"}}, "bad-message"},
      {{{"type", "channel-open"}}, "bad-message"},
      {{{"type", "channel-open"}, {"peer", "B"}}, "bad-message"},
      {{{"type", "channel-open"}, {"peer", "B"}, {"channel", 3}}, "bad-message"},
      {{{"type", "channel-open"}, {"peer", "B"}, {"channel", 2.5}}, "bad-message"},
      {{{"type", "channel-open"}, {"peer", "B"}, {"channel", -1}}, "bad-message"},
      {{{"type", "channel-open"}, {"peer", "B"}, {"channel", 0.5}}, "bad-message"},
      {{{"type", "channel-open"}, {"peer", "B"}, {"channel", 1e300}}, "bad-message"},
      {{{"type", "channel-open"}, {"peer", "B"}, {"channel", -1e300}}, "bad-message"},
      {{{"type", "channel-closed"}, {"peer", "B"}, {"channel", "0"}}, "bad-message"},
      {{{"type", "file-written"}, {"peer", "B"}}, "bad-message"},
      {{{"type", "file-written"}, {"peer", "B"}, {"transfer", 0}, {"bytes", 1}}, "bad-message"},
      {{{"type", "file-written"}, {"peer", "B"}, {"transfer", 4294967296.0}, {"bytes", 1}}, "bad-message"},
      {{{"type", "file-written"}, {"peer", "B"}, {"transfer", 1.5}, {"bytes", 1}}, "bad-message"},
      {{{"type", "file-written"}, {"peer", "B"}, {"transfer", "1"}, {"bytes", 1}}, "bad-message"},
      {{{"type", "cancel-transfer"}, {"peer", "B"}, {"transfer", 1e300}}, "bad-message"},
      {{{"type", "no-such-input"}, {"peer", "B"}}, "unknown-type"},
      {{{"type", "no-such-input"}, {"peer", "B"}, {"transfer", 1}}, "unknown-type"},
  };
  for (const auto& [input, code] : cases) {
    INFO(input.dump());
    core.handle(input, 0);
    CHECK(last_error() == code);
  }
  // With the peer known, transfer inputs are checked field by field.
  core.handle({{"type", "channel-open"}, {"peer", "B"}, {"channel", 0}, {"maxMessageSize", 1e300}}, 0);
  CHECK(last_error() == "none");
  const std::vector<std::pair<Json, const char*>> known = {
      {{{"type", "file-written"}, {"peer", "B"}, {"transfer", 1}}, "bad-message"},
      {{{"type", "file-written"}, {"peer", "B"}, {"transfer", 1}, {"bytes", -1}}, "bad-message"},
      {{{"type", "file-written"}, {"peer", "B"}, {"transfer", 1}, {"bytes", 1e300}}, "bad-message"},
      {{{"type", "cancel-transfer"}, {"peer", "B"}, {"transfer", 1}}, "bad-message"},
      {{{"type", "cancel-transfer"}, {"peer", "B"}, {"transfer", 1}, {"direction", "up"}}, "bad-message"},
      // Well-formed inputs about transfers that do not exist are quietly ignored.
      {{{"type", "file-written"}, {"peer", "B"}, {"transfer", 1}, {"bytes", 5}}, "none"},
      {{{"type", "file-read-failed"}, {"peer", "B"}, {"transfer", 1}}, "none"},
      {{{"type", "cancel-transfer"}, {"peer", "B"}, {"transfer", 1}, {"direction", "send"}}, "none"},
      {{{"type", "no-such-input"}, {"peer", "B"}, {"transfer", 1}}, "unknown-type"},
  };
  for (const auto& [input, code] : known) {
    INFO(input.dump());
    core.handle(input, 0);
    CHECK(last_error() == code);
  }
  // The byte paths: a bad channel, a non-message type.
  core.receive("B", 7, "x", 0);
  CHECK(last_error() == "bad-message");
  core.receive("nobody", 0, "x", 0);
  CHECK(last_error() == "none");
  core.set_buffered("B", -3, 10);
  core.set_buffered("B", 0, -1);
  core.set_buffered("B", 0, std::nan(""));
  CHECK(last_error() == "none");
  auto r = core.send("B", FrameType::FileChunk, "x", true);
  CHECK(r.error == ErrorCode::BadMessage);
  core.file_data("B", 99, 0, "x", 0);
  core.file_data("nobody", 1, 0, "x", 0);
  CHECK(last_error() == "none");
}

TEST_CASE("dc core: send and send_file limits", "[datachannel][core]") {
  DataConfig c;
  c.max_transfers = 2;
  c.queue[0].max_message_bytes = 1000;
  c.queue[0].max_queued_messages = 3;
  DataCore core(c);
  auto f = core.send_file("B", 10, "a", "", 0);
  CHECK(f.error == ErrorCode::NotConnected);  // no link yet
  core.handle({{"type", "channel-open"}, {"peer", "B"}, {"channel", 1}}, 0);
  f = core.send_file("B", 10, "a", "", 0);
  CHECK(f.error == ErrorCode::NotConnected);  // only the unreliable channel is open
  core.handle({{"type", "channel-open"}, {"peer", "B"}, {"channel", 0}}, 0);
  CHECK_FALSE(core.send_file("B", 10, "a", "", 0).error);
  CHECK_FALSE(core.send_file("B", 10, "b", "", 0).error);
  CHECK(core.send_file("B", 10, "c", "", 0).error == ErrorCode::SendQueueFull);
  CHECK(core.send_file("B", (1ULL << 53) + 1, "huge", "", 0).error == ErrorCode::MessageTooLarge);
  auto big = core.send("B", FrameType::Binary, std::string(1001, 'x'), true);
  CHECK(big.error == ErrorCode::MessageTooLarge);
  CHECK_FALSE(big.message.empty());
  for (int i = 0; i < 3; ++i) CHECK_FALSE(core.send("B", FrameType::Text, "m", true).error);
  CHECK(core.send("B", FrameType::Text, "m", true).error == ErrorCode::SendQueueFull);
  // Ids are distinct and never 0.
  auto x = core.send("B", FrameType::Text, "m", false), y = core.send("B", FrameType::Text, "m", false);
  CHECK(x.id != 0);
  CHECK(x.id != y.id);
}

TEST_CASE("dc core: unfinished unreliable messages expire", "[datachannel][core]") {
  Pair p;
  bool dropped = false;
  p.tamper = [&](Side&, int ch, std::string& frame) {
    if (ch == 1 && !dropped && parse_frame(frame).index() == 0 &&
        std::get<Frame>(parse_frame(frame)).offset() > 0) {
      dropped = true;  // lose the second chunk
      return false;
    }
    return true;
  };
  p.send(p.a, FrameType::Binary, big_payload(200000), false);
  p.step();
  p.step();
  p.step();
  REQUIRE(dropped);
  auto deadline = p.b.core->next_timeout();
  REQUIRE(deadline);
  CHECK(*deadline > p.now);
  CHECK(*deadline <= p.now + p.config.receive[1].partial_timeout_ms);
  p.b.core->handle_timeout(*deadline);
  CHECK_FALSE(p.b.core->next_timeout());
  CHECK(events(p.b, "message").empty());
  // The reliable channel never expires partial messages.
  CHECK(p.config.receive[0].partial_timeout_ms == 0);
}

TEST_CASE("dc core: DataConfig::from_json reads the app's limits", "[datachannel][core]") {
  const DataConfig d = DataConfig::from_json(Json::object());
  CHECK(d.receive_window == DataConfig{}.receive_window);
  const DataConfig c = DataConfig::from_json({{"maxMessageBytes", 64 << 20},
                                              {"receiveWindow", 1 << 20},
                                              {"maxTransfers", 4},
                                              {"progressIntervalMs", 100}});
  CHECK(c.queue[0].max_message_bytes == 64u << 20);
  CHECK(c.queue[1].max_message_bytes == 64u << 20);
  CHECK(c.receive[0].max_message_bytes == 64u << 20);
  CHECK(c.receive[0].max_partial_bytes >= 64u << 20);
  CHECK(c.queue[0].max_queued_bytes >= 64u << 20);
  CHECK(c.receive_window == 1u << 20);
  CHECK(c.max_transfers == 4);
  CHECK(c.progress_interval_ms == 100);
  // Out of range or of the wrong type: defaults.
  const DataConfig bad = DataConfig::from_json({{"maxMessageBytes", -1},
                                                {"receiveWindow", "big"},
                                                {"maxTransfers", 1e9},
                                                {"progressIntervalMs", -5}});
  CHECK(bad.queue[0].max_message_bytes == d.queue[0].max_message_bytes);
  CHECK(bad.receive_window == d.receive_window);
  CHECK(bad.max_transfers == d.max_transfers);
  CHECK(bad.progress_interval_ms == d.progress_interval_ms);
}

TEST_CASE("dc core: chunked messages keep flowing past the reassembly byte limit", "[datachannel][core]") {
  // Finished messages must give their reassembly memory back: with a 1 MiB limit on unfinished
  // bytes, 40 MiB of 512 KiB messages in a row all arrive, on both channels.
  DataConfig c = Pair::test_config();
  for (auto& r : c.receive) r.max_partial_bytes = 1 << 20;
  for (auto& q : c.queue) q.max_active_bytes = 1 << 20;
  Pair p(c);
  const std::string payload = big_payload(512 << 10);
  for (int i = 0; i < 40; ++i) {
    p.send(p.a, FrameType::Binary, payload, i % 2 == 0);
    p.run();
  }
  const auto got = events(p.b, "message");
  CHECK(got.size() == 40);
  for (const auto& e : got) CHECK(e.bytes == payload);
  check_no_errors(p.b);
}

TEST_CASE("dc core: a transfer cancelled before its file-begin left leaves nothing behind", "[datachannel][core][file]") {
  const bool bulk = GENERATE(true, false);
  INFO((bulk ? "bulk channel" : "channel 0 only"));
  Pair p(bulk);
  SECTION("cancelled by the app at once") {
    const std::uint32_t id = p.send_file(p.a, 100000, 30);
    p.input(p.a, {{"type", "cancel-transfer"}, {"peer", "B"}, {"transfer", id}, {"direction", "send"}});
    p.run();
    CHECK(final_event(p.a, id, "send").info["event"] == "transfer-cancelled");
    CHECK(events(p.b, "transfer-incoming").empty());
  }
  SECTION("failed reading before the begin went out") {
    p.a.answer_reads = false;
    const std::uint32_t id = p.send_file(p.a, 100000, 31);
    p.a.hold[bulk ? 2 : 0] = true;
    p.pump(p.a);
    p.input(p.a, {{"type", "file-read-failed"}, {"peer", "B"}, {"transfer", id}, {"message", "gone"}});
    p.a.hold[bulk ? 2 : 0] = false;
    p.a.answer_reads = true;
    p.run();
    CHECK(final_event(p.a, id, "send").info["event"] == "transfer-failed");
    CHECK(final_event(p.a, id, "send").info["code"] == "transfer-failed");
    // Either B never heard of it or it heard of the end too.
    if (!events(p.b, "transfer-incoming").empty()) {
      CHECK(final_event(p.b, id, "receive").info["event"] == "transfer-cancelled");
    }
  }
  SECTION("cancelled while the file-begin is in flight") {
    const std::uint32_t id = p.send_file(p.a, 100000, 32);
    p.a.hold[bulk ? 2 : 0] = true;  // the begin is framed but has not reached B
    p.pump(p.a);
    REQUIRE(count_frames(p.a.sent, FrameType::FileBegin, id) == 1);
    p.input(p.a, {{"type", "cancel-transfer"}, {"peer", "B"}, {"transfer", id}, {"direction", "send"}});
    // With a bulk channel, the cancel on channel 0 overtakes the begin on channel 2.
    p.step();
    p.a.hold[bulk ? 2 : 0] = false;
    p.run();
    CHECK(final_event(p.a, id, "send").info["event"] == "transfer-cancelled");
    if (!events(p.b, "transfer-incoming").empty()) {
      CHECK(final_event(p.b, id, "receive").info["event"] == "transfer-cancelled");
    }
  }
  CHECK(events(p.a, "error").empty());
  CHECK(events(p.b, "error").empty());
  // Nothing is left half-open on B: a new transfer of the same size completes.
  const std::uint32_t next = p.send_file(p.a, 1000, 33);
  p.run();
  check_complete(p.a, p.b, next, 1000, 33);
}

TEST_CASE("dc core: voice goes first on the unreliable channel and arrives as voice events", "[datachannel][core][voice]") {
  Pair p;
  p.send(p.a, FrameType::Text, std::string(3000, 'u'), false);  // unreliable message queued first
  const std::string opus = "\x48\x0b\xe4\x0f";
  auto r = p.a.core->send_voice(9, 0, 0, false, opus);
  REQUIRE_FALSE(r.error);
  CHECK(r.id == 1);  // queued for one peer
  REQUIRE_FALSE(p.a.core->send_voice(9, 1, 960, true, opus).error);
  p.run();
  // Voice frames were framed before the message that was queued earlier.
  std::vector<FrameType> order;
  for (const auto& f : p.a.sent) {
    if (f.channel == kUnreliable) order.push_back(f.type);
  }
  REQUIRE(order.size() == 3);
  CHECK(order[0] == FrameType::Voice);
  CHECK(order[1] == FrameType::Voice);
  CHECK(order[2] == FrameType::Text);
  auto voice = events(p.b, "voice");
  REQUIRE(voice.size() == 2);
  CHECK(voice[0].info["peer"] == "A");
  CHECK(voice[0].info["epoch"] == 9);
  CHECK(voice[0].info["seq"] == 0);
  CHECK(voice[1].info["timestamp"] == 960);
  CHECK(voice[1].info["last"] == true);
  CHECK(voice[0].bytes == opus);
}

TEST_CASE("dc core: voice that cannot go soon is dropped oldest first, and is refused when malformed", "[datachannel][core][voice]") {
  Pair p;
  p.a.hold[kUnreliable] = true;  // nothing drains: bufferedAmount climbs
  const std::string packet(3000, 'v');
  for (std::uint32_t seq = 0; seq < 20; ++seq) {
    REQUIRE_FALSE(p.a.core->send_voice(3, seq, seq * 960, false, packet).error);
    p.pump(p.a);
  }
  p.a.hold[kUnreliable] = false;
  p.run();
  auto voice = events(p.b, "voice");
  // 3 frames fill the 8 KiB ceiling; of the rest only the newest 3 waited.
  REQUIRE(voice.size() == 6);
  CHECK(voice[0].info["seq"] == 0);
  CHECK(voice[3].info["seq"] == 17);
  CHECK(voice[5].info["seq"] == 19);
  CHECK(p.a.core->send_voice(0, 0, 0, false, packet).error == ErrorCode::BadMessage);
  CHECK(p.a.core->send_voice(3, 0, 0, false, "").error == ErrorCode::BadMessage);
  CHECK(p.a.core->send_voice(3, 0, 0, false, std::string(kMaxVoicePayload + 1, 'x')).error == ErrorCode::BadMessage);
}

TEST_CASE("dc core: a voice frame on a reliable channel is a bad frame", "[datachannel][core][voice]") {
  Pair p;
  Frame f;
  f.type = FrameType::Voice;
  f.id = 4;
  p.b.core->receive("A", kReliable, encode_frame(f, "\x01"), p.now);
  p.b.core->receive("A", kBulk, encode_frame(f, "\x01"), p.now);
  p.pump(p.b);
  CHECK(events(p.b, "voice").empty());
  auto errors = events(p.b, "error");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].info["code"] == "bad-frame");
}
