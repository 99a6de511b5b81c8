#include "sender.hpp"

#include <algorithm>
#include <cmath>

namespace abrsim {

namespace {
constexpr double kSourceWidth = 1280, kSourceHeight = 720, kSourceFps = 30;
constexpr int kMaxPacketBytes = 1200;
constexpr int kAudioPacketBytes = 100;  // 50 per second: 40 kbit/s
constexpr double kPacingFactor = 2.5;
constexpr double kEncoderLagS = 0.2;
}  // namespace

Connection::Connection(int index, std::string id, std::uint64_t seed, double default_max_video_bps)
    : index_(index), id_(std::move(id)), rng_(seed) {
  audio_.max_bitrate_bps = kAudioBps;
  video_.max_bitrate_bps = default_max_video_bps;
  // Media starts at slightly different instants on each connection.
  next_frame_s_ = rng_.uniform() / kSourceFps;
  next_audio_s_ = rng_.uniform() * 0.02;
}

void Connection::queue_packet(int mid, int bytes, double now_s) {
  Packet p;
  p.connection = index_;
  p.mid = mid;
  p.bytes = bytes;
  p.sent_s = now_s;
  (mid == 0 ? pacer_audio_ : pacer_video_).push_back(p);
}

void Connection::emit_frame(double now_s) {
  double fps = std::max(1.0, std::min(kSourceFps, video_.max_framerate));
  next_frame_s_ += 1 / fps;
  if (!video_.active) {
    keyframe_ = true;
    frames_per_second_ = 0;
    return;
  }
  double bits = video_rate_bps_ / fps * std::exp(0.2 * rng_.normal() - 0.02);
  if (keyframe_) bits *= 4;
  keyframe_ = false;
  int bytes = std::max(200, static_cast<int>(bits / 8));
  int packets = (bytes + kMaxPacketBytes - 1) / kMaxPacketBytes;
  for (int i = 0; i < packets; ++i) queue_packet(1, bytes / packets + (i < bytes % packets ? 1 : 0), now_s);
  frames_per_second_ = fps;
  double scale = std::max(1.0, video_.scale_down_by);
  limitation_ = "none";
  if (video_rate_bps_ < 150e3) scale *= 4, limitation_ = "bandwidth";
  else if (video_rate_bps_ < 450e3) scale *= 2, limitation_ = "bandwidth";
  frame_width_ = std::round(kSourceWidth / scale);
  frame_height_ = std::round(kSourceHeight / scale);
}

void Connection::step(double now_s, double dt_s, const std::function<bool(const Packet&)>& send) {
  // Encoder: the bandwidth allocation of this connection's estimate, then the rate controller.
  double audio_bps = audio_.active ? std::min(kAudioBps, audio_.max_bitrate_bps) : 0;
  double target = 0;
  if (video_.active) {
    target = std::min(video_.max_bitrate_bps, std::max(30e3, gcc_.estimate_bps() - audio_bps));
  }
  video_rate_bps_ += (target - video_rate_bps_) * std::min(1.0, dt_s / kEncoderLagS);
  if (!video_.active) video_rate_bps_ = 0;
  while (next_audio_s_ <= now_s) {
    next_audio_s_ += 0.02;
    if (audio_bps > 0) queue_packet(0, static_cast<int>(kAudioPacketBytes * audio_bps / kAudioBps), now_s);
  }
  while (next_frame_s_ <= now_s) emit_frame(now_s);

  // Pacer.
  double rate = kPacingFactor * gcc_.estimate_bps();
  pacer_budget_bits_ = std::min(pacer_budget_bits_ + rate * dt_s, rate * 0.010);
  while (pacer_budget_bits_ > 0 && (!pacer_audio_.empty() || !pacer_video_.empty())) {
    auto& q = pacer_audio_.empty() ? pacer_video_ : pacer_audio_;
    Packet p = q.front();
    q.pop_front();
    p.seq = next_seq_++;
    p.sent_s = now_s;
    pacer_budget_bits_ -= p.bytes * 8.0;
    records_.push_back({p.mid, p.bytes, now_s});
    Counters& c = counters_[p.mid];
    c.bytes_sent += p.bytes;
    c.packets_sent += 1;
    pair_bytes_sent_ += p.bytes;
    if (!send(p)) records_.back().fate = Fate::Dropped;
  }
}

void Connection::on_departure(const Packet& packet, double departure_s, bool lost) {
  Record& r = records_[packet.seq];
  if (lost) {
    r.fate = Fate::Dropped;
    return;
  }
  r.fate = Fate::Delivered;
  r.arrival_s = departure_s + kOneWayS;
  // RFC 3550 interarrival jitter at the receiver.
  Counters& c = counters_[packet.mid];
  double transit = r.arrival_s - r.sent_s;
  if (c.last_transit_s >= 0) c.jitter_s += (std::fabs(transit - c.last_transit_s) - c.jitter_s) / 16;
  c.last_transit_s = transit;
}

void Connection::feedback(double now_s) {
  Report report;
  report.now_s = now_s;
  double cutoff = now_s - kOneWayS;  // the receiver sent this report one way ago
  std::size_t i = feedback_cursor_;
  std::vector<std::size_t> gap;      // drops known only once a later packet arrives
  for (; i < records_.size(); ++i) {
    Record& r = records_[i];
    if (r.fate == Fate::Pending) break;
    if (r.fate == Fate::Dropped) {
      gap.push_back(i);
      continue;
    }
    if (r.arrival_s > cutoff) break;
    for (std::size_t g : gap) counters_[records_[g].mid].packets_lost += 1;
    report.lost += static_cast<int>(gap.size());
    gap.clear();
    report.arrivals.push_back({r.sent_s, r.arrival_s, r.bytes});
    feedback_cursor_ = i + 1;
  }
  if (!report.arrivals.empty()) {
    double owd = 0;
    for (const Arrival& a : report.arrivals) owd += a.arrival_s - a.sent_s;
    rtt_s_ = owd / report.arrivals.size() + kOneWayS;
  }
  report.rtt_s = rtt_s_;
  gcc_.on_report(report);
}

chorus::Json Connection::stats_json() const {
  using chorus::Json;
  Json audio_out = {{"mid", "0"}, {"kind", "audio"}, {"bytesSent", counters_[0].bytes_sent},
                    {"packetsSent", counters_[0].packets_sent}};
  Json video_out = {{"mid", "1"}, {"kind", "video"}, {"bytesSent", counters_[1].bytes_sent},
                    {"packetsSent", counters_[1].packets_sent}, {"sourceWidth", kSourceWidth},
                    {"sourceHeight", kSourceHeight}, {"sourceFramesPerSecond", kSourceFps},
                    {"active", video_.active}};
  if (video_.active) {
    video_out["framesPerSecond"] = frames_per_second_;
    video_out["frameWidth"] = frame_width_;
    video_out["frameHeight"] = frame_height_;
    video_out["qualityLimitationReason"] = limitation_;
  }
  Json remote = Json::array();
  const char* kinds[2] = {"audio", "video"};
  for (int mid = 0; mid < 2; ++mid) {
    remote.push_back({{"mid", std::to_string(mid)}, {"kind", kinds[mid]},
                      {"packetsLost", counters_[mid].packets_lost},
                      {"jitter", counters_[mid].jitter_s}, {"roundTripTime", rtt_s_}});
  }
  return {{"id", id_},
          {"path", "mesh"},
          {"pair", {{"availableOutgoingBitrate", std::round(gcc_.estimate_bps())},
                    {"currentRoundTripTime", rtt_s_},
                    {"bytesSent", pair_bytes_sent_},
                    {"bytesReceived", 0}}},
          {"outbound", Json::array({audio_out, video_out})},
          {"remoteInbound", remote},
          {"inbound", Json::array()}};
}

void Connection::apply(const chorus::Json& action) {
  auto mid = chorus::get_string(action, "mid");
  const chorus::Json* encodings = chorus::find_field(action, "encodings");
  if (!mid || !encodings || !encodings->is_array() || encodings->empty()) return;
  Encoding& e = *mid == "0" ? audio_ : video_;
  const chorus::Json& enc = (*encodings)[0];
  if (auto v = chorus::get_bool(enc, "active")) e.active = *v;
  if (auto v = chorus::get_number(enc, "maxBitrate")) e.max_bitrate_bps = *v;
  if (auto v = chorus::get_number(enc, "scaleResolutionDownBy")) e.scale_down_by = *v;
  if (auto v = chorus::get_number(enc, "maxFramerate")) e.max_framerate = *v;
}

}  // namespace abrsim
