#include "abr/video_encoding.hpp"

#include <algorithm>
#include <cmath>

namespace chorus::abr {
namespace {

double bits_per_pixel(double bps, const VideoSource& s, double scale, double fps) {
  const double pixels = (s.width / scale) * (s.height / scale);
  return pixels > 0 && fps > 0 ? bps / (pixels * fps) : 0;
}

}  // namespace

VideoEncoding video_encoding(double bitrate_bps, const VideoSource& source,
                             const std::optional<VideoEncoding>& current) {
  VideoEncoding e;
  e.max_bitrate = std::round(bitrate_bps);
  const double source_fps = source.frames_per_second > 0 ? source.frames_per_second : 30;
  // Frame-rate steps at 250 and 120 kbit/s, with 15 % of hysteresis around each: a share
  // hovering at a threshold must not flip the rate every second.
  const auto fps_at = [&](double bps) {
    return bps >= 250'000 ? source_fps : bps >= 120'000 ? std::min(15.0, source_fps) : std::min(10.0, source_fps);
  };
  e.max_framerate = fps_at(bitrate_bps);
  if (current && current->active &&
      (fps_at(bitrate_bps * 1.15) == current->max_framerate || fps_at(bitrate_bps / 1.15) == current->max_framerate)) {
    e.max_framerate = std::min(current->max_framerate, source_fps);
  }
  constexpr int kCount = sizeof(kScales) / sizeof(kScales[0]);
  int now = 0;
  if (current) {
    while (now + 1 < kCount && kScales[now] < current->scale_resolution_down_by) ++now;
  }
  // Down while the picture would be starved; up while the larger size has room to spare.
  while (now + 1 < kCount && bits_per_pixel(bitrate_bps, source, kScales[now], e.max_framerate) < kBitsPerPixelTarget) ++now;
  while (now > 0 && bits_per_pixel(bitrate_bps, source, kScales[now - 1], e.max_framerate) >=
                        kBitsPerPixelTarget * kScaleUpMargin) {
    --now;
  }
  e.scale_resolution_down_by = kScales[now];
  return e;
}

bool worth_changing(const VideoEncoding& sent, const VideoEncoding& next) {
  if (sent.active != next.active) return true;
  if (!next.active) return false;
  if (sent.scale_resolution_down_by != next.scale_resolution_down_by || sent.max_framerate != next.max_framerate) {
    return true;
  }
  const double diff = std::fabs(next.max_bitrate - sent.max_bitrate);
  return diff >= 20'000 && diff >= 0.1 * sent.max_bitrate;
}

}  // namespace chorus::abr
