#include "abr/abr_core.hpp"

#include <algorithm>
#include <cmath>

#include "abr/allocation.hpp"
#include "stats/quality.hpp"

namespace chorus::abr {

using stats::Path;

AbrConfig AbrConfig::from_json(const Json& config) {
  AbrConfig c;
  if (auto control = get_bool(config, "control")) c.control = *control;
  double kbps = 0;
  auto kbit = [&](const char* key, double& field) {
    kbps = 0;
    read_positive(config, key, kbps);
    if (kbps > 0) field = kbps * 1000;
  };
  kbit("audioFloorKbps", c.audio_floor_bps);
  kbit("restoreVideoKbps", c.restore_video_bps);
  kbit("maxVideoKbps", c.max_video_bps);
  read_positive(config, "restoreHoldMs", c.restore_hold_ms);
  c.restore_video_bps = std::max(c.restore_video_bps, c.audio_floor_bps);  // keep the hysteresis
  return c;
}

// ---- one connection's rates --------------------------------------------------------------

struct AbrCore::PeerReceive {
  std::string path;
  double receive_bps = 0;
  double send_bps = 0;
  bool video_sending = false;
  std::optional<double> audio_score, audio_mos, audio_loss, audio_jitter_ms, rtt_ms;
  std::optional<double> video_score, video_width, video_height, video_fps, video_freezes;
  double audio_bps = -1, video_bps = -1;  // the flow chosen when two paths carry the peer
};

struct AbrCore::Measured {
  const stats::ConnectionSample* c = nullptr;
  std::optional<double> sent_bps;
  bool has_audio = false;
  std::optional<double> audio_bps;
  bool has_video = false;
  bool video_growing = false;
  double video_bps = 0;
  std::string video_mid;
  bool video_simulcast = false;
  VideoSource source;
  std::optional<double> loss;  // of what we send
  double packets_out = 0;      // the packets that loss is over
  std::optional<double> rtt_ms;
  std::optional<double> queue_ms;
  std::optional<double> available_bps;

