#include "voice/jitter_buffer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace chorus::voice {

namespace {

// Opus frame sizes at 48 kHz, 2.5 to 120 ms per packet.
constexpr std::uint32_t kFrameSizes[] = {120, 240, 480, 960, 1920, 2880, 3840, 4800, 5760};
constexpr double kSamplesPerMs = 48.0;
// Timing samples kept (a 3 s window holds 300 packets of 10 ms): bounds a flood's cost.
constexpr std::size_t kMaxSamples = 512;

bool valid_frame(std::uint32_t samples) {
  return std::find(std::begin(kFrameSizes), std::end(kFrameSizes), samples) !=
         std::end(kFrameSizes);
}

}  // namespace

JitterBuffer::JitterBuffer(JitterConfig config) : config_(config) {
  // Keep the arithmetic sane whatever the app passes.
  config_.min_target_ms = std::max(0.0, config_.min_target_ms);
  config_.max_target_ms = std::max(config_.min_target_ms, config_.max_target_ms);
  config_.max_packets = std::max<std::size_t>(1, config_.max_packets);
  config_.max_bytes = std::max(config_.max_bytes, config_.max_payload_bytes);
  if (!valid_frame(config_.default_frame_samples)) config_.default_frame_samples = 960;
  target_ms_ = std::clamp(config_.initial_target_ms, config_.min_target_ms, config_.max_target_ms);
  history_.assign(kHistory, false);
  scratch_.reserve(kMaxSamples);
}

std::uint32_t JitterBuffer::frame_samples() const {
  return frame_ != 0 ? frame_ : config_.default_frame_samples;
}

double JitterBuffer::frame_ms() const { return frame_samples() / kSamplesPerMs; }

double JitterBuffer::delay_of(std::uint64_t seq, double now_ms) const {
  return now_ms - static_cast<double>(seq) * frame_ms() - floor_ms();
}

PushResult JitterBuffer::push(std::uint32_t seq, std::uint32_t timestamp, double arrival_ms,
                              std::string_view payload, bool last) {
  auto refuse = [this] {
    ++counters_.out_of_range;
    return PushResult::OutOfRange;
  };
  if (!std::isfinite(arrival_ms) || payload.size() > config_.max_payload_bytes || seq >= kMaxSeq)
    return refuse();

  // The timestamp must be seq frames of the burst's size; the first packet with seq > 0 fixes
  // that size.
  const std::int64_t tolerance = config_.timestamp_tolerance;
  std::uint32_t frame = frame_;
  if (seq == 0) {
    if (timestamp > tolerance) return refuse();
  } else if (frame == 0) {
    std::int64_t best = tolerance + 1;
    for (std::uint32_t size : kFrameSizes) {
      const std::int64_t off = std::llabs(std::int64_t{timestamp} - std::int64_t{seq} * size);
      if (off < best) best = off, frame = size;
    }
    if (best > tolerance) return refuse();
  } else if (std::llabs(std::int64_t{timestamp} - std::int64_t{seq} * frame) > tolerance) {
    return refuse();
  }

  if (has_last_ && (seq > last_ || (last && seq != last_))) return refuse();
  if (state_ != State::Buffering || has_position_) {
    if (seq < next_) {
      const PushResult r = refuse_behind(seq);
      if (last && !has_last_) end_at(seq);  // it ends the burst even if it cannot play
      if (r == PushResult::Late) {
        // A late packet is the clearest sign of jitter: its delay counts.
        const double at = clock_seen_ ? std::max(arrival_ms, last_arrival_ms_) : arrival_ms;
        record_timing(at, at - static_cast<double>(seq) * frame_samples() / kSamplesPerMs);
      }
      return r;
    }
    if (seq - next_ >= config_.max_seq_ahead) return refuse();
  } else if (!packets_.empty() && seq >= packets_.begin()->first + config_.max_seq_ahead) {
    return refuse();
  }

  // Arrival times never go back (a caller mixing clocks must not break the windows).
  const double at = clock_seen_ ? std::max(arrival_ms, last_arrival_ms_) : arrival_ms;
  const std::uint32_t size = frame != 0 ? frame : frame_samples();
  const double relative = at - static_cast<double>(seq) * size / kSamplesPerMs;
  if (state_ == State::Playing) {
    // Audio claimed to lie further ahead of the playout point than any delay we would hold:
    // a live talker cannot have sent it yet. (Anchored to the playout clock, not to the delay
    // floor, so accepted packets cannot walk the bound forward.)
    const double lead_ms = static_cast<double>(seq - next_) * size / kSamplesPerMs -
                           std::max(0.0, at - last_now_ms_);
    if (lead_ms > config_.max_target_ms + config_.max_early_ms) return refuse();
  } else if (!floor_.empty() && relative < floor_ms() - config_.max_early_ms) {
    return refuse();
  }

  if (packets_.count(seq) != 0) {
    // The first copy wins, but an end flag is news (a flood may have sent this seq first).
    if (last && !has_last_) end_at(seq);
    ++counters_.duplicates;
    return PushResult::Duplicate;
  }

  // At the cap, what is furthest ahead goes: the newcomer, or the buffer's last packet.
  while (!packets_.empty() && (packets_.size() >= config_.max_packets ||
                               bytes_ + payload.size() > config_.max_bytes)) {
    auto furthest = std::prev(packets_.end());
    ++counters_.overflow;
    if (furthest->first < seq) return PushResult::Overflow;
    bytes_ -= furthest->second.size();
    packets_.erase(furthest);
  }

  frame_ = frame;
  clock_seen_ = true;
  last_arrival_ms_ = at;
  packets_.emplace(seq, std::string(payload));
  bytes_ += payload.size();
  ++counters_.received;
  record_timing(at, relative);
  if (last) end_at(seq);
  return PushResult::Accepted;
}

