// The listener's side of push-to-talk, sans-IO: which voice to accept (the floor), in what
// order and when to play it (JitterBuffer), and the Opus decoding (FEC, PLC). It runs where the
// audio is played (an AudioWorklet): packets go in as they arrive, and the audio clock takes
// one frame of PCM at a time.
//
// Floor rule (docs/protocol.md, "Voice frames"): voice is played only from the peer the server
// granted the floor, stamped with that grant's epoch. Because the talker's voice travels peer to
// peer and the grant travels through the server, a burst's first packets may come before the
// `floor` message: packets for an epoch newer than any seen wait (bounded, kPendingMs) for it.
// After a release the burst plays out: its packets are accepted for kReleaseGraceMs. Anything
// else is a floor violation, reported once per peer and epoch and never played.
//
// Peers are small integers the caller assigns (the glue maps peer ids to them). Times are ms
// on one monotonic clock (the audio clock in a worklet).
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "opus/codec.hpp"
#include "voice/jitter_buffer.hpp"
#include "voice/voice_frame.hpp"

namespace chorus::opus {

enum class VoiceVerdict {
  Accepted,        // buffered for playout
  Pending,         // for an epoch newer than any grant seen: held until the grant arrives
                   // (then played) or kPendingMs passes (then a violation)
  Ignored,         // harmless: a duplicate, too late, or from a burst that was replaced
  FloorViolation,  // its sender does not hold the floor for this epoch: dropped
  BadAudio,        // absurd numbers or size: dropped
};

struct VoicePushResult {
  VoiceVerdict verdict = VoiceVerdict::Accepted;
  bool report = false;  // the first of its kind for this peer and burst: tell the app
};

enum class PlayState { Idle, Buffering, Playing };

class VoiceReceiver {
 public:
  static constexpr double kPendingMs = 1000;
  static constexpr std::size_t kMaxPending = 64;
  static constexpr double kReleaseGraceMs = 1000;

  explicit VoiceReceiver(voice::JitterConfig config = {});

  // The room's floor changed: `holder` (0: nobody) talks under `epoch`.
  void set_floor(std::uint32_t holder, std::uint32_t epoch, double now_ms);
  VoicePushResult push(std::uint32_t peer, const voice::VoiceHeader& header, std::string_view packet,
                       double arrival_ms);

  // Produces the next frame into pcm() and returns its length in samples (mono, 48 kHz):
  // decoded speech, FEC, PLC, or silence while nothing plays. Never fails: a packet that does
  // not decode is concealed and counted (decode_errors()).
  int render(double now_ms);
  const float* pcm() const { return pcm_; }
  PlayState state() const;
  // The peer whose burst is playing (0 when idle).
  std::uint32_t talker() const { return active_ ? burst_peer_ : 0; }

  // Packets that waited for their grant (Pending) and were accepted when it came, oldest
  // first, so the glue can report them like any accepted packet. False when none is left.
  bool next_admitted(std::uint32_t& peer, voice::VoiceHeader& header, std::string& packet);

  voice::JitterStats jitter_stats() const { return jitter_.stats(); }
  std::uint64_t decode_errors() const { return decode_errors_; }
  // True once per burst, after its first packet that did not decode: the glue reports it
  // (`bad-audio`) like a push() with `report`.
  bool take_decode_report() { return std::exchange(decode_report_, false); }
  std::uint64_t violations() const { return violations_; }

 private:
  struct Pending {
    std::uint32_t peer;
    voice::VoiceHeader header;
    std::string packet;
    double arrival_ms;
  };

  void start_burst(std::uint32_t peer, std::uint32_t epoch);
  VoicePushResult accept(const voice::VoiceHeader& header, std::string_view packet, double arrival_ms);
  VoicePushResult violation(std::uint32_t peer, std::uint32_t epoch);
  void expire_pending(double now_ms);

  voice::JitterBuffer jitter_;
  Decoder decoder_{1};
  float pcm_[kMaxFrameSamples] = {};

  // The floor as last told, and the burst being played (a released burst plays out).
  std::uint32_t holder_ = 0;
  std::uint32_t floor_epoch_ = 0;
  std::uint32_t burst_peer_ = 0;
  std::uint32_t burst_epoch_ = 0;
  double released_at_ = -1;  // when the burst's holder released it, or -1
  bool active_ = false;      // a burst has started and not ended

  std::deque<Pending> pending_;
  std::deque<Pending> admitted_;  // bounded by kMaxPending: filled only from pending_
  std::set<std::pair<std::uint32_t, std::uint32_t>> reported_;  // (peer, epoch) violations told
  std::uint32_t bad_reported_epoch_ = 0;
  std::uint32_t decode_reported_epoch_ = 0;
  bool decode_report_ = false;
  std::uint64_t decode_errors_ = 0;
  std::uint64_t violations_ = 0;
};

}  // namespace chorus::opus
