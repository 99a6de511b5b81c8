// AbrCore: adaptive bitrate and quality for one Room, sans-IO (docs/architecture.md, "Bitrate
// and quality: AbrCore", holds the input and output tables).
//
// Each `stats-sample` (about once a second) is read and checked (stats/sample.hpp), turned
// into rates (stats/counters.hpp) and then into decisions:
//   - the uplink's budget (abr/uplink_budget.hpp), split over the connections that send video
//     (abr/allocation.hpp), each turned into encoding parameters (abr/video_encoding.hpp) or,
//     on the SFU, into the simulcast layers worth sending (abr/simulcast.hpp);
//   - video off on a connection whose share leaves less than `audio_floor_bps` with its audio,
//     back on once it has had `restore_video_bps` for `restore_hold_ms`;
//   - each SFU subscription's layer, from the rendered size and the downlink;
//   - every peer's quality score (stats/quality.hpp) and a `stats` snapshot.
// A sample with bad values gives one `warning` event; what needed those values holds its last
// decision. Nothing here throws, and every map is bounded.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "abr/simulcast.hpp"
#include "abr/uplink_budget.hpp"
#include "abr/video_encoding.hpp"
#include "common/json.hpp"
#include "stats/counters.hpp"
#include "stats/sample.hpp"

namespace chorus::abr {

struct AbrConfig {
  bool control = true;  // false: report stats and quality, decide nothing (the browser alone)
  double audio_floor_bps = 100'000;
  double restore_video_bps = 150'000;
  double restore_hold_ms = 5000;
  double max_video_bps = 2'500'000;
  double typical_audio_bps = 40'000;  // an audio sender's cost before its rate is measured
  UplinkConfig uplink;
  SimulcastRates simulcast;

  static AbrConfig from_json(const Json& config);
};

inline constexpr std::size_t kMaxPeers = 256;
// A layer switch makes the receiver wait for the new layer's keyframe: freezes this soon after
// one are the switch's, not the downlink's.
inline constexpr double kSwitchSettleMs = 4000;
// A connection's queueing delay is its RTT above its own minimum over this window.
inline constexpr double kMinRttWindowMs = 30000;
// A removed peer's late rows (a sample already under way) are ignored this long.
inline constexpr double kRemovedMemoryMs = 10000;

class AbrCore {
 public:
  explicit AbrCore(AbrConfig config = {});

  void handle(const Json& input, double now_ms);
  void handle_text(std::string_view input, double now_ms);
  std::optional<Json> poll();

  double uplink_budget_bps() const { return uplink_.budget_bps(); }

 private:
  // What one sample says about one connection, after differences.
  struct Measured;
  struct PeerReceive;

  // Decisions kept between samples.
  struct VideoSender {
    bool video_on = true;
    std::optional<double> restore_since;
    std::optional<double> restored_at;
    double restore_hold_ms = 0;  // grows when restores fail one after another
    std::optional<VideoEncoding> sent;         // single encoding (mesh)
    std::optional<std::array<LayerPlan, 3>> sent_layers;  // simulcast (publish)
    VideoSource source;
  };
  struct Subscription {
    Layer layer = Layer::H;       // what the MediaCore was last told (its default: h)
    double full_height = 720;
    double changed_ms = -1e12;
  };
  struct PeerState {
    std::optional<double> view_height;   // device px; 0: not shown
    std::optional<Layer> preference;     // the app's choice (setVideoQuality): pinned
    Layer wants_from_us = Layer::H;      // what this peer watches of our simulcast
    std::optional<double> quality_emitted;
  };

  void on_sample(const Json& input, double now_ms);
  void on_view_size(const Json& input);
  void on_layer_preference(const Json& input);
  void on_layer_wants(const Json& input);
  PeerState* peer_state(const std::string& id);

  Measured measure(const stats::ConnectionSample& c, double interval_s, double now_ms,
                   std::vector<std::string>& problems);
  void allocate(const std::vector<Measured>& sending, double now_ms);
  void decide_mesh_video(const Measured& m, VideoSender& sender, double share);
  void decide_publish_video(const Measured& m, VideoSender& sender, double share);
  bool video_allowed(VideoSender& sender, double connection_bps, double now_ms);
  void decide_subscriptions(const std::vector<Measured>& all, double now_ms);
  void report(const std::vector<Measured>& all, const std::map<std::string, PeerReceive>& peers);

  void warn(std::string message);
  void emit(Json output) { out_.push_back(std::move(output)); }

  AbrConfig config_;
  UplinkBudget uplink_;
  DownlinkCeiling downlink_;
  stats::Counters counters_;
  std::optional<double> last_sample_ms_;
  std::map<std::string, VideoSender> senders_;        // key: connection id + "/" + mid
  std::map<std::string, Subscription> subscriptions_;  // key: peer id
  std::map<std::string, PeerState> peers_;
  std::set<std::string> mesh_peers_;  // the mesh connections of the last sample
  // Per connection: (time, RTT ms) of the last kMinRttWindowMs, for its queueing delay.
  std::map<std::string, std::deque<std::pair<double, double>>> min_rtts_;
  std::map<std::string, double> removed_;  // peers removed lately, and when
  std::deque<Json> out_;
};

}  // namespace chorus::abr
