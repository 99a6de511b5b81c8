// One `stats-sample` input (docs/architecture.md, "Bitrate and quality"), read into typed rows.
// The glue copies getStats() values as they are; this is where they are checked: a field that is
// missing, not a finite number, or negative is left empty (std::nullopt) and counted as a
// problem, so one bad value never poisons the rest of the sample.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace chorus::stats {

using Value = std::optional<double>;

// The transport's selected candidate-pair.
struct CandidatePair {
  Value available_outgoing_bitrate;  // bps
  Value current_round_trip_time;     // s
  Value bytes_sent, bytes_received;
};

// outbound-rtp (one per encoding), with its media-source's size and rate for video.
struct OutboundRtp {
  std::string mid, kind, rid;  // rid empty: the sender's only encoding
  Value bytes_sent, packets_sent;
  Value frames_per_second, frame_width, frame_height;
  Value source_width, source_height, source_frames_per_second;
  std::string quality_limitation_reason;  // empty when not given
  std::optional<bool> active;
};

// remote-inbound-rtp: what the far end reports about one of our outbound streams.
struct RemoteInboundRtp {
  std::string mid, kind, rid;
  Value packets_lost, fraction_lost;
  Value jitter, round_trip_time;  // s
};

// inbound-rtp: a stream we receive; `peer` empty for the AudioBridge's mix.
struct InboundRtp {
  std::string peer, mid, kind;
  Value bytes_received, packets_received, packets_lost;
  Value jitter;  // s
  Value frames_per_second, frame_width, frame_height, frames_decoded;
  Value freeze_count, total_freezes_duration;  // -, s
  Value audio_level;                           // 0..1
};

enum class Path { Mesh, Publish, Subscribe, Bridge };

struct ConnectionSample {
  std::string id;
  Path path = Path::Mesh;
  CandidatePair pair;
  std::vector<OutboundRtp> outbound;
  std::vector<RemoteInboundRtp> remote_inbound;
  std::vector<InboundRtp> inbound;
};

struct StatsSample {
  std::vector<ConnectionSample> connections;
};

// Bounds that keep a hostile sample from costing memory or time.
inline constexpr std::size_t kMaxConnections = 64;
inline constexpr std::size_t kMaxRowsPerKind = 32;

// Reads a `stats-sample` input. Each problem (a bad field, a row or connection that cannot be
// used, a list cut at the bounds above) is described in `problems`; what is usable is returned.
StatsSample read_stats_sample(const Json& input, std::vector<std::string>& problems);

const char* to_string(Path path);

}  // namespace chorus::stats
