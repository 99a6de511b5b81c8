// The push-to-talk receiver's jitter buffer, sans-IO: voice packets go in as they arrive
// (push), and the audio clock takes one playout decision per frame (pop). It decides; the
// caller decodes (Opus decode, decode with FEC, or packet loss concealment) and plays.
//
// One JitterBuffer serves one talk burst at a time: seq counts packets from 0 within the burst
// and timestamp counts 48 kHz samples since the burst began, both with a fixed frame duration
// (10/20/40/60 ms; ts == seq * frame). There is no wraparound: a burst is bounded by the floor's
// maximum talk time, and seq >= kMaxSeq is refused. When a packet with a new epoch arrives, the
// caller calls reset() and then pushes it: reset() forgets the burst but keeps what was learned
// about the network (the target delay), so the next burst starts well. A new JitterBuffer
// forgets both.
//
// Time is an input: arrival_ms and now_ms come from one monotonic clock (performance.now() or
// the audio clock), and pop() is called when its frame is needed, not ahead of time: now_ms is
// the frame's playout deadline.
//
// Playout, in short (docs/architecture.md, "Jitter buffer"):
//  - Start: the first frame plays once it has waited the target delay, measured from the
//    fastest arrival seen (the relative-delay floor below), or at once if the whole burst is in.
//  - Loss: a missing frame whose successors have arrived is lost: Opus in-band FEC from the
//    next packet if that one is here, PLC otherwise. A missing frame with nothing after it is
//    an underrun: PLC without consuming the frame (it may still come), which adds one frame of
//    delay. If it does come, the target grows; if its successors come instead, it was lost and
//    that PLC was its playout (no second frame for it). After max_conceal_ms of PLC in a row
//    the buffer resyncs to the next packet it has, or waits for one and starts over.
//  - Delay: relative delay r = arrival_ms - timestamp / 48 of each packet; its floor (minimum
//    over floor_window_ms) is the fastest path, and a packet's excess over that floor is its
//    jitter. target = clamp(quantile of the excess over jitter_window_ms + one frame,
//    min_target_ms, max_target_ms); it grows at once (and to the delay a late packet needed),
//    and shrinks by target_shrink_ms_per_s of playout.
//  - Drift: the playout delay (now_ms - timestamp / 48 - floor for the frame being played) is
//    held near the target: above it a frame is dropped, below it a PLC frame is inserted. The
//    frame at hand decides how far off is too far: silence (DTX) half a frame either way,
//    speech +1.5 / -1 frame. So the delay stays within target + 1.5 frames whatever the drift,
//    and the corrections fall in silence when there is some.
//
// Nothing here trusts the sender: absurd packets are refused with OutOfRange, and memory is
// bounded by JitterConfig (max_packets, max_bytes). No exceptions, no allocation per pop beyond
// the payload handed out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "voice/voice_frame.hpp"

namespace chorus::voice {

struct JitterConfig {
  // Target playout delay bounds. 40 ms (two 20 ms frames) absorbs the audio callback's own
  // jitter on a calm LAN; 240 ms keeps a bad network's mouth-to-ear latency near ITU-T G.114's
  // 150 ms comfort limit plus the network, rather than letting it grow without end.
  double min_target_ms = 40;
  double max_target_ms = 240;
  // Before anything is measured (a new JitterBuffer; reset() keeps the learned target).
  double initial_target_ms = 60;
  // How fast the target comes down when the network calms: slow, so periodic WiFi stalls
  // (scans every 10-30 s) are still remembered at the next one.
  double target_shrink_ms_per_s = 2;
  double jitter_quantile = 0.95;
  double jitter_window_ms = 3000;  // bursty WiFi: seconds, not the last few packets
  // Window of the relative-delay floor. Short, because a 1% clock drift moves the floor by
  // 10 ms per second; that much is read as jitter.
  double floor_window_ms = 1000;
  // PLC in a row before giving up on the missing frames (Opus PLC fades to silence by then).
  double max_conceal_ms = 200;
  // Frame size until the burst's own is known (from the first packet with seq > 0).
  std::uint32_t default_frame_samples = 960;
  // How far a timestamp may be from seq * frame (48 kHz samples).
  std::uint32_t timestamp_tolerance = 120;
  // Packets further ahead of the playout point are refused: 60 s of 20 ms frames.
  std::uint32_t max_seq_ahead = 3000;
  // Audio from the future, which a live talker cannot have sent: while playing, a packet more
  // than max_target_ms + this ahead of the playout point; before, a relative delay this far
  // below the floor.
  double max_early_ms = 1000;
  // Memory bounds. At the cap, the packet furthest ahead goes first.
  std::size_t max_packets = 256;
  std::size_t max_bytes = 256 << 10;
  std::size_t max_payload_bytes = 4000;  // a 60 ms Opus packet at 510 kbit/s is 3825 bytes
  // Payloads this small are silence (Opus DTX frames are 1-3 bytes): drift is corrected there.
  std::size_t silence_bytes = 3;
};

enum class PushResult {
  Accepted,
  Duplicate,   // this seq is buffered already, or was played
  Late,        // its playout time has passed (played as FEC/PLC, or skipped): dropped
  OutOfRange,  // absurd (seq/timestamp inconsistent, too far ahead or early, too big,
               // beyond the burst's last packet): the caller reports `bad-audio`
  Overflow,    // the buffer is full of packets nearer the playout point: dropped. Only a
               // flood (or a caller that stopped calling pop) gets here.
};

enum class Action {
  Wait,       // nothing to play: not started yet (filling to the target delay) or waiting
              // for packets after giving up on concealment. Play `samples` of silence.
  Decode,     // decode `payload` (packet `seq`)
  DecodeFec,  // packet `seq` is lost: decode `payload`, the NEXT packet, with Opus's FEC
              // flag to recover it. The next packet itself is decoded by the next pop.
  Conceal,    // PLC (decode without a packet) for `samples`
  End,        // the burst's last packet has played: nothing more (until reset())
};

struct Playout {
  Action action = Action::Wait;
  std::string payload;
  std::uint32_t samples = 0;  // 48 kHz samples this frame covers (the burst's frame size)
  // The frame this decision plays. For a PLC inserted on underrun or for drift, the frame
  // that is still to come.
  std::uint32_t seq = 0;
};

struct JitterStats {
  // Counters since construction (reset() keeps them).
  std::uint64_t received = 0;      // packets accepted (PushResult::Accepted)
  std::uint64_t duplicates = 0;    // PushResult::Duplicate
  std::uint64_t late = 0;          // PushResult::Late
  std::uint64_t out_of_range = 0;  // PushResult::OutOfRange, and buffered packets found
                                   // beyond the last-flag packet when it arrived
  std::uint64_t overflow = 0;      // packets dropped at the memory cap (refused or evicted)
  std::uint64_t decoded = 0;       // Decode decisions
  std::uint64_t lost = 0;          // frames given up: played by FEC or PLC, or skipped on resync
  std::uint64_t fec_recovered = 0; // DecodeFec decisions (a subset of lost)
  std::uint64_t concealed = 0;     // Conceal decisions, whatever the reason
  std::uint64_t underruns = 0;     //   of which: nothing buffered when a frame was due
  std::uint64_t inserted_for_drift = 0;  // of which: added to raise the delay to the target
  std::uint64_t dropped_for_drift = 0;   // packets skipped to bring the delay down to target
  std::uint64_t resyncs = 0;       // times concealment was given up (max_conceal_ms)
  // Current values.
  double target_ms = 0;    // the target playout delay
  double buffered_ms = 0;  // audio held ahead of the playout point (from the next frame to
                           // the end of the newest buffered packet, gaps included)
  double jitter_ms = 0;    // the jitter quantile: relative delay above its floor
  double delay_ms = 0;     // playout delay of the last frame played, above the floor
  double frame_ms = 0;     // the burst's frame duration
};

class JitterBuffer {
 public:
  explicit JitterBuffer(JitterConfig config = {});

