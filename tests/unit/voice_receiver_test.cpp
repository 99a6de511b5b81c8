// The listener's voice path with real Opus (native libopus): floor gating, pending packets
// before the grant, corrupt packets, absurd numbers, release and preemption.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "opus/codec.hpp"
#include "opus/voice_receiver.hpp"

using namespace chorus::opus;
using chorus::voice::VoiceHeader;

namespace {

constexpr double kPi = 3.14159265358979323846;

// 20 ms Opus packets of a 440 Hz tone.
std::vector<std::string> tone_packets(int count) {
  EncoderOptions o;
  Encoder enc(o);
  REQUIRE(enc.error().empty());
  std::vector<std::string> out;
  for (int f = 0; f < count; ++f) {
    for (int i = 0; i < 960; ++i) enc.input()[i] = 0.4f * static_cast<float>(std::sin(2 * kPi * 440 * (f * 960 + i) / 48000.0));
    const int n = enc.encode();
    REQUIRE(n > 0);
    out.emplace_back(reinterpret_cast<const char*>(enc.packet()), static_cast<std::size_t>(n));
  }
  return out;
}

VoiceHeader header(std::uint32_t epoch, std::uint32_t seq, bool last = false) {
  return {epoch, seq, seq * 960, last};
}

// Renders `ms` of audio at 20 ms per call; returns the energy (sum of squares).
double play(VoiceReceiver& r, double& now, double ms) {
  double energy = 0;
  for (double end = now + ms; now < end; now += 20) {
    const int n = r.render(now);
    REQUIRE(n > 0);
    for (int i = 0; i < n; ++i) energy += r.pcm()[i] * r.pcm()[i];
  }
  return energy;
}

}  // namespace

TEST_CASE("voice receiver: the floor holder's burst is decoded and played", "[voice][receiver]") {
  VoiceReceiver r;
  auto packets = tone_packets(50);
  double now = 0;
  r.set_floor(7, 3, now);
  CHECK(play(r, now, 100) == 0);  // nothing sent yet: silence
  for (std::uint32_t s = 0; s < packets.size(); ++s) {
    CHECK(r.push(7, header(3, s, s + 1 == packets.size()), packets[s], now).verdict == VoiceVerdict::Accepted);
    const int n = r.render(now);
    REQUIRE(n == 960);
    now += 20;
  }
  CHECK(r.state() == PlayState::Playing);
  CHECK(r.talker() == 7);
  CHECK(play(r, now, 200) > 10);  // the tone, not silence
  play(r, now, 400);
  CHECK(r.state() == PlayState::Idle);  // the last packet played: the burst ended
  CHECK(r.jitter_stats().decoded >= 45);
  CHECK(r.decode_errors() == 0);
}

TEST_CASE("voice receiver: packets that arrive before the grant wait for it", "[voice][receiver]") {
  VoiceReceiver r;
  auto packets = tone_packets(10);
  double now = 0;
  for (std::uint32_t s = 0; s < 3; ++s) CHECK(r.push(5, header(1, s), packets[s], now).verdict == VoiceVerdict::Pending);
  CHECK(r.state() == PlayState::Idle);
  r.set_floor(5, 1, now + 15);  // the grant came through the server a little later
  CHECK(r.state() != PlayState::Idle);
  // The waiting packets are handed back once, in order, to be reported as accepted.
  std::uint32_t peer = 0;
  VoiceHeader h;
  std::string packet;
  for (std::uint32_t s = 0; s < 3; ++s) {
    REQUIRE(r.next_admitted(peer, h, packet));
    CHECK(peer == 5);
    CHECK(h.seq == s);
    CHECK(packet == packets[s]);
  }
  CHECK_FALSE(r.next_admitted(peer, h, packet));
  for (std::uint32_t s = 3; s < 10; ++s) r.push(5, header(1, s, s == 9), packets[s], now);
  CHECK(play(r, now, 400) > 1);
  CHECK(r.jitter_stats().received == 10);
}

