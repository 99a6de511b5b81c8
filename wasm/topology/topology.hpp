// The names of a room's topologies and policies (docs/protocol.md, "Topology"), shared by the
// selector (topology/selector.hpp) and the wire protocol.
#pragma once

#include <optional>
#include <string_view>

namespace chorus::topology {

enum class Topology { P2P, Mesh, Sfu, McuAudio };
enum class RoomPolicy { Meeting, Classroom, Walkie };

std::string_view to_string(Topology t);
std::string_view to_string(RoomPolicy p);
std::optional<Topology> topology_from_string(std::string_view name);
std::optional<RoomPolicy> policy_from_string(std::string_view name);

}  // namespace chorus::topology