  // One packet of the current burst (header fields of VoiceHeader); the payload is copied.
  PushResult push(std::uint32_t seq, std::uint32_t timestamp, double arrival_ms,
                  std::string_view payload, bool last);
  // The decision for the next frame. Call it once per frame, when the frame is due.
  Playout pop(double now_ms);
  // Forgets the burst (packets, position, frame size, delay floor) for a new one; keeps the
  // target delay and the counters.
  void reset();

  JitterStats stats() const;
  double target_ms() const { return target_ms_; }
  std::uint32_t frame_samples() const;
  std::size_t buffered_packets() const { return packets_.size(); }
  std::size_t buffered_bytes() const { return bytes_; }
  bool playing() const { return state_ == State::Playing; }

 private:
  enum class State { Buffering, Playing, Ended };
  struct Sample {
    double at_ms;
    double value;
  };

  PushResult refuse_behind(std::uint64_t seq);
  void end_at(std::uint64_t seq);
  void record_timing(double arrival_ms, double relative_ms);
  void update_target(double now_ms);
  bool try_start(double now_ms);
  Playout play(double now_ms);
  Playout decode(std::map<std::uint64_t, std::string>::iterator it);
  void advance(bool received);
  void skip_to(std::uint64_t seq);
  void remember_delay(double delay_ms);
  double frame_ms() const;
  double delay_of(std::uint64_t seq, double now_ms) const;
  double floor_ms() const { return floor_.empty() ? 0 : floor_.front().value; }

  JitterConfig config_;
  State state_ = State::Buffering;
  std::map<std::uint64_t, std::string> packets_;  // seq -> payload, all >= next_ when playing
  std::size_t bytes_ = 0;
  std::uint32_t frame_ = 0;  // the burst's frame size in samples, 0 until known
  // Playing: the next frame to play. Buffering after playout began (has_position_): the
  // lowest seq still wanted.
  std::uint64_t next_ = 0;
  bool has_position_ = false;
  bool has_last_ = false;
  std::uint64_t last_ = 0;
  double conceal_run_ms_ = 0;  // PLC in a row
  // Underrun PLC frames played while waiting for next_, and the delay that would have avoided
  // them.
  std::uint32_t underrun_frames_ = 0;
  double underrun_need_ms_ = 0;
  // Whether each of the last kHistory frames before next_ was received (a packet arriving for
  // one is a duplicate, else late).
  static constexpr std::size_t kHistory = 1024;
  std::vector<bool> history_;

  std::deque<Sample> floor_;   // (arrival, relative delay), increasing: front is the minimum
  std::deque<Sample> excess_;  // (arrival, relative delay above the floor)
  std::vector<double> scratch_;
  double last_arrival_ms_ = 0;
  double last_now_ms_ = 0;
  bool clock_seen_ = false;

  // Playout delays of the last few frames: the drift control acts on their min / max so one
  // early or late pop() does not trigger it.
  static constexpr std::size_t kControlPops = 8;
  double delays_[kControlPops] = {};
  std::size_t delay_count_ = 0;
  std::size_t delay_pos_ = 0;

  double target_ms_;
  double jitter_ms_ = 0;
  double delay_ms_ = 0;
  JitterStats counters_;
};

}  // namespace chorus::voice