TEST_CASE("voice receiver: voice from a peer without the floor is never played", "[voice][receiver]") {
  VoiceReceiver r;
  auto packets = tone_packets(20);
  double now = 0;
  r.set_floor(1, 4, now);
  // Peer 2 talks over peer 1's grant: reported once, then dropped quietly.
  auto first = r.push(2, header(4, 0), packets[0], now);
  CHECK(first.verdict == VoiceVerdict::FloorViolation);
  CHECK(first.report);
  auto again = r.push(2, header(4, 1), packets[1], now);
  CHECK(again.verdict == VoiceVerdict::FloorViolation);
  CHECK_FALSE(again.report);
  // A made-up future epoch waits for a grant that never comes, then counts as a violation.
  CHECK(r.push(2, header(9, 0), packets[2], now).verdict == VoiceVerdict::Pending);
  CHECK(play(r, now, 1500) == 0);
  CHECK(r.violations() == 3);
  // The holder's voice still plays.
  for (std::uint32_t s = 0; s < 20; ++s) r.push(1, header(4, s, s == 19), packets[s], now);
  CHECK(play(r, now, 600) > 10);
}

TEST_CASE("voice receiver: corrupt packets and absurd numbers do not stop playout", "[voice][receiver]") {
  VoiceReceiver r;
  auto packets = tone_packets(30);
  double now = 0;
  r.set_floor(1, 2, now);
  int loud_frames = 0;
  for (std::uint32_t s = 0; s < 40; ++s, now += 20) {
    if (s < 30) {
      std::string p = packets[s];
      // Code 3 with a frame count of 0: no decoder accepts it.
      if (s == 10) p = std::string("\x7b\x00corrupt-packet", 16);
      r.push(1, header(2, s), p, now);
    }
    if (s == 12) {
      auto absurd = r.push(1, header(2, 4000000), packets[0], now);
      CHECK(absurd.verdict == VoiceVerdict::BadAudio);
      CHECK(absurd.report);
      CHECK_FALSE(r.push(1, header(2, 4000001), packets[0], now).report);  // once per burst
      CHECK(r.push(1, {2, 13, 5, false}, packets[0], now).verdict == VoiceVerdict::BadAudio);
    }
    const int n = r.render(now);
    REQUIRE(n > 0);
    double e = 0;
    for (int k = 0; k < n; ++k) e += r.pcm()[k] * r.pcm()[k];
    if (e > 1) ++loud_frames;
  }
  CHECK(r.decode_errors() == 1);
  CHECK(r.take_decode_report());        // reported once
  CHECK_FALSE(r.take_decode_report());
  // Everything but the start-up delay: the corrupt frame's gap is concealed.
  CHECK(loud_frames >= 25);
}

TEST_CASE("voice receiver: a released burst plays out and a preempted one stops", "[voice][receiver]") {
  VoiceReceiver r;
  auto packets = tone_packets(40);
  double now = 0;
  r.set_floor(1, 1, now);
  for (std::uint32_t s = 0; s < 10; ++s) r.push(1, header(1, s), packets[s], now);
  r.set_floor(0, 1, now);  // released while its last packets are in flight
  CHECK(r.push(1, header(1, 10, true), packets[10], now + 30).verdict == VoiceVerdict::Accepted);
  CHECK(play(r, now, 400) > 5);
  CHECK(r.state() == PlayState::Idle);
  // Preemption: a dispatcher (peer 3) takes epoch 2 from talker 2; the talker's stragglers are
  // harmless and ignored, and the dispatcher is heard.
  r.set_floor(2, 2, now);
  for (std::uint32_t s = 0; s < 5; ++s) r.push(2, header(2, s), packets[s], now);
  r.set_floor(3, 3, now);
  CHECK(r.push(2, header(2, 5), packets[5], now).verdict == VoiceVerdict::Ignored);
  for (std::uint32_t s = 0; s < 20; ++s) r.push(3, header(3, s, s == 19), packets[s], now);
  CHECK(r.talker() == 3);
  CHECK(play(r, now, 600) > 10);
}

TEST_CASE("voice receiver: a released burst whose last packet was lost still ends", "[voice][receiver]") {
  VoiceReceiver r;
  auto packets = tone_packets(10);
  double now = 0;
  r.set_floor(4, 1, now);
  for (std::uint32_t s = 0; s < 10; ++s) {
    r.push(4, header(1, s), packets[s], now);  // no packet carries `last`
    r.render(now);
    now += 20;
  }
  r.set_floor(0, 1, now);
  play(r, now, 1000);
  CHECK(r.state() != PlayState::Idle);  // within the release grace the end may still come
  play(r, now, 300);
  CHECK(r.state() == PlayState::Idle);
  CHECK(r.talker() == 0);
}
