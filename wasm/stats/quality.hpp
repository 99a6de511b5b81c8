// Quality scores on a 0-5 scale, from what a receiver measures.
//   Audio: the E-model's MOS (ITU-T G.107, in the simplified form of Cole & Rosenbluth): the
//   delay impairment from the one-way delay, the equipment impairment from packet loss with
//   Opus's concealment. 1 (bad) .. 4.5 (the model's best); 0 when no audio arrives.
//   Video: the decoded height on a log scale (90p -> 1, 1080p -> 5), times a frame-rate factor
//   (sqrt(fps / 24), at most 1), times the share of the interval not spent frozen.
#pragma once

namespace chorus::stats {

// Opus is not in G.113's tables: Ie = 0 (no codec impairment at these rates) and a packet-loss
// robustness Bpl = 20 (between G.711 with PLC, 25.1, and codecs without concealment).
inline constexpr double kOpusIe = 0;
inline constexpr double kOpusBpl = 20;

// R-factor -> MOS (G.107 Annex B), clamped to 1..4.5.
double mos_from_r(double r);

// `one_way_delay_ms`: mouth to ear; `loss_fraction`: 0..1 of packets lost.
double e_model_mos(double one_way_delay_ms, double loss_fraction);

// The delay the E-model wants, from what getStats gives: half the RTT, a jitter buffer of twice
// the interarrival jitter, and 20 ms for one Opus frame.
double one_way_delay_ms(double rtt_ms, double jitter_ms);

// `frozen_fraction`: 0..1 of the interval spent frozen (webrtc-stats freezes).
double video_score(double frame_height, double frames_per_second, double frozen_fraction);

}  // namespace chorus::stats