void JitterBuffer::end_at(std::uint64_t seq) {
  has_last_ = true;
  last_ = seq;
  // Whatever claimed to come after the end was not real.
  for (auto it = packets_.upper_bound(seq); it != packets_.end();) {
    bytes_ -= it->second.size();
    it = packets_.erase(it);
    ++counters_.out_of_range;
  }
}

PushResult JitterBuffer::refuse_behind(std::uint64_t seq) {
  if (next_ - seq <= kHistory && history_[seq % kHistory]) {
    ++counters_.duplicates;
    return PushResult::Duplicate;
  }
  ++counters_.late;
  return PushResult::Late;
}

void JitterBuffer::record_timing(double arrival_ms, double relative_ms) {
  // Monotonic deque: values increase from front to back, so the front is the window's minimum.
  while (!floor_.empty() && floor_.back().value >= relative_ms) floor_.pop_back();
  floor_.push_back({arrival_ms, relative_ms});
  while (floor_.size() > 1 && (floor_.size() > kMaxSamples ||
                               floor_.front().at_ms < arrival_ms - config_.floor_window_ms))
    floor_.pop_front();
  const double excess = std::min(relative_ms - floor_ms(), config_.max_target_ms);
  excess_.push_back({arrival_ms, excess});
  while (excess_.size() > kMaxSamples ||
         excess_.front().at_ms < arrival_ms - config_.jitter_window_ms)
    excess_.pop_front();
}

void JitterBuffer::update_target(double now_ms) {
  while (!excess_.empty() && excess_.front().at_ms < now_ms - config_.jitter_window_ms)
    excess_.pop_front();
  jitter_ms_ = 0;
  if (!excess_.empty()) {
    scratch_.clear();
    for (const Sample& s : excess_) scratch_.push_back(s.value);
    const double q = std::clamp(config_.jitter_quantile, 0.0, 1.0);
    const auto k = static_cast<std::size_t>(q * static_cast<double>(scratch_.size() - 1) + 0.5);
    std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(k),
                     scratch_.end());
    jitter_ms_ = scratch_[k];
  }
  const double want =
      std::clamp(jitter_ms_ + frame_ms(), config_.min_target_ms, config_.max_target_ms);
  if (want > target_ms_) {
    target_ms_ = want;
  } else if (state_ == State::Playing) {
    // Shrinks with the audio played, not wall time: an idle channel keeps what it learned.
    target_ms_ = std::max(want, target_ms_ - config_.target_shrink_ms_per_s * frame_ms() / 1000);
  }
}

