// The `topology` object of protocol v1 (docs/protocol.md, "Topology"): in the `topology`
// message and in `welcome`.
#include <cmath>

#include "signaling/protocol.hpp"

namespace chorus::protocol {

Json topology_fields(Json out, const TopologyInfo& t) {
  out["mode"] = topology::to_string(t.mode);
  out["epoch"] = t.epoch;
  out["reason"] = t.reason;
  if (t.server) {
    out["server"] = {{"url", t.server->url}, {"room", static_cast<std::int64_t>(t.server->room)}};
  }
  return out;
}

Parsed<TopologyInfo> parse_topology(const Json& obj, const char* ref) {
  auto bad = [&](std::string message) {
    return ProtocolError{ErrorCode::BadMessage, std::move(message), ref};
  };
  if (!obj.is_object()) return bad("`topology` must be an object");
  TopologyInfo t;
  auto mode = get_string(obj, "mode");
  if (!mode || !topology::topology_from_string(*mode)) {
    return bad("topology `mode` must be p2p, mesh, sfu or mcu-audio");
  }
  t.mode = *topology::topology_from_string(*mode);
  auto epoch = get_number(obj, "epoch");
  if (!epoch || *epoch != std::floor(*epoch) || *epoch < 0 || *epoch > 4294967295.0) {
    return bad("topology `epoch` must be an integer in [0, 2^32)");
  }
  t.epoch = static_cast<std::uint32_t>(*epoch);
  t.reason = get_string(obj, "reason").value_or("");
  if (const Json* s = find_field(obj, "server"); s != nullptr && !s->is_null()) {
    auto url = get_string(*s, "url");
    auto room = get_number(*s, "room");
    if (!url || url->empty() || !room || *room != std::floor(*room) || *room < 1 || *room > 9007199254740991.0) {
      return bad("topology `server` needs a `url` and an integer `room`");
    }
    t.server = MediaServer{*url, *room};
  }
  const bool needs_server = t.mode == topology::Topology::Sfu || t.mode == topology::Topology::McuAudio;
  if (needs_server != t.server.has_value()) {
    return bad("topology `server` is given exactly for sfu and mcu-audio");
  }
  return t;
}

}  // namespace chorus::protocol
