// What one video encoding should look like at a given bitrate: RTCRtpEncodingParameters'
// maxBitrate, maxFramerate and scaleResolutionDownBy. Frame rate goes first (15 fps below
// 250 kbit/s, 10 below 120), then resolution, keeping enough bits per pixel for a picture that
// is sharp rather than blocky. Resolution changes cost a keyframe, so they have hysteresis:
// down as soon as the bits per pixel fall under the target, up only when the larger size would
// have 30 % to spare.
#pragma once

#include <optional>

namespace chorus::abr {

struct VideoSource {
  double width = 1280, height = 720, frames_per_second = 30;
};

struct VideoEncoding {
  bool active = true;
  double max_bitrate = 0;  // bps
  double max_framerate = 30;
  double scale_resolution_down_by = 1;

  bool operator==(const VideoEncoding& o) const {
    return active == o.active && max_bitrate == o.max_bitrate && max_framerate == o.max_framerate &&
           scale_resolution_down_by == o.scale_resolution_down_by;
  }
};

inline constexpr double kBitsPerPixelTarget = 0.06;
inline constexpr double kScaleUpMargin = 1.3;
inline constexpr double kScales[] = {1, 1.5, 2, 3, 4, 6, 8};

// The encoding for `bitrate_bps`, given the one in use now (its scale is kept unless the
// bits per pixel leave the hysteresis band).
VideoEncoding video_encoding(double bitrate_bps, const VideoSource& source,
                             const std::optional<VideoEncoding>& current);

// Whether `next` differs enough from `sent` (what the sender has now) to call setParameters:
// any change of active, scale or frame rate, or a bitrate 10 % (and 20 kbit/s) away.
bool worth_changing(const VideoEncoding& sent, const VideoEncoding& next);

}  // namespace chorus::abr