  struct In {
    std::string peer, kind;
    double bps = 0;
    std::optional<double> loss, jitter_ms, width, height, fps, frozen_fraction;
    double freezes = 0;
    bool new_freeze = false;
  };
  std::vector<In> inbound;
  double receive_bps = 0;
  double received_packets = 0, lost_packets = 0;
};

AbrCore::AbrCore(AbrConfig config) : config_(config), uplink_(config.uplink) {}

void AbrCore::handle_text(std::string_view input, double now_ms) {
  auto json = parse_json(input);
  if (!json) return warn("input is not JSON");
  handle(*json, now_ms);
}

void AbrCore::handle(const Json& input, double now_ms) {
  if (!input.is_object()) return warn("input is not an object");
  const auto type = get_string(input, "type").value_or("");
  if (type == "stats-sample") return on_sample(input, now_ms);
  if (type == "view-size") return on_view_size(input);
  if (type == "layer-preference") return on_layer_preference(input);
  if (type == "layer-wants") return on_layer_wants(input);
  if (type == "peer-removed") {
    const auto peer = get_string(input, "peer").value_or("");
    peers_.erase(peer);
    subscriptions_.erase(peer);
    min_rtts_.erase(peer);
    const std::string prefix = peer + "/";
    for (auto it = senders_.lower_bound(prefix); it != senders_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      it = senders_.erase(it);
    }
    // A sample already under way may still carry it: it must not come back from that.
    if (!peer.empty() && removed_.size() < kMaxPeers) removed_[peer] = now_ms;
    return;
  }
  warn("unknown input type `" + type + "`");
}

std::optional<Json> AbrCore::poll() {
  if (out_.empty()) return std::nullopt;
  Json next = std::move(out_.front());
  out_.pop_front();
  return next;
}

void AbrCore::warn(std::string message) {
  emit({{"event", "warning"}, {"code", "bad-stats"}, {"message", std::move(message)}});
}

AbrCore::PeerState* AbrCore::peer_state(const std::string& id) {
  if (id.empty() || removed_.count(id)) return nullptr;
  auto it = peers_.find(id);
  if (it != peers_.end()) return &it->second;
  if (peers_.size() >= kMaxPeers) {
    warn("more than " + std::to_string(kMaxPeers) + " peers; `" + id + "` is ignored");
    return nullptr;
  }
  return &peers_[id];
}

void AbrCore::on_view_size(const Json& input) {
  const auto w = get_number(input, "width"), h = get_number(input, "height");
  if (!w || !h || !std::isfinite(*w) || !std::isfinite(*h) || *w < 0 || *h < 0) {
    return warn("view-size needs a `peer` and a non-negative `width` and `height`");
  }
  if (PeerState* p = peer_state(get_string(input, "peer").value_or(""))) p->view_height = *h;
}

void AbrCore::on_layer_preference(const Json& input) {
  PeerState* p = peer_state(get_string(input, "peer").value_or(""));
  if (p == nullptr) return;
  const Json* layer = find_field(input, "layer");
  if (layer == nullptr || layer->is_null()) {
    p->preference.reset();
  } else if (auto l = layer_from(get_string(input, "layer").value_or(""))) {
    p->preference = *l;
  } else {
    warn("layer-preference: `layer` is not h, m, l or null");
  }
}

void AbrCore::on_layer_wants(const Json& input) {
  auto l = layer_from(get_string(input, "layer").value_or(""));
  if (!l) return warn("layer-wants: `layer` is not h, m or l");
  if (PeerState* p = peer_state(get_string(input, "from").value_or(""))) p->wants_from_us = *l;
}

// ---- a sample ----------------------------------------------------------------------------

AbrCore::Measured AbrCore::measure(const stats::ConnectionSample& c, double interval_s, double now_ms,
                                   std::vector<std::string>& problems) {
  Measured m;
  m.c = &c;
  const std::string base = c.id + "/";
  const auto bps = [&](std::optional<double> bytes) -> std::optional<double> {
    if (!bytes) return std::nullopt;
    return *bytes * 8 / interval_s;
  };

  // The video sender we steer: the simulcast one (rows with a rid) if any, else the lowest
  // mid (the first video added: the camera; a later screen share is paid for, not steered).
  const auto mid_before = [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  };
  for (const auto& o : c.outbound) {
    if (o.kind != "video") continue;
    const bool simulcast = !o.rid.empty();
    if (m.video_mid.empty() || (simulcast && !m.video_simulcast) ||
        (simulcast == m.video_simulcast && mid_before(o.mid, m.video_mid))) {
      m.video_mid = o.mid;
      m.video_simulcast = simulcast;
    }
  }

  // What we send, per encoding, and what the far end says of it.
  double sent = 0;
  bool any_rate = false;
  std::map<std::string, double> packets_sent;  // mid/rid -> packets in the interval
  for (const auto& o : c.outbound) {
    const std::string key = base + "out/" + o.mid + "/" + o.rid;
    const auto rate = bps(counters_.delta(key + "/bytesSent", o.bytes_sent, problems));
    if (auto p = counters_.delta(key + "/packetsSent", o.packets_sent, problems)) packets_sent[o.mid + "/" + o.rid] = *p;
    if (rate) {
      sent += *rate;
      any_rate = true;
    }
    if (o.kind == "audio" || o.mid != m.video_mid) {
      // Audio, and video we do not steer: a cost the split pays first.
      m.has_audio = m.has_audio || o.kind == "audio";
      if (rate) m.audio_bps = m.audio_bps.value_or(0) + *rate;
      continue;
    }
    m.has_video = true;
    if (rate && *rate > 0) {
      m.video_growing = true;
      m.video_bps += *rate;
    }
    if (o.source_width && o.source_height && *o.source_width > 0 && *o.source_height > 0) {
      m.source.width = *o.source_width;
      m.source.height = *o.source_height;
      if (o.source_frames_per_second && *o.source_frames_per_second > 0) {
        m.source.frames_per_second = *o.source_frames_per_second;
      }
    }
  }
  if (any_rate) m.sent_bps = sent;

  // Loss: each report's fractionLost (the receiver's count over its own report interval),
  // weighted by the packets its stream sent. A difference of packetsLost would be divided by
  // the wrong window: reports come every 1 s for video but every 5 s or so for audio.
  double lost = 0, weighed = 0;
  std::optional<double> rtt;
  for (const auto& r : c.remote_inbound) {
    const std::string key = base + "rin/" + r.mid + "/" + r.rid + "/packetsLost";
    const auto d = counters_.delta(key, r.packets_lost, problems, true);
    auto sent_it = packets_sent.find(r.mid + "/" + r.rid);
    const double packets = sent_it != packets_sent.end() ? sent_it->second : 0;
    if (packets > 0 && r.fraction_lost) {
      lost += std::min(1.0, *r.fraction_lost) * packets;
      weighed += packets;
    } else if (packets > 0 && d) {
      lost += std::min(*d, packets);
      weighed += packets;
    }
    if (r.round_trip_time) rtt = std::max(rtt.value_or(0), *r.round_trip_time * 1000);
  }
  if (weighed > 0) {
    m.loss = lost / weighed;
    m.packets_out = weighed;
  }
  if (!rtt && c.pair.current_round_trip_time) rtt = *c.pair.current_round_trip_time * 1000;
  m.rtt_ms = rtt;
  if (rtt) {
    // This connection's queueing delay: its RTT above its own minimum of the last 30 s.
    auto it = min_rtts_.find(c.id);
    if (it == min_rtts_.end() && min_rtts_.size() < kMaxPeers) it = min_rtts_.emplace(c.id, std::deque<std::pair<double, double>>{}).first;
    if (it != min_rtts_.end()) {
      auto& history = it->second;
      while (!history.empty() && now_ms - history.front().first > kMinRttWindowMs) history.pop_front();
      if (history.size() >= 64) history.pop_front();
      history.emplace_back(now_ms, *rtt);
      double least = *rtt;
      for (const auto& [t, v] : history) least = std::min(least, v);
      m.queue_ms = *rtt - least;
    }
  }
  m.available_bps = c.pair.available_outgoing_bitrate;

  // What we receive.
  for (const auto& in : c.inbound) {
    Measured::In row;
    row.peer = !in.peer.empty() ? in.peer : (c.path == Path::Mesh ? c.id : std::string());
    row.kind = in.kind;
    const std::string key = base + "in/" + in.mid + "/";
    const auto rate = bps(counters_.delta(key + "bytesReceived", in.bytes_received, problems));
    row.bps = rate.value_or(0);
    m.receive_bps += row.bps;
    const auto got = counters_.delta(key + "packetsReceived", in.packets_received, problems);
    const auto lost_in = counters_.delta(key + "packetsLost", in.packets_lost, problems, true);
    if (got && lost_in) {
      m.received_packets += *got;
      m.lost_packets += *lost_in;
      if (*got + *lost_in > 0) row.loss = *lost_in / (*got + *lost_in);
    }
    if (in.jitter) row.jitter_ms = *in.jitter * 1000;
    row.width = in.frame_width;
    row.height = in.frame_height;
    row.fps = in.frames_per_second;
    const auto freezes = counters_.delta(key + "freezeCount", in.freeze_count, problems);
    const auto frozen = counters_.delta(key + "totalFreezesDuration", in.total_freezes_duration, problems);
    if (freezes && *freezes > 0) row.new_freeze = true;
    if (in.freeze_count) row.freezes = *in.freeze_count;
    if (frozen) row.frozen_fraction = std::min(1.0, *frozen / interval_s);
    // No frame rate reported while frames are decoded: the decoder has not said yet.
    if (in.kind == "video" && !row.fps) {
      if (auto decoded = counters_.delta(key + "framesDecoded", in.frames_decoded, problems)) row.fps = *decoded / interval_s;
    }
    m.inbound.push_back(std::move(row));
  }
  return m;
}

void AbrCore::on_sample(const Json& input, double now_ms) {
  std::vector<std::string> problems;
  const stats::StatsSample sample = stats::read_stats_sample(input, problems);

  std::optional<double> interval_s;
  if (last_sample_ms_) {
    const double dt = (now_ms - *last_sample_ms_) / 1000;
    if (dt <= 0.05) {
      // Two samples at once (or a clock going back) give no rates: keep the first one's.
      warn("stats-sample arrived " + std::to_string(dt * 1000) + " ms after the last one; ignored");
      return;
    }
    interval_s = dt;
  }
  last_sample_ms_ = now_ms;

  std::vector<Measured> all;
  if (interval_s) {
    for (const auto& c : sample.connections) all.push_back(measure(c, *interval_s, now_ms, problems));
  } else {
    // The first sample only starts the counters.
    for (const auto& c : sample.connections) measure(c, 1, now_ms, problems);
  }
  counters_.end_sample();
  mesh_peers_.clear();
  std::set<std::string> present;
  for (const auto& c : sample.connections) {
    if (c.path == Path::Mesh && mesh_peers_.size() < kMaxPeers) mesh_peers_.insert(c.id);
    present.insert(c.id);
  }
  // Senders and RTT histories of connections that are gone go with them.
  for (auto it = senders_.begin(); it != senders_.end();) {
    if (present.count(it->first.substr(0, it->first.rfind('/')))) ++it;
    else it = senders_.erase(it);
  }
  for (auto it = min_rtts_.begin(); it != min_rtts_.end();) {
    if (present.count(it->first)) ++it;
    else it = min_rtts_.erase(it);
  }
  for (auto it = removed_.begin(); it != removed_.end();) {
    if (now_ms - it->second > kRemovedMemoryMs) it = removed_.erase(it);
    else ++it;
  }

  if (interval_s) {
    // The uplink as a whole: every connection that sends.
    UplinkSample up;
    up.interval_s = *interval_s;
    std::vector<Measured> sending;
    double lost = 0, packets = 0, queue_weighted = 0, queue_bps = 0;
    for (const Measured& m : all) {
      if (m.c->outbound.empty() || m.c->path == Path::Subscribe) continue;
      sending.push_back(m);
      if (m.sent_bps) up.sent_bps = up.sent_bps.value_or(0) + *m.sent_bps;
      // Only connections that sent in the interval speak for the uplink: a paused one (its peer
      // takes our media from the SFU) has stale estimates, loss and RTT.
      if (!m.sent_bps || *m.sent_bps < 1000) continue;
      if (m.loss && m.packets_out > 0) {
        lost += *m.loss * m.packets_out;
        packets += m.packets_out;
      }
      if (m.queue_ms) {
        queue_weighted += *m.queue_ms * *m.sent_bps;
        queue_bps += *m.sent_bps;
      }
      if (m.available_bps) {
        up.available_bps = up.available_bps.value_or(0) + *m.available_bps;
        up.largest_available_bps = std::max(up.largest_available_bps.value_or(0), *m.available_bps);
      }
    }
    if (packets > 0) up.loss_fraction = lost / packets;
    if (queue_bps > 0) up.queue_ms = queue_weighted / queue_bps;
    // Room to try video again on every connection that has it off (the budget only learns by
    // trying, and audio alone never tests the link).
    double off = 0;
    for (const auto& [key, sender] : senders_) off += sender.video_on ? 0 : 1;
    if (off > 0) up.probe_headroom_bps = std::max(config_.uplink.probe_headroom_bps, 1.2 * off * config_.restore_video_bps);
    if (!sending.empty()) uplink_.update(up, now_ms);
    if (config_.control) {
      allocate(sending, now_ms);
      decide_subscriptions(all, now_ms);
    }
  }

  // Per peer: the best flow of each kind among the connections that carry that peer.
  std::map<std::string, PeerReceive> peers;
  for (const Measured& m : all) {
    for (const auto& in : m.inbound) {
      if (in.peer.empty() || (peers.size() >= kMaxPeers && !peers.count(in.peer))) continue;
      PeerReceive& p = peers[in.peer];
      p.receive_bps += in.bps;
      if (in.kind == "audio" && in.bps > p.audio_bps) {
        p.audio_bps = in.bps;
        p.path = stats::to_string(m.c->path);
        const double jitter = in.jitter_ms.value_or(0);
        const double loss = in.loss.value_or(0);
        // No audio packets in the interval: nothing is heard.
        p.audio_mos = stats::e_model_mos(stats::one_way_delay_ms(m.rtt_ms.value_or(0), jitter), loss);
        p.audio_score = in.bps > 0 ? *p.audio_mos : 0.0;
        p.audio_loss = loss;
        p.audio_jitter_ms = jitter;
        p.rtt_ms = m.rtt_ms;
      } else if (in.kind == "video" && in.bps > p.video_bps) {
        p.video_bps = in.bps;
        if (p.path.empty()) p.path = stats::to_string(m.c->path);
        p.video_score = stats::video_score(in.height.value_or(0), in.bps > 0 ? in.fps.value_or(0) : 0,
                                           in.frozen_fraction.value_or(0));
        p.video_width = in.width;
        p.video_height = in.height;
        p.video_fps = in.fps;
        p.video_freezes = in.freezes;
      }
    }
    if (m.c->path == Path::Mesh && !m.c->outbound.empty()) {
      if (peers.size() < kMaxPeers || peers.count(m.c->id)) {
        PeerReceive& p = peers[m.c->id];
        p.send_bps += m.sent_bps.value_or(0);
        p.video_sending = p.video_sending || m.video_growing;
        if (p.path.empty()) p.path = "mesh";
      }
    }
  }
  if (interval_s) report(all, peers);

  if (!problems.empty()) {
    std::string message = problems.front();
    if (problems.size() > 1) message += " (and " + std::to_string(problems.size() - 1) + " more)";
    warn(std::move(message));
  }
}

// ---- the uplink's split --------------------------------------------------------------------

bool AbrCore::video_allowed(VideoSender& s, double connection_bps, double now_ms) {
  if (s.video_on) {
    if (connection_bps < config_.audio_floor_bps) {
      s.video_on = false;
      s.restore_since.reset();
      // Turned off again soon after a restore: the link did not carry it; wait longer next
      // time (the budget can only learn by trying).
      const bool soon = s.restored_at && now_ms - *s.restored_at < 2 * config_.restore_hold_ms;
      s.restore_hold_ms = soon ? std::min(s.restore_hold_ms * 2, 4 * config_.restore_hold_ms)
                               : config_.restore_hold_ms;
    }
  } else if (connection_bps >= config_.restore_video_bps) {
    if (!s.restore_since) s.restore_since = now_ms;
    if (now_ms - *s.restore_since >= std::max(s.restore_hold_ms, config_.restore_hold_ms)) {
      s.video_on = true;
      s.restored_at = now_ms;
    }
  } else {
    s.restore_since.reset();
  }
  return s.video_on;
}

void AbrCore::allocate(const std::vector<Measured>& sending, double now_ms) {
  std::vector<Claim> claims;
  std::vector<VideoSender*> senders;
  for (const Measured& m : sending) {
    Claim c;
    if (m.has_audio) c.audio_bps = m.audio_bps.value_or(config_.typical_audio_bps);
    VideoSender* s = nullptr;
    if (m.has_video && !m.video_mid.empty() && m.c->path != Path::Bridge) {
      const std::string key = m.c->id + "/" + m.video_mid;
      auto it = senders_.find(key);
      // A video sender counts while it sends, or while it is off because we turned it off; a
      // sender paused by the topology (its peer takes our video from the SFU) does not.
      if (m.video_growing || (it != senders_.end() && !it->second.video_on)) {
        if (it == senders_.end() && senders_.size() < kMaxPeers) it = senders_.emplace(key, VideoSender{}).first;
        if (it != senders_.end()) s = &it->second;
      }
    }
    c.wants_video = s != nullptr;
    // Its own path's estimate caps it only when that path is the narrow part: it loses packets
    // while the uplink as a whole is clean (a peer with a poor downlink), and what it leaves
    // goes to the others. On a congested shared uplink the connections' estimates are just
    // how the browser's flows happen to divide it, often unfairly: the split decides instead.
    // Never while its video is off: an audio-only estimate says what audio needs.
    const bool own_path_narrow = m.loss && *m.loss > config_.uplink.clean_loss &&
                                 uplink_.trend() != UplinkBudget::Trend::Backoff;
    if (m.video_growing && own_path_narrow) c.path_cap_bps = m.available_bps;
    claims.push_back(c);
    senders.push_back(s);
  }
  // A lone sender probing on a clean link may run a little past the budget, so that its encoder
  // follows the browser's own ramp instead of trailing it by a sample. Not in a mesh: there the
  // overshoot is what the shared budget is for.
  const auto video_senders = std::count_if(claims.begin(), claims.end(), [](const Claim& c) { return c.wants_video; });
  const bool lone_probe = video_senders == 1 && uplink_.trend() == UplinkBudget::Trend::Probing;
  const double budget = uplink_.budget_bps() * (lone_probe ? 1.1 : 1.0);
  const std::vector<double> shares = split_video_budget(budget, claims, config_.max_video_bps);
  for (std::size_t i = 0; i < sending.size(); ++i) {
    VideoSender* s = senders[i];
    if (s == nullptr) continue;
    if (sending[i].source.height > 0) s->source = sending[i].source;
    double connection_bps = shares[i] + claims[i].audio_bps;
    // Video goes off only when the browser's own estimate for this path agrees that it cannot
    // carry it: a starved CPU (late RTCP, receive queues overflowing) looks like congestion to
    // the budget, and must not blank a peer's picture.
    const auto& available = sending[i].available_bps;
    if (s->video_on && available && *available >= config_.restore_video_bps) {
      connection_bps = std::max(connection_bps, config_.audio_floor_bps);
    }
    const bool on = video_allowed(*s, connection_bps, now_ms);
    const double share = on ? shares[i] : 0;
    if (sending[i].c->path == Path::Publish) decide_publish_video(sending[i], *s, share);
    else decide_mesh_video(sending[i], *s, share);
  }
}

void AbrCore::decide_mesh_video(const Measured& m, VideoSender& s, double share) {
  VideoEncoding next;
  if (s.video_on) {
    next = video_encoding(std::max(share, 30'000.0), s.source, s.sent);
  } else {
    next = s.sent.value_or(VideoEncoding{});
    next.active = false;
  }
  if (s.sent && !worth_changing(*s.sent, next)) return;
  s.sent = next;
  Json e = {{"active", next.active}, {"maxBitrate", next.max_bitrate}};
  if (next.active) {
    e["maxFramerate"] = next.max_framerate;
    e["scaleResolutionDownBy"] = next.scale_resolution_down_by;
  }
  emit({{"action", "set-sender-parameters"}, {"connection", m.c->id}, {"mid", m.video_mid},
        {"encodings", Json::array({e})}});
}

void AbrCore::decide_publish_video(const Measured& m, VideoSender& s, double share) {
  // The layers some peer watches: every peer of the room (the mesh's connections) that has not
  // said otherwise watches h, the default subscription.
  std::array<bool, 3> wanted{true, false, false};
  for (const std::string& id : mesh_peers_) {
    auto it = peers_.find(id);
    wanted[static_cast<int>(it == peers_.end() ? Layer::H : it->second.wants_from_us)] = true;
  }
  std::array<LayerPlan, 3> plan{};
  if (s.video_on) plan = plan_simulcast(share, wanted, config_.simulcast);
  // The lowest layer always fits what the floor let through; without it nothing is seen.
  if (s.video_on && !plan[0].active) plan[0] = {true, std::max(share, 30'000.0)};
  if (s.sent_layers) {
    bool changed = false;
    for (int i = 0; i < 3; ++i) {
      const LayerPlan& a = (*s.sent_layers)[i];
      const LayerPlan& b = plan[i];
      const double diff = std::fabs(a.max_bitrate - b.max_bitrate);
      if (a.active != b.active || (b.active && diff >= 20'000 && diff >= 0.1 * a.max_bitrate)) changed = true;
    }
    if (!changed) return;
  }
  s.sent_layers = plan;
  Json encodings = Json::array();
  for (int i = 2; i >= 0; --i) {
    Json e = {{"rid", to_string(static_cast<Layer>(i))}, {"active", plan[i].active}};
    if (plan[i].active) e["maxBitrate"] = std::round(plan[i].max_bitrate);
    encodings.push_back(std::move(e));
  }
  emit({{"action", "set-sender-parameters"}, {"connection", m.c->id}, {"mid", m.video_mid},
        {"encodings", std::move(encodings)}});
}

// ---- SFU subscriptions ---------------------------------------------------------------------

void AbrCore::decide_subscriptions(const std::vector<Measured>& all, double now_ms) {
  for (const Measured& m : all) {
    if (m.c->path != Path::Subscribe) continue;
    // A freeze right after a layer switch is the switch itself (the new layer waits for its
    // keyframe), not the downlink: it must not pay for the next step down.
    bool froze = false;
    for (const auto& in : m.inbound) {
      if (in.kind != "video" || !in.new_freeze) continue;
      auto sub = subscriptions_.find(in.peer);
      const bool switching = sub != subscriptions_.end() && now_ms - sub->second.changed_ms < kSwitchSettleMs;
      froze = froze || !switching;
    }
    const double packets = m.received_packets + m.lost_packets;
    downlink_.update(packets > 0 ? m.lost_packets / packets : 0, froze, now_ms);
    for (const auto& in : m.inbound) {
      if (in.kind != "video" || in.peer.empty()) continue;
      if (!subscriptions_.count(in.peer) && subscriptions_.size() >= kMaxPeers) continue;
      Subscription& sub = subscriptions_[in.peer];
      // The top layer's height, from what arrives at the layer we asked for.
      static constexpr double kDown[] = {4, 2, 1};
      // (Not while a switch settles: the old layer's frames still arrive.)
      if (in.height && *in.height > 0 && now_ms - sub.changed_ms >= kSwitchSettleMs) {
        sub.full_height = *in.height * kDown[static_cast<int>(sub.layer)];
      }
      const PeerState* p = peer_state(in.peer);
      // The app's choice (setVideoQuality) stands as it is; else the view and the downlink.
      Layer want = layer_for_view(p && p->view_height ? p->view_height : std::nullopt, sub.full_height);
      want = std::min(want, downlink_.ceiling());
      if (p && p->preference) want = *p->preference;
      if (want == sub.layer) continue;
      sub.layer = want;
      sub.changed_ms = now_ms;
      emit({{"action", "set-layer"}, {"peer", in.peer}, {"layer", to_string(want)}});
      emit({{"action", "send-layers"}, {"to", in.peer}, {"layer", to_string(want)}});
    }
  }
}

// ---- reports -------------------------------------------------------------------------------

void AbrCore::report(const std::vector<Measured>& all, const std::map<std::string, PeerReceive>& peers) {
  const auto kbps = [](double bps) { return std::round(bps / 100) / 10; };
  double sent = 0, received = 0, received_packets = 0, lost_packets = 0;
  std::optional<double> loss, rtt;
  for (const Measured& m : all) {
    if (m.c->path != Path::Subscribe) sent += m.sent_bps.value_or(0);
    received += m.receive_bps;
    received_packets += m.received_packets;
    lost_packets += m.lost_packets;
    if (m.loss && m.c->path != Path::Subscribe) loss = std::max(loss.value_or(0), *m.loss);
    if (m.rtt_ms) rtt = std::max(rtt.value_or(0), *m.rtt_ms);
  }
  Json uplink = {{"budgetKbps", kbps(uplink_.budget_bps())}, {"sentKbps", kbps(sent)},
                 {"lossFraction", loss ? Json(*loss) : Json(nullptr)},
                 {"rttMs", rtt ? Json(std::round(*rtt)) : Json(nullptr)}};
  const double packets = received_packets + lost_packets;
  Json downlink = {{"receivedKbps", kbps(received)},
                   {"lossFraction", packets > 0 ? Json(lost_packets / packets) : Json(nullptr)}};
  Json out_peers = Json::object();
  const auto round2 = [](double v) { return std::round(v * 100) / 100; };
  for (const auto& [id, p] : peers) {
    std::optional<double> score;
    if (p.audio_score) score = *p.audio_score;
    if (p.video_score && p.video_bps > 0) score = std::min(score.value_or(5.0), *p.video_score);
    Json audio = nullptr, video = nullptr;
    if (p.audio_score) {
      audio = {{"score", round2(*p.audio_score)}, {"mos", round2(*p.audio_mos)},
               {"lossFraction", round2(p.audio_loss.value_or(0))},
               {"jitterMs", std::round(p.audio_jitter_ms.value_or(0))},
               {"rttMs", p.rtt_ms ? Json(std::round(*p.rtt_ms)) : Json(nullptr)}};
    }
    if (p.video_score) {
      video = {{"score", round2(*p.video_score)}, {"width", p.video_width.value_or(0)},
               {"height", p.video_height.value_or(0)}, {"framesPerSecond", round2(p.video_fps.value_or(0))},
               {"freezeCount", p.video_freezes.value_or(0)}};
    }
    out_peers[id] = {{"path", p.path}, {"sendKbps", kbps(p.send_bps)}, {"receiveKbps", kbps(p.receive_bps)},
                     {"quality", score ? Json(round2(*score)) : Json(nullptr)}, {"videoSending", p.video_sending}};
    if (!score) continue;
    PeerState* state = peer_state(id);
    if (state == nullptr) continue;
    if (state->quality_emitted && std::fabs(*state->quality_emitted - *score) < 0.5) continue;
    state->quality_emitted = *score;
    emit({{"event", "quality"}, {"peer", id}, {"score", round2(*score)}, {"audio", audio}, {"video", video}});
  }
  emit({{"event", "stats"}, {"uplink", std::move(uplink)}, {"downlink", std::move(downlink)},
        {"peers", std::move(out_peers)}});
}

}  // namespace chorus::abr
