// Splits one uplink budget over the connections that send video (water-filling): each gets an
// equal share, no more than its own path carries (its availableOutgoingBitrate) or than video
// needs, and what one cannot use goes to the others. The audio of every connection is paid
// for first: audio is what a call cannot lose.
#pragma once

#include <optional>
#include <vector>

namespace chorus::abr {

struct Claim {
  double audio_bps = 0;               // what its audio costs (measured, or Opus's typical rate)
  bool wants_video = false;           // it has a video sender that is sending or we paused
  std::optional<double> path_cap_bps;  // its own path's estimate, if the browser gives one
};

// The bitrate each connection may use for video (0 for those that do not want video), given
// `budget_bps` for all of them, audio included, and `max_video_bps` per connection.
std::vector<double> split_video_budget(double budget_bps, const std::vector<Claim>& claims,
                                       double max_video_bps);

}  // namespace chorus::abr
