// One peer connection as the browser runs it: an Opus sender (mid "0": 100-byte packets every
// 20 ms, 40 kbit/s on the wire), a video sender (mid "1": a 1280x720@30 camera), the pacer, the
// congestion control (GccModel) and the getStats() counters the glue would read.
//
// Video encoder: its target is min(estimate - audio, maxBitrate), at least 30 kbit/s (libwebrtc
// keeps a camera at its minimum rather than pausing it); nothing while `active` is false. The
// output rate follows the target with a 200 ms lag (rate control), frames at
// min(30, maxFramerate) per second, each frame's size log-normally spread (sigma 0.2); the first
// frame after (re)activation is a key frame (4x). Frames are cut into packets of at most 1200
// bytes (sizes count every header: what the link carries). The encoder's own resolution
// adaptation ("balanced"): below 450 kbit/s half the configured size, below 150 kbit/s a quarter.
// Pacer: 2.5 x the estimate (libwebrtc's pacing factor), audio first.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "gcc.hpp"
#include "packet.hpp"
#include "rng.hpp"

namespace abrsim {

struct Encoding {
  bool active = true;
  double max_bitrate_bps;
  double scale_down_by = 1;
  double max_framerate = 30;
};

class Connection {
 public:
  static constexpr double kAudioBps = 40e3;
  static constexpr double kOneWayS = 0.020;  // half of the 40 ms base RTT

  Connection(int index, std::string id, std::uint64_t seed, double default_max_video_bps);

  // Encoder and pacer for one step: calls `send(packet)` for each packet put on the wire; that
  // returns false when the bottleneck dropped it at the tail.
  void step(double now_s, double dt_s, const std::function<bool(const Packet&)>& send);
  // The bottleneck let `packet` go at `departure_s` (lost: random loss on the link).
  void on_departure(const Packet& packet, double departure_s, bool lost);
  // Transport-wide feedback: builds the report of what arrived by now and feeds the GCC model.
  void feedback(double now_s);

  // This connection's entry of a `stats-sample` (docs/architecture.md).
  chorus::Json stats_json() const;
  // An action `set-sender-parameters` for this connection.
  void apply(const chorus::Json& action);

  const std::string& id() const { return id_; }
  GccModel& gcc() { return gcc_; }
  const GccModel& gcc() const { return gcc_; }
  bool video_active() const { return video_.active; }
  const Encoding& video() const { return video_; }
  const Encoding& audio() const { return audio_; }

 private:
  struct Record {
    int mid, bytes;
    double sent_s;
    Fate fate = Fate::Pending;
    double arrival_s = 0;
  };
  struct Counters {
    double bytes_sent = 0, packets_sent = 0, packets_lost = 0, jitter_s = 0;
    double last_transit_s = -1;
  };
  void emit_frame(double now_s);
  void queue_packet(int mid, int bytes, double now_s);

  int index_;
  std::string id_;
  Rng rng_;
  GccModel gcc_;
  Encoding audio_, video_;
  double video_rate_bps_ = 0;
  double next_frame_s_ = 0, next_audio_s_ = 0;
  bool keyframe_ = true;
  double frame_width_ = 0, frame_height_ = 0, frames_per_second_ = 0;
  std::string limitation_ = "none";
  std::deque<Packet> pacer_audio_, pacer_video_;
  double pacer_budget_bits_ = 0;
  std::uint64_t next_seq_ = 0;
  std::vector<Record> records_;  // by transport-wide sequence number
  std::size_t feedback_cursor_ = 0;
  Counters counters_[2];
  double pair_bytes_sent_ = 0;
  double rtt_s_ = 0.04;
};

}  // namespace abrsim
