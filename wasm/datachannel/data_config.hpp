// Tunables of the DataChannel protocol machine. The defaults are chosen from measurements in
// Chromium (docs/BENCHMARKS.md, "DataChannel"); apps may lower the limits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/json.hpp"
#include "datachannel/message_queue.hpp"
#include "datachannel/reassembler.hpp"

namespace chorus::datachannel {

// Channel index in every input and output: the negotiated RTCDataChannels of a peer connection
// (docs/protocol.md). File frames go on their own SCTP stream (bulk) when it is open, so the
// browser's stream scheduler lets messages on channel 0 overtake queued file data; without it
// they share channel 0.
enum Channel : int { kReliable = 0, kUnreliable = 1, kBulk = 2 };
inline constexpr int kChannels = 3;

struct DataConfig {
  ReassemblyLimits receive[2] = {{}, {16 << 20, 64, 16 << 20, 3000}};
  MessageQueueLimits queue[2] = {{}, {16 << 20, 256, 4 << 20, 16, 16 << 20}};

  std::size_t default_chunk_bytes = 16 << 10;  // frame size while sctp.maxMessageSize is unknown
  std::size_t max_chunk_bytes = 256 << 10;     // Firefox announces ~1 GiB; no frame is bigger
  std::size_t unreliable_chunk_bytes = 16 << 10;  // ~12 packets: one loss drops the whole frame

  // bufferedAmount ceilings per priority class on channel 0: control frames go almost always
  // (Chromium's send() throws at ~16 MiB); app messages up to 1 MiB, about 100 ms at the
  // ~10 MB/s measured here, so a chat line or a window grant queued behind a big message waits
  // no longer than that. File data is paced on its own channel by a small ceiling and by the
  // receiver's window.
  std::size_t control_high_water = 12 << 20;
  std::size_t message_high_water = 1 << 20;
  std::size_t bulk_high_water = 512 << 10;
  std::size_t low_water = 256 << 10;  // bufferedAmountLowThreshold: when to refill
  std::size_t unreliable_high_water = 256 << 10;  // late data is worthless: queue little
  std::size_t unreliable_low_water = 64 << 10;
  // Voice goes first on the unreliable channel, but only while it holds less than this: at
  // 24-64 kbit/s, 8 KiB is 1-3 s of speech already waiting, and audio later than the
  // listener's jitter buffer is worthless. Voice frames that cannot go yet wait, newest
  // `voice_queue_frames` kept (60 ms of 20 ms frames); older ones are dropped.
  std::size_t voice_high_water = 8 << 10;
  std::size_t voice_queue_frames = 3;

  std::size_t file_read_bytes = 1 << 20;   // one Blob slice read by the glue
  std::size_t file_read_ahead = 2 << 20;   // read but unsent, per outgoing transfer
  // Unwritten bytes a receiver lets a sender have out. It bounds the file data queued in the
  // browsers' SCTP stacks and the receiver's event queue ahead of a chat message: 1.25 MiB keeps
  // the median chat near 65 ms at the ~11 MB/s Chromium reaches here and the pipe full
  // (docs/BENCHMARKS.md, "DataChannel": 2 MiB doubles chat latency, 1 MiB costs throughput).
  std::size_t receive_window = 5 << 18;
  std::size_t max_transfers = 32;          // per peer and direction
  std::uint64_t max_file_bytes = 1ULL << 53;  // larger incoming files are refused
  // Control frames waiting for channel 0. Only a peer that floods us while not reading fills
  // this; what it then misses (refusals, grants) it brought on itself.
  std::size_t max_control_frames = 4096;
  double progress_interval_ms = 250;

  // Reads the app-facing options (docs/architecture.md, "DataCore"); missing or invalid
  // fields keep their defaults.
  static DataConfig from_json(const Json& config);
};

}  // namespace chorus::datachannel
