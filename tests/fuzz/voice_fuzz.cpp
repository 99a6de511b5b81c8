// libFuzzer target: the listener's voice path (VoiceReceiver: floor check, jitter buffer, Opus
// decode/FEC/PLC with the real libopus) driven by an arbitrary script of floor changes,
// packets (made-up bytes, or real Opus packets with made-up numbers) and renders, with time
// moving at arbitrary steps. Whatever the script, render() must give a frame of sane length
// with finite samples in range, and memory stays bounded (ASan, rss limit).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "opus/codec.hpp"
#include "opus/voice_receiver.hpp"

namespace {

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t u8() { return n ? (--n, *p++) : 0; }
  std::uint32_t u32() { return std::uint32_t(u8()) << 24 | std::uint32_t(u8()) << 16 | std::uint32_t(u8()) << 8 | u8(); }
  std::string bytes(std::size_t len) {
    len = std::min(len, n);
    std::string s(reinterpret_cast<const char*>(p), len);
    p += len;
    n -= len;
    return s;
  }
};

// A few real packets (a tone at 24 kbit/s), made once.
const std::vector<std::string>& real_packets() {
  static const std::vector<std::string> packets = [] {
    chorus::opus::Encoder enc({});
    std::vector<std::string> out;
    for (int f = 0; f < 8; ++f) {
      for (int i = 0; i < 960; ++i) enc.input()[i] = 0.3f * static_cast<float>(std::sin((f * 960 + i) * 0.0576));
      const int len = enc.encode();
      if (len > 0) out.emplace_back(reinterpret_cast<const char*>(enc.packet()), static_cast<std::size_t>(len));
    }
    return out;
  }();
  return packets;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chorus::opus::VoiceReceiver rx;
  Reader in{data, size};
  double now = 0;
  while (in.n) {
    now += in.u8() % 41;  // 0..40 ms between events
    switch (in.u8() % 4) {
      case 0:
        rx.set_floor(in.u8() % 4, in.u8() % 6, now);
        break;
      case 1: {  // a packet with fuzzed numbers; the payload real or fuzzed
        chorus::voice::VoiceHeader h;
        h.epoch = in.u8() % 6;
        h.seq = in.u8() & 0x80 ? in.u32() : in.u8();
        h.timestamp = in.u8() & 0x80 ? in.u32() : h.seq * 960;
        h.last = in.u8() % 16 == 0;
        const std::uint8_t kind = in.u8();
        std::string packet = kind & 1 ? real_packets()[kind % real_packets().size()] : in.bytes(in.u8() * 4);
        rx.push(in.u8() % 4, h, packet, now);
        break;
      }
      default: {
        const int n = rx.render(now);
        if (n <= 0 || n > chorus::opus::kMaxFrameSamples) std::abort();
        for (int i = 0; i < n; ++i) {
          const float v = rx.pcm()[i];
          if (!std::isfinite(v) || std::fabs(v) > 4.0f) std::abort();
        }
      }
    }
  }
  return 0;
}
