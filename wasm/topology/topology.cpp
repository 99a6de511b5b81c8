#include "topology/topology.hpp"

namespace chorus::topology {

std::string_view to_string(Topology t) {
  switch (t) {
    case Topology::P2P: return "p2p";
    case Topology::Mesh: return "mesh";
    case Topology::Sfu: return "sfu";
    case Topology::McuAudio: return "mcu-audio";
  }
  return "mesh";
}

std::string_view to_string(RoomPolicy p) {
  switch (p) {
    case RoomPolicy::Meeting: return "meeting";
    case RoomPolicy::Classroom: return "classroom";
    case RoomPolicy::Walkie: return "walkie";
  }
  return "meeting";
}

std::optional<Topology> topology_from_string(std::string_view name) {
  for (Topology t : {Topology::P2P, Topology::Mesh, Topology::Sfu, Topology::McuAudio}) {
    if (name == to_string(t)) return t;
  }
  return std::nullopt;
}

std::optional<RoomPolicy> policy_from_string(std::string_view name) {
  for (RoomPolicy p : {RoomPolicy::Meeting, RoomPolicy::Classroom, RoomPolicy::Walkie}) {
    if (name == to_string(p)) return p;
  }
  return std::nullopt;
}

}  // namespace chorus::topology
