#include "stats/sample.hpp"

#include <cmath>

namespace chorus::stats {
namespace {

class Reader {
 public:
  Reader(const Json& row, std::string where, std::vector<std::string>& problems)
      : row_(row), where_(std::move(where)), problems_(problems) {}

  // A non-negative finite number, or nullopt (with a problem when present but unusable).
  // `signed_counter`: webrtc-stats' packetsLost, which duplicates can make negative; read as 0.
  Value number(const char* key, bool signed_counter = false) {
    const Json* v = find_field(row_, key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_number()) return bad(key, "is not a number");
    const double d = v->get<double>();
    if (!std::isfinite(d)) return bad(key, "is not finite");
    if (d < 0 && signed_counter) return 0.0;
    if (d < 0) return bad(key, "is negative");
    return d;
  }
  std::string text(const char* key) { return get_string(row_, key).value_or(std::string()); }

 private:
  Value bad(const char* key, const char* why) {
    problems_.push_back(where_ + "." + key + " " + why);
    return std::nullopt;
  }
  const Json& row_;
  std::string where_;
  std::vector<std::string>& problems_;
};

std::optional<Path> path_from(std::string_view s) {
  if (s == "mesh") return Path::Mesh;
  if (s == "publish") return Path::Publish;
  if (s == "subscribe") return Path::Subscribe;
  if (s == "bridge") return Path::Bridge;
  return std::nullopt;
}

// Calls `each(row, where)` for the objects of list `key`, at most kMaxRowsPerKind.
template <typename F>
void rows(const Json& connection, const char* key, const std::string& where,
          std::vector<std::string>& problems, F each) {
  const Json* list = find_field(connection, key);
  if (list == nullptr) return;
  if (!list->is_array()) {
    problems.push_back(where + "." + key + " is not a list");
    return;
  }
  std::size_t i = 0;
  for (const Json& row : *list) {
    if (i == kMaxRowsPerKind) {
      problems.push_back(where + "." + key + " has more than " + std::to_string(kMaxRowsPerKind) +
                         " rows; the rest are ignored");
      return;
    }
    const std::string at = where + "." + key + "[" + std::to_string(i++) + "]";
    if (!row.is_object()) {
      problems.push_back(at + " is not an object");
      continue;
    }
    const auto kind = get_string(row, "kind");
    if (!kind || (*kind != "audio" && *kind != "video")) {
      problems.push_back(at + ".kind is not audio or video");
      continue;
    }
    each(row, at);
  }
}

void read_connection(const Json& c, const std::string& where, std::vector<std::string>& problems,
                     StatsSample& out) {
  const auto id = get_string(c, "id");
  const auto path = path_from(get_string(c, "path").value_or(""));
  if (!id || id->empty() || !path) {
    problems.push_back(where + " needs an `id` and a `path` (mesh, publish, subscribe, bridge)");
    return;
  }
  ConnectionSample s;
  s.id = *id;
  s.path = *path;
  if (const Json* pair = find_field(c, "pair"); pair != nullptr && pair->is_object()) {
    Reader r(*pair, where + ".pair", problems);
    s.pair.available_outgoing_bitrate = r.number("availableOutgoingBitrate");
    s.pair.current_round_trip_time = r.number("currentRoundTripTime");
    s.pair.bytes_sent = r.number("bytesSent");
    s.pair.bytes_received = r.number("bytesReceived");
  }
  rows(c, "outbound", where, problems, [&](const Json& row, const std::string& at) {
    Reader r(row, at, problems);
    OutboundRtp o;
    o.mid = r.text("mid");
    o.kind = r.text("kind");
    o.rid = r.text("rid");
    o.bytes_sent = r.number("bytesSent");
    o.packets_sent = r.number("packetsSent");
    o.frames_per_second = r.number("framesPerSecond");
    o.frame_width = r.number("frameWidth");
    o.frame_height = r.number("frameHeight");
    o.source_width = r.number("sourceWidth");
    o.source_height = r.number("sourceHeight");
    o.source_frames_per_second = r.number("sourceFramesPerSecond");
    o.quality_limitation_reason = r.text("qualityLimitationReason");
    o.active = get_bool(row, "active");
    s.outbound.push_back(std::move(o));
  });
  rows(c, "remoteInbound", where, problems, [&](const Json& row, const std::string& at) {
    Reader r(row, at, problems);
    RemoteInboundRtp ri;
    ri.mid = r.text("mid");
    ri.kind = r.text("kind");
    ri.rid = r.text("rid");
    ri.packets_lost = r.number("packetsLost", true);
    ri.fraction_lost = r.number("fractionLost");
    ri.jitter = r.number("jitter");
    ri.round_trip_time = r.number("roundTripTime");
    s.remote_inbound.push_back(std::move(ri));
  });
  rows(c, "inbound", where, problems, [&](const Json& row, const std::string& at) {
    Reader r(row, at, problems);
    InboundRtp in;
    in.peer = r.text("peer");
    in.mid = r.text("mid");
    in.kind = r.text("kind");
    in.bytes_received = r.number("bytesReceived");
    in.packets_received = r.number("packetsReceived");
    in.packets_lost = r.number("packetsLost", true);
    in.jitter = r.number("jitter");
    in.frames_per_second = r.number("framesPerSecond");
    in.frame_width = r.number("frameWidth");
    in.frame_height = r.number("frameHeight");
    in.frames_decoded = r.number("framesDecoded");
    in.freeze_count = r.number("freezeCount");
    in.total_freezes_duration = r.number("totalFreezesDuration");
    in.audio_level = r.number("audioLevel");
    s.inbound.push_back(std::move(in));
  });
  out.connections.push_back(std::move(s));
}

}  // namespace

StatsSample read_stats_sample(const Json& input, std::vector<std::string>& problems) {
  StatsSample out;
  const Json* list = find_field(input, "connections");
  if (list == nullptr || !list->is_array()) {
    problems.push_back("stats-sample needs a `connections` list");
    return out;
  }
  std::size_t i = 0;
  for (const Json& c : *list) {
    if (i == kMaxConnections) {
      problems.push_back("stats-sample has more than " + std::to_string(kMaxConnections) +
                         " connections; the rest are ignored");
      break;
    }
    const std::string where = "connections[" + std::to_string(i++) + "]";
    if (!c.is_object()) {
      problems.push_back(where + " is not an object");
      continue;
    }
    read_connection(c, where, problems, out);
  }
  return out;
}

const char* to_string(Path path) {
  switch (path) {
    case Path::Mesh: return "mesh";
    case Path::Publish: return "publish";
    case Path::Subscribe: return "subscribe";
    case Path::Bridge: return "bridge";
  }
  return "mesh";
}

}  // namespace chorus::stats
