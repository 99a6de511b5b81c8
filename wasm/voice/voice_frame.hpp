// What one voice packet carries besides its Opus payload (docs/protocol.md, "Voice frames").
// The DataChannel frame codec reads and writes it; the receiver's jitter buffer and floor check
// consume it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace chorus::voice {

struct VoiceHeader {
  std::uint32_t epoch = 0;      // the talker's floor grant (server-issued, > 0)
  std::uint32_t seq = 0;        // packet number within the burst, from 0
  std::uint32_t timestamp = 0;  // 48 kHz samples since the burst began
  bool last = false;            // the burst's final packet (the talker released)
};

// The largest Opus packet a voice frame may carry: 120 ms (RFC 6716 §3.2.5) at 510 kbit/s is
// under 8 KB. The frame codec refuses bigger ones; the receiver never buffers more.
inline constexpr std::size_t kMaxVoicePacketBytes = 7680;

// A burst is bounded by the floor's maximum talk time; this bounds it again for a receiver
// that must not trust the sender: 2^22 packets of 10 ms is over 11 hours.
inline constexpr std::uint32_t kMaxSeq = 1u << 22;

}  // namespace chorus::voice
