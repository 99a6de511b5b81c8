// One RTP packet on its way from a sender through the bottleneck to the far end.
#pragma once

#include <cstdint>

namespace abrsim {

struct Packet {
  int connection = 0;       // index of the connection (the mesh peer) it belongs to
  int mid = 0;              // 0 audio, 1 video
  std::uint64_t seq = 0;    // transport-wide sequence number of its connection
  int bytes = 0;            // payload + RTP/SRTP/UDP/IP headers: what the link carries
  double sent_s = 0;        // when the pacer put it on the wire
};

enum class Fate { Pending, Delivered, Dropped };

}  // namespace abrsim