Playout JitterBuffer::pop(double now_ms) {
  if (!std::isfinite(now_ms) || now_ms < last_now_ms_) now_ms = last_now_ms_;
  last_now_ms_ = now_ms;
  update_target(now_ms);

  Playout out;
  out.samples = frame_samples();
  out.seq = static_cast<std::uint32_t>(std::min<std::uint64_t>(next_, kMaxSeq));
  if (state_ == State::Ended) {
    out.action = Action::End;
    return out;
  }
  if (state_ == State::Buffering && !try_start(now_ms)) return out;  // Wait
  return play(now_ms);
}

bool JitterBuffer::try_start(double now_ms) {
  if (packets_.empty()) return false;
  const std::uint64_t first = packets_.begin()->first;
  // A short burst that is wholly here need not wait for stragglers.
  const bool complete = has_last_ && packets_.size() == last_ - first + 1;
  if (!complete && delay_of(first, now_ms) < target_ms_) return false;
  if (has_position_ && first > next_) {
    counters_.lost += first - next_;
    skip_to(first);
  }
  next_ = first;
  has_position_ = true;
  state_ = State::Playing;
  conceal_run_ms_ = 0;
  delay_count_ = 0;
  return true;
}

Playout JitterBuffer::play(double now_ms) {
  Playout out;
  out.samples = frame_samples();
  if (has_last_ && next_ > last_) {
    state_ = State::Ended;
    out.action = Action::End;
    out.seq = static_cast<std::uint32_t>(last_);
    return out;
  }
  out.seq = static_cast<std::uint32_t>(next_);
  const double f = frame_ms();
  double d = delay_of(next_, now_ms);
  delay_ms_ = d;

  auto it = packets_.find(next_);
  if (it != packets_.end()) {
    double lo = d, hi = d;
    for (std::size_t i = 0; i < delay_count_; ++i) {
      lo = std::min(lo, delays_[i]);
      hi = std::max(hi, delays_[i]);
    }
    // Drift control. A correction moves the delay by one frame; in silence the delay is
    // brought back to within half a frame of the target, in speech only when it is more than a
    // frame below or 1.5 frames above (a dropped or invented frame of speech can be heard).
    // The min / max over the last pops keep one correction from being taken twice.
    const bool quiet = it->second.size() <= config_.silence_bytes;
    if (lo > target_ms_ + (quiet ? 0.5 : 1.5) * f && packets_.count(next_ + 1) != 0) {
      bytes_ -= it->second.size();
      packets_.erase(it);
      advance(true);
      ++counters_.dropped_for_drift;
      delay_ms_ = d - f;
      remember_delay(d - f);
      return decode(packets_.find(next_));
    }
    if (hi < target_ms_ - (quiet ? 0.5 : 1.0) * f) {
      ++counters_.inserted_for_drift;
      ++counters_.concealed;
      remember_delay(d + f);
      out.action = Action::Conceal;
      return out;
    }
    remember_delay(d);
    return decode(it);
  }

  auto next = packets_.upper_bound(next_);
  // Frames that turn out lost after underrun PLC already stood in for them are skipped: that
  // PLC was their playout, and playing them again would keep the delay it added.
  while (underrun_frames_ > 0 && next != packets_.end() && next->first > next_) {
    --underrun_frames_;
    ++counters_.lost;
    advance(false);
    d = delay_ms_ = delay_of(next_, now_ms);
  }
  if (next != packets_.end() && next->first == next_) {
    underrun_frames_ = 0;
    remember_delay(d);
    return decode(next);
  }
  if (has_last_ && next_ > last_) {
    state_ = State::Ended;
    out.action = Action::End;
    return out;
  }
  out.seq = static_cast<std::uint32_t>(next_);
  if (conceal_run_ms_ >= config_.max_conceal_ms) {
    // Concealed long enough: resync to the next packet we have, or wait for one.
    ++counters_.resyncs;
    conceal_run_ms_ = 0;
    underrun_frames_ = 0;
    delay_count_ = 0;
    if (next != packets_.end()) {
      counters_.lost += next->first - next_;
      skip_to(next->first);
      delay_ms_ = delay_of(next_, now_ms);
      remember_delay(delay_ms_);
      return decode(next);
    }
    state_ = State::Buffering;
    out.action = Action::Wait;
    return out;
  }
  if (next != packets_.end()) {
    // Its successors are here: this frame is lost.
    ++counters_.lost;
    if (next->first == next_ + 1) {
      ++counters_.fec_recovered;
      out.action = Action::DecodeFec;
      out.payload = next->second;
      conceal_run_ms_ = 0;
    } else {
      ++counters_.concealed;
      out.action = Action::Conceal;
      conceal_run_ms_ += f;
    }
    advance(false);
    remember_delay(d);
    return out;
  }
  // Underrun: the frame may still come. PLC in its place delays playout by one frame. If the
  // frame does come, the delay was too short: the target grows to what it would have needed
  // (decode()). If it was lost instead, the PLC counts as its playout (above).
  if (underrun_frames_ == 0) underrun_need_ms_ = d + f;
  ++underrun_frames_;
  ++counters_.underruns;
  ++counters_.concealed;
  conceal_run_ms_ += f;
  remember_delay(d + f);
  out.action = Action::Conceal;
  return out;
}

