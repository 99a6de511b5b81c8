// The chorus-opus module's C ABI (dist/chorus-opus.mjs; JavaScript side: js-glue/opus.js).
// Plain exported functions instead of embind: libopus alone is most of the 140 KB budget, and
// embind's runtime would add ~15 KB for six small classes. Every pointer returned is owned by
// the module; the *_free functions end it.
#include <emscripten/emscripten.h>

#include "opus/codec.hpp"

using chorus::opus::Application;
using chorus::opus::Decoder;
using chorus::opus::Encoder;
using chorus::opus::EncoderOptions;

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

EMSCRIPTEN_KEEPALIVE const char* chorus_opus_strerror(int status) { return chorus::opus::status_text(status); }
EMSCRIPTEN_KEEPALIVE int chorus_opus_packet_samples(const std::uint8_t* data, int bytes) {
  return chorus::opus::packet_samples(data, bytes);
}
EMSCRIPTEN_KEEPALIVE const char* chorus_opus_version() { return chorus::opus::library_version(); }
// Scratch memory for packets handed in from JavaScript (replay, packet inspection).
EMSCRIPTEN_KEEPALIVE void* chorus_opus_alloc(int bytes) { return bytes > 0 ? ::operator new(bytes) : nullptr; }
EMSCRIPTEN_KEEPALIVE void chorus_opus_dealloc(void* p) { ::operator delete(p); }

}  // extern "C"
