// The room's topology decision (wasm/topology/selector): thresholds, hysteresis, epochs, uplink
// reports (also conflicting and stale ones) and media servers that come and go.
#include <catch2/catch.hpp>
#include <string>

#include "topology/selector.hpp"

using namespace chorus::topology;

namespace {

void add(TopologySelector& s, int from, int to, double now) {
  for (int i = from; i <= to; ++i) s.peer_joined("p" + std::to_string(i), now);
}

UplinkReport video(double kbps, bool limited = false) { return {true, kbps, limited}; }

}  // namespace

TEST_CASE("a meeting is p2p, then mesh, then SFU from 5; each change gets the next epoch", "[topology]") {
  TopologySelector s;
  s.set_available(true, true, 0);
  add(s, 1, 2, 0);
  CHECK(s.decision().topology == Topology::P2P);
  s.peer_joined("p3", 0);
  CHECK(s.decision().topology == Topology::Mesh);
  const auto mesh_epoch = s.decision().epoch;
  s.peer_joined("p4", 0);
  CHECK(s.decision().topology == Topology::Mesh);
  CHECK(s.decision().epoch == mesh_epoch);  // no change, no new epoch
  s.peer_joined("p5", 0);
  CHECK(s.decision().topology == Topology::Sfu);
  CHECK(s.decision().epoch == mesh_epoch + 1);
  CHECK(s.decision().reason == "5 peers");
}

TEST_CASE("back to mesh only at 3 peers and after the hold: a room at the threshold does not flap", "[topology]") {
  TopologySelector s;
  s.set_available(true, true, 0);
  add(s, 1, 5, 0);
  REQUIRE(s.decision().topology == Topology::Sfu);
  const auto epoch = s.decision().epoch;
  // 5 -> 4 -> 5 -> 4 ...: stays SFU, epoch unchanged.
  for (int i = 0; i < 10; ++i) {
    s.peer_left("p5", 1000.0 * i);
    s.peer_joined("p5", 1000.0 * i + 500);
  }
  CHECK(s.decision().topology == Topology::Sfu);
  CHECK(s.decision().epoch == epoch);
  s.peer_left("p5", 20000);
  s.peer_left("p4", 20000);  // 3 peers: the hold starts
  CHECK(s.decision().topology == Topology::Sfu);
  REQUIRE(s.next_deadline() == 30000.0);
  CHECK_FALSE(s.evaluate(29999));
  // Someone joins during the hold: it starts over.
  s.peer_joined("p4", 25000);
  s.peer_left("p4", 26000);
  CHECK_FALSE(s.evaluate(30000));
  CHECK(s.next_deadline() == 36000.0);
  CHECK(s.evaluate(36000));
  CHECK(s.decision().topology == Topology::Mesh);
  CHECK(s.decision().epoch == epoch + 1);
  CHECK_FALSE(s.next_deadline().has_value());
}

TEST_CASE("without a media server the room stays a mesh whatever its size", "[topology]") {
  TopologySelector s;  // nothing available
  add(s, 1, 8, 0);
  CHECK(s.decision().topology == Topology::Mesh);
  CHECK(s.decision().reason == "no media server");
}

TEST_CASE("the SFU going away: small rooms fall back to mesh, large ones wait for it", "[topology]") {
  TopologySelector small;
  small.set_available(true, true, 0);
  add(small, 1, 5, 0);
  REQUIRE(small.decision().topology == Topology::Sfu);
  small.set_available(false, false, 100);
  CHECK(small.decision().topology == Topology::Mesh);
  CHECK(small.decision().reason == "media server unavailable: back to a mesh");
  small.set_available(true, true, 200);
  CHECK(small.decision().topology == Topology::Sfu);

  TopologySelector large;
  large.set_available(true, true, 0);
  add(large, 1, 9, 0);
  const auto epoch = large.decision().epoch;
  large.set_available(false, false, 100);
  CHECK(large.decision().topology == Topology::Sfu);
  CHECK(large.decision().epoch == epoch);
}