Playout JitterBuffer::decode(std::map<std::uint64_t, std::string>::iterator it) {
  Playout out;
  out.action = Action::Decode;
  out.samples = frame_samples();
  out.seq = static_cast<std::uint32_t>(it->first);
  bytes_ -= it->second.size();
  out.payload = std::move(it->second);
  packets_.erase(it);
  advance(true);
  ++counters_.decoded;
  conceal_run_ms_ = 0;
  if (underrun_frames_ > 0) {
    // It came late: grow at once; the target shrinks back slowly.
    target_ms_ = std::min(config_.max_target_ms, std::max(target_ms_, underrun_need_ms_));
    underrun_frames_ = 0;
  }
  return out;
}

void JitterBuffer::advance(bool received) {
  history_[next_ % kHistory] = received;
  ++next_;
}

void JitterBuffer::skip_to(std::uint64_t seq) {
  if (seq - next_ >= kHistory) {
    std::fill(history_.begin(), history_.end(), false);
    next_ = seq;
    return;
  }
  while (next_ < seq) advance(false);
}

void JitterBuffer::remember_delay(double delay_ms) {
  delays_[delay_pos_] = delay_ms;
  delay_pos_ = (delay_pos_ + 1) % kControlPops;
  delay_count_ = std::min(delay_count_ + 1, kControlPops);
}

void JitterBuffer::reset() {
  state_ = State::Buffering;
  packets_.clear();
  bytes_ = 0;
  frame_ = 0;
  next_ = 0;
  has_position_ = false;
  has_last_ = false;
  last_ = 0;
  conceal_run_ms_ = 0;
  underrun_frames_ = 0;
  std::fill(history_.begin(), history_.end(), false);
  floor_.clear();
  excess_.clear();
  delay_count_ = 0;
  delay_pos_ = 0;
  jitter_ms_ = 0;
  delay_ms_ = 0;
}

JitterStats JitterBuffer::stats() const {
  JitterStats s = counters_;
  s.target_ms = target_ms_;
  s.jitter_ms = jitter_ms_;
  s.delay_ms = delay_ms_;
  s.frame_ms = frame_ms();
  if (!packets_.empty()) {
    const std::uint64_t from = state_ == State::Playing ? next_ : packets_.begin()->first;
    s.buffered_ms = static_cast<double>(packets_.rbegin()->first + 1 - from) * frame_ms();
  }
  return s;
}

}  // namespace chorus::voice
