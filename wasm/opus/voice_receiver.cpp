#include "opus/voice_receiver.hpp"

#include <algorithm>
#include <cstring>

namespace chorus::opus {

VoiceReceiver::VoiceReceiver(voice::JitterConfig config) : jitter_(config) {}

void VoiceReceiver::set_floor(std::uint32_t holder, std::uint32_t epoch, double now_ms) {
  expire_pending(now_ms);
  if (epoch < floor_epoch_) return;  // older than what we know: the server never goes back
  if (holder == 0) {
    if (active_ && released_at_ < 0) released_at_ = now_ms;  // let the burst play out
    holder_ = 0;
    floor_epoch_ = epoch;
    return;
  }
  holder_ = holder;
  floor_epoch_ = epoch;
  if (active_ && holder == burst_peer_ && epoch == burst_epoch_) return;
  start_burst(holder, epoch);
  // Packets that came before the grant: the holder's are this burst's first; anyone else's
  // for this epoch or an older one were never allowed.
  std::deque<Pending> keep;
  for (auto& p : pending_) {
    if (p.header.epoch == epoch && p.peer == holder) {
      if (accept(p.header, p.packet, p.arrival_ms).verdict == VoiceVerdict::Accepted) {
        admitted_.push_back(std::move(p));
      }
    } else if (p.header.epoch <= epoch) {
      violation(p.peer, p.header.epoch);
    } else {
      keep.push_back(std::move(p));
    }
  }
  pending_ = std::move(keep);
}

VoicePushResult VoiceReceiver::push(std::uint32_t peer, const voice::VoiceHeader& header,
                                    std::string_view packet, double arrival_ms) {
  expire_pending(arrival_ms);
  if (header.epoch == 0) return {VoiceVerdict::BadAudio, false};
  if (burst_epoch_ != 0 && header.epoch == burst_epoch_) {
    if (peer != burst_peer_) return violation(peer, header.epoch);
    if (!active_) return {VoiceVerdict::Ignored, false};  // the burst has ended
    if (released_at_ >= 0 && arrival_ms - released_at_ > kReleaseGraceMs) {
      return {VoiceVerdict::Ignored, false};
    }
    return accept(header, packet, arrival_ms);
  }
  if (header.epoch <= std::max(floor_epoch_, burst_epoch_)) {
    // An epoch the server has moved past: a preempted talker's last packets, or one never
    // granted to anybody (the floor passed from nobody to a later epoch).
    if (header.epoch < burst_epoch_) return {VoiceVerdict::Ignored, false};
    return violation(peer, header.epoch);
  }
  // Newer than any grant seen: the grant may still be on its way through the server.
  if (pending_.size() >= kMaxPending) {
    Pending dropped = std::move(pending_.front());
    pending_.pop_front();
    violation(dropped.peer, dropped.header.epoch);
  }
  if (packet.size() > voice::kMaxVoicePacketBytes) return {VoiceVerdict::BadAudio, false};
  pending_.push_back({peer, header, std::string(packet), arrival_ms});
  return {VoiceVerdict::Pending, false};
}

bool VoiceReceiver::next_admitted(std::uint32_t& peer, voice::VoiceHeader& header, std::string& packet) {
  if (admitted_.empty()) return false;
  Pending& p = admitted_.front();
  peer = p.peer;
  header = p.header;
  packet = std::move(p.packet);
  admitted_.pop_front();
  return true;
}

void VoiceReceiver::start_burst(std::uint32_t peer, std::uint32_t epoch) {
  jitter_.reset();
  admitted_.clear();  // the glue did not collect them before the next burst: stale now
  burst_peer_ = peer;
  burst_epoch_ = epoch;
  released_at_ = -1;
  active_ = true;
}

VoicePushResult VoiceReceiver::accept(const voice::VoiceHeader& h, std::string_view packet, double arrival_ms) {
  switch (jitter_.push(h.seq, h.timestamp, arrival_ms, packet, h.last)) {
    case voice::PushResult::Accepted: return {VoiceVerdict::Accepted, false};
    case voice::PushResult::OutOfRange: {
      const bool first = bad_reported_epoch_ != h.epoch;
      bad_reported_epoch_ = h.epoch;
      return {VoiceVerdict::BadAudio, first};
    }
    default: return {VoiceVerdict::Ignored, false};  // duplicate, late, overflow: counted there
  }
}

VoicePushResult VoiceReceiver::violation(std::uint32_t peer, std::uint32_t epoch) {
  ++violations_;
  // Bounded: a peer cycling epochs gets reported at most this often.
  if (reported_.size() >= 256) reported_.erase(reported_.begin());
  return {VoiceVerdict::FloorViolation, reported_.insert({peer, epoch}).second};
}

void VoiceReceiver::expire_pending(double now_ms) {
  while (!pending_.empty() && now_ms - pending_.front().arrival_ms > kPendingMs) {
    violations_++;  // no grant came for it: counted, reported when the glue asks (violations())
    pending_.pop_front();
  }
}

int VoiceReceiver::render(double now_ms) {
  auto silence = [&](std::uint32_t samples) {
    const int n = static_cast<int>(std::min<std::uint32_t>(samples ? samples : 960, kMaxFrameSamples));
    std::fill(pcm_, pcm_ + n, 0.0f);
    return n;
  };
  expire_pending(now_ms);
  // A released burst whose final packet never came (lost: it is unreliable) ends here.
  if (active_ && released_at_ >= 0 && now_ms - released_at_ > kReleaseGraceMs) active_ = false;
  if (!active_) return silence(960);
  voice::Playout p = jitter_.pop(now_ms);
  int n = -1;
  switch (p.action) {
    case voice::Action::Wait: return silence(p.samples);
    case voice::Action::End:
      active_ = false;
      return silence(p.samples);
    case voice::Action::Decode:
    case voice::Action::DecodeFec: {
      const bool fec = p.action == voice::Action::DecodeFec;
      if (!p.payload.empty() && p.payload.size() <= static_cast<std::size_t>(kMaxPacketBytes)) {
        std::memcpy(decoder_.inbox(), p.payload.data(), p.payload.size());
        n = decoder_.decode(static_cast<int>(p.payload.size()), fec, static_cast<int>(p.samples));
      }
      if (n < 0) {
        ++decode_errors_;
        if (decode_reported_epoch_ != burst_epoch_) {
          decode_reported_epoch_ = burst_epoch_;
          decode_report_ = true;
        }
      }
      break;
    }
    case voice::Action::Conceal: break;
  }
  if (n < 0) n = decoder_.conceal(static_cast<int>(p.samples ? p.samples : 960));
  if (n < 0) return silence(p.samples);
  std::memcpy(pcm_, decoder_.pcm(), static_cast<std::size_t>(n) * sizeof(float));
  return n;
}

PlayState VoiceReceiver::state() const {
  if (!active_) return PlayState::Idle;
  return jitter_.playing() ? PlayState::Playing : PlayState::Buffering;
}

}  // namespace chorus::opus