TEST_CASE("a classroom goes to the SFU from 3, a walkie channel to the audio MCU from 3", "[topology]") {
  TopologySelector classroom(RoomPolicy::Classroom);
  classroom.set_available(true, true, 0);
  add(classroom, 1, 2, 0);
  CHECK(classroom.decision().topology == Topology::P2P);
  classroom.peer_joined("p3", 0);
  CHECK(classroom.decision().topology == Topology::Sfu);

  TopologySelector walkie(RoomPolicy::Walkie);
  walkie.set_available(true, true, 0);
  add(walkie, 1, 3, 0);
  CHECK(walkie.decision().topology == Topology::McuAudio);
  walkie.peer_left("p3", 1000);  // 2: below the MCU threshold, after the hold
  CHECK(walkie.decision().topology == Topology::McuAudio);
  CHECK(walkie.evaluate(12000));
  CHECK(walkie.decision().topology == Topology::P2P);

  TopologySelector no_mcu(RoomPolicy::Walkie);
  no_mcu.set_available(true, false, 0);  // an SFU is no help to an audio-only channel
  add(no_mcu, 1, 6, 0);
  CHECK(no_mcu.decision().topology == Topology::Mesh);
}

TEST_CASE("limited uplinks move a mesh of 3 to the SFU after they hold", "[topology]") {
  TopologySelector s;
  s.set_available(true, true, 0);
  add(s, 1, 3, 0);
  s.report("p1", video(2000), 0);
  s.report("p2", video(400), 0);  // 400 / 2 streams < 250: too small for this mesh
  CHECK(s.decision().topology == Topology::Mesh);
  REQUIRE(s.next_deadline() == 5000.0);
  CHECK(s.evaluate(5000));
  CHECK(s.decision().topology == Topology::Sfu);
  CHECK(s.decision().reason == "uplinks too small for a mesh of 3");
  // While it still reports a small uplink, the room does not go back.
  s.report("p2", video(400), 6000);
  s.report("p2", video(400), 20000);
  CHECK_FALSE(s.evaluate(30000));
  // Healthy again: back to mesh after the hold.
  s.report("p2", video(3000), 31000);
  CHECK_FALSE(s.evaluate(40000));
  CHECK(s.evaluate(41000));
  CHECK(s.decision().topology == Topology::Mesh);
}

TEST_CASE("a quality-limited publisher counts; an audio-only one does not", "[topology]") {
  TopologySelector s;
  s.set_available(true, true, 0);
  add(s, 1, 3, 0);
  s.report("p1", {false, 100, true}, 0);  // no video: its uplink is not what a mesh strains
  CHECK_FALSE(s.next_deadline().has_value());
  s.report("p3", video(0, true), 0);  // cpu or bandwidth limited, estimate unknown
  CHECK(s.evaluate(5000));
  CHECK(s.decision().topology == Topology::Sfu);
}

TEST_CASE("conflicting, stale and foreign reports", "[topology]") {
  TopologySelector s;
  s.set_available(true, true, 0);
  add(s, 1, 3, 0);
  s.report("stranger", video(10, true), 0);  // not a member
  CHECK_FALSE(s.next_deadline().has_value());
  // One peer says limited, the others fine: the weakest uplink decides.
  s.report("p1", video(5000), 0);
  s.report("p2", video(5000), 0);
  s.report("p3", video(5000, true), 0);
  REQUIRE(s.next_deadline() == 5000.0);
  // p3 stops reporting: after the report's TTL its word no longer counts.
  CHECK_FALSE(s.evaluate(4000));
  s.report("p3", video(5000, true), 4000);
  CHECK(s.evaluate(5000));
  CHECK(s.decision().topology == Topology::Sfu);
  s.peer_left("p4", 5000);  // not in the room: nothing happens
  CHECK(s.decision().topology == Topology::Sfu);
  // The limited peer leaves: 2 peers left, back to p2p after the hold.
  s.peer_left("p3", 6000);
  CHECK(s.evaluate(16000));
  CHECK(s.decision().topology == Topology::P2P);
}

TEST_CASE("a limited uplink in a room too small for the SFU does not wake the host forever", "[topology]") {
  TopologySelector s;
  s.set_available(true, true, 0);
  add(s, 1, 2, 0);
  s.report("p1", video(100, true), 0);
  REQUIRE(s.next_deadline() == 5000.0);
  CHECK_FALSE(s.evaluate(5000));  // 2 peers: p2p anyway
  CHECK_FALSE(s.next_deadline().has_value());
}

TEST_CASE("policy names", "[topology]") {
  CHECK(policy_from_string("classroom") == RoomPolicy::Classroom);
  CHECK_FALSE(policy_from_string("party"));
  CHECK(to_string(Topology::McuAudio) == "mcu-audio");
}
