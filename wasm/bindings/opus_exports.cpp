// The chorus-opus module's C ABI (dist/chorus-opus.mjs; JavaScript side: js-glue/opus.js).
// Plain exported functions instead of embind: libopus alone is most of the 140 KB budget, and
// embind's runtime would add ~15 KB for six small classes. Every pointer returned is owned by
// the module; the *_free functions end it.
#include <emscripten/emscripten.h>

#include <algorithm>
#include <cstring>

#include "opus/codec.hpp"
#include "opus/voice_receiver.hpp"

using chorus::opus::Application;
using chorus::opus::Decoder;
using chorus::opus::Encoder;
using chorus::opus::EncoderOptions;
using chorus::opus::VoiceReceiver;

// A receiver and the buffer its packets are copied into.
struct ReceiverBox {
  VoiceReceiver receiver;
  std::uint8_t inbox[chorus::voice::kMaxVoicePacketBytes];
};

namespace {

EncoderOptions options_from(int channels, int frame_ms, int bitrate, int complexity, int fec,
                            int dtx, int loss, int application) {
  EncoderOptions o;
  o.channels = channels;
  o.frame_ms = frame_ms;
  o.bitrate = bitrate;
  o.complexity = complexity;
  o.fec = fec != 0;
  o.dtx = dtx != 0;
  o.packet_loss_percent = loss;
  o.application = application == 1 ? Application::Audio
                  : application == 2 ? Application::LowDelay
                                     : Application::Voip;
  return o;
}

// Error texts handed to JavaScript stay valid until the next call on the same thread.
const char* keep(std::string text) {
  static std::string last;
  last = std::move(text);
  return last.c_str();
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE Encoder* chorus_opus_encoder_new(int channels, int frame_ms, int bitrate,
                                                      int complexity, int fec, int dtx, int loss,
                                                      int application) {
  return new Encoder(options_from(channels, frame_ms, bitrate, complexity, fec, dtx, loss, application));
}
// "" when the encoder is usable.
EMSCRIPTEN_KEEPALIVE const char* chorus_opus_encoder_error(Encoder* e) { return e->error().c_str(); }
EMSCRIPTEN_KEEPALIVE const char* chorus_opus_encoder_configure(Encoder* e, int bitrate,
                                                               int complexity, int fec, int dtx,
                                                               int loss) {
  EncoderOptions o = e->options();
  o.bitrate = bitrate;
  o.complexity = complexity;
  o.fec = fec != 0;
  o.dtx = dtx != 0;
  o.packet_loss_percent = loss;
  return keep(e->configure(o));
}
EMSCRIPTEN_KEEPALIVE float* chorus_opus_encoder_input(Encoder* e) { return e->input(); }
EMSCRIPTEN_KEEPALIVE int chorus_opus_encoder_encode(Encoder* e) { return e->encode(); }
EMSCRIPTEN_KEEPALIVE const std::uint8_t* chorus_opus_encoder_packet(Encoder* e) { return e->packet(); }
EMSCRIPTEN_KEEPALIVE void chorus_opus_encoder_free(Encoder* e) { delete e; }

EMSCRIPTEN_KEEPALIVE Decoder* chorus_opus_decoder_new(int channels) { return new Decoder(channels); }
EMSCRIPTEN_KEEPALIVE const char* chorus_opus_decoder_error(Decoder* d) { return d->error().c_str(); }
EMSCRIPTEN_KEEPALIVE std::uint8_t* chorus_opus_decoder_inbox(Decoder* d) { return d->inbox(); }
EMSCRIPTEN_KEEPALIVE int chorus_opus_decoder_decode(Decoder* d, int bytes, int fec, int fec_samples) {
  return d->decode(bytes, fec != 0, fec_samples);
}
EMSCRIPTEN_KEEPALIVE int chorus_opus_decoder_conceal(Decoder* d, int samples) { return d->conceal(samples); }
EMSCRIPTEN_KEEPALIVE const float* chorus_opus_decoder_pcm(Decoder* d) { return d->pcm(); }
EMSCRIPTEN_KEEPALIVE void chorus_opus_decoder_free(Decoder* d) { delete d; }

// ---- the listener's voice path (opus/voice_receiver.hpp) ----
EMSCRIPTEN_KEEPALIVE ReceiverBox* chorus_voice_receiver_new() { return new ReceiverBox(); }
EMSCRIPTEN_KEEPALIVE void chorus_voice_receiver_free(ReceiverBox* b) { delete b; }
EMSCRIPTEN_KEEPALIVE std::uint8_t* chorus_voice_receiver_inbox(ReceiverBox* b) { return b->inbox; }
EMSCRIPTEN_KEEPALIVE void chorus_voice_receiver_set_floor(ReceiverBox* b, std::uint32_t holder,
                                                          std::uint32_t epoch, double now_ms) {
  b->receiver.set_floor(holder, epoch, now_ms);
}
// The packet is the inbox's first `bytes`. Returns the VoiceVerdict, plus 16 if the app should
// be told (the first violation or bad packet of its kind for that peer and burst).
EMSCRIPTEN_KEEPALIVE int chorus_voice_receiver_push(ReceiverBox* b, std::uint32_t peer, std::uint32_t epoch,
                                                    std::uint32_t seq, std::uint32_t timestamp, int last,
                                                    int bytes, double arrival_ms) {
  if (bytes <= 0 || bytes > static_cast<int>(sizeof b->inbox)) {
    return static_cast<int>(chorus::opus::VoiceVerdict::BadAudio) | 16;
  }
  auto r = b->receiver.push(peer, {epoch, seq, timestamp, last != 0},
                            std::string_view(reinterpret_cast<const char*>(b->inbox), bytes), arrival_ms);
  return static_cast<int>(r.verdict) | (r.report ? 16 : 0);
}
// The next packet admitted from the pending queue by set_floor(): copies it into the inbox,
// fills out[0..4] = peer, epoch, seq, timestamp, last, and returns its length; -1 when none.
EMSCRIPTEN_KEEPALIVE int chorus_voice_receiver_next_admitted(ReceiverBox* b, std::uint32_t* out) {
  std::uint32_t peer = 0;
  chorus::voice::VoiceHeader h;
  std::string packet;
  if (!b->receiver.next_admitted(peer, h, packet)) return -1;
  const std::size_t n = std::min(packet.size(), sizeof b->inbox);
  std::memcpy(b->inbox, packet.data(), n);
  const std::uint32_t v[5] = {peer, h.epoch, h.seq, h.timestamp, h.last ? 1u : 0u};
  std::memcpy(out, v, sizeof v);
  return static_cast<int>(n);
}
EMSCRIPTEN_KEEPALIVE int chorus_voice_receiver_render(ReceiverBox* b, double now_ms) { return b->receiver.render(now_ms); }
// 1 once per burst after its first packet that did not decode (report it), else 0.
EMSCRIPTEN_KEEPALIVE int chorus_voice_receiver_take_decode_report(ReceiverBox* b) {
  return b->receiver.take_decode_report() ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE const float* chorus_voice_receiver_pcm(ReceiverBox* b) { return b->receiver.pcm(); }
// 0 idle, 1 buffering, 2 playing.
EMSCRIPTEN_KEEPALIVE int chorus_voice_receiver_state(ReceiverBox* b) { return static_cast<int>(b->receiver.state()); }
EMSCRIPTEN_KEEPALIVE std::uint32_t chorus_voice_receiver_talker(ReceiverBox* b) { return b->receiver.talker(); }
// Fills out[0..15]: received, duplicates, late, outOfRange, overflow, decoded, lost,
// fecRecovered, concealed, underruns, droppedForDrift, targetMs, bufferedMs, jitterMs,
// decodeErrors, violations (js-glue/voice/receiver-stats.js names them).
EMSCRIPTEN_KEEPALIVE void chorus_voice_receiver_stats(ReceiverBox* b, double* out) {
  const auto s = b->receiver.jitter_stats();
  const double v[16] = {double(s.received), double(s.duplicates), double(s.late), double(s.out_of_range),
                        double(s.overflow), double(s.decoded), double(s.lost), double(s.fec_recovered),
                        double(s.concealed), double(s.underruns), double(s.dropped_for_drift), s.target_ms,
                        s.buffered_ms, s.jitter_ms, double(b->receiver.decode_errors()),
                        double(b->receiver.violations())};
  for (int i = 0; i < 16; ++i) out[i] = v[i];
}

EMSCRIPTEN_KEEPALIVE const char* chorus_opus_strerror(int status) { return chorus::opus::status_text(status); }
EMSCRIPTEN_KEEPALIVE int chorus_opus_packet_samples(const std::uint8_t* data, int bytes) {
  return chorus::opus::packet_samples(data, bytes);
}
EMSCRIPTEN_KEEPALIVE const char* chorus_opus_version() { return chorus::opus::library_version(); }
// Scratch memory for packets handed in from JavaScript (replay, packet inspection).
EMSCRIPTEN_KEEPALIVE void* chorus_opus_alloc(int bytes) { return bytes > 0 ? ::operator new(bytes) : nullptr; }
EMSCRIPTEN_KEEPALIVE void chorus_opus_dealloc(void* p) { ::operator delete(p); }

}  // extern "C"
