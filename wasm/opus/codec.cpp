#include "opus/codec.hpp"

#include <opus/opus.h>

namespace chorus::opus {
namespace {

int application_value(Application a) {
  switch (a) {
    case Application::Audio: return OPUS_APPLICATION_AUDIO;
    case Application::LowDelay: return OPUS_APPLICATION_RESTRICTED_LOWDELAY;
    case Application::Voip: break;
  }
  return OPUS_APPLICATION_VOIP;
}

}  // namespace

std::string EncoderOptions::validate() const {
  if (channels != 1 && channels != 2) return "channels must be 1 or 2";
  if (frame_ms != 10 && frame_ms != 20 && frame_ms != 40 && frame_ms != 60)
    return "frameMs must be 10, 20, 40 or 60";
  if (bitrate < 6000 || bitrate > 510000) return "bitrate must be 6000..510000 bit/s";
  if (complexity < 0 || complexity > 10) return "complexity must be 0..10";
  if (packet_loss_percent < 0 || packet_loss_percent > 100) return "packetLoss must be 0..100 %";
  return {};
}

Encoder::Encoder(const EncoderOptions& options) : options_(options) {
  error_ = options.validate();
  if (!error_.empty()) return;
  int status = 0;
  enc_ = opus_encoder_create(kSampleRate, options.channels, application_value(options.application),
                             &status);
  if (status != OPUS_OK || !enc_) {
    error_ = status_text(status);
    enc_ = nullptr;
    return;
  }
  input_.assign(static_cast<std::size_t>(options.frame_samples() * options.channels), 0.0f);
  packet_.assign(kMaxPacketBytes, 0);
  error_ = configure(options);
}

Encoder::~Encoder() {
  if (enc_) opus_encoder_destroy(enc_);
}

std::string Encoder::configure(const EncoderOptions& next) {
  if (!enc_) return error_.empty() ? "encoder not initialised" : error_;
  if (auto e = next.validate(); !e.empty()) return e;
  if (next.channels != options_.channels || next.frame_ms != options_.frame_ms ||
      next.application != options_.application)
    return "channels, frameMs and application are fixed when the encoder is made";
  const int statuses[] = {
      opus_encoder_ctl(enc_, OPUS_SET_BITRATE(next.bitrate)),
      opus_encoder_ctl(enc_, OPUS_SET_COMPLEXITY(next.complexity)),
      opus_encoder_ctl(enc_, OPUS_SET_INBAND_FEC(next.fec ? 1 : 0)),
      opus_encoder_ctl(enc_, OPUS_SET_DTX(next.dtx ? 1 : 0)),
      opus_encoder_ctl(enc_, OPUS_SET_PACKET_LOSS_PERC(next.packet_loss_percent)),
  };
  for (int s : statuses) {
    if (s != OPUS_OK) return status_text(s);
  }
  options_ = next;
  return {};
}

int Encoder::encode() {
  if (!enc_) return OPUS_INVALID_STATE;
  return opus_encode_float(enc_, input_.data(), options_.frame_samples(), packet_.data(),
                           static_cast<opus_int32>(packet_.size()));
}

Decoder::Decoder(int channels) : channels_(channels) {
  if (channels != 1 && channels != 2) {
    error_ = "channels must be 1 or 2";
    return;
  }
  int status = 0;
  dec_ = opus_decoder_create(kSampleRate, channels, &status);
  if (status != OPUS_OK || !dec_) {
    error_ = status_text(status);
    dec_ = nullptr;
    return;
  }
  inbox_.assign(kMaxPacketBytes, 0);
  pcm_.assign(static_cast<std::size_t>(kMaxFrameSamples * channels), 0.0f);
}

Decoder::~Decoder() {
  if (dec_) opus_decoder_destroy(dec_);
}

int Decoder::decode(int bytes, bool fec, int fec_samples) {
  if (!dec_) return OPUS_INVALID_STATE;
  if (bytes <= 0 || bytes > kMaxPacketBytes) return OPUS_BAD_ARG;
  // With FEC the output length must be exactly the lost frame's; libopus takes it from
  // frame_size, so pass that instead of the buffer's capacity.
  const int frame_size = fec ? fec_samples : kMaxFrameSamples;
  if (fec && (fec_samples <= 0 || fec_samples > kMaxFrameSamples)) return OPUS_BAD_ARG;
  const int n = opus_decode_float(dec_, inbox_.data(), bytes, pcm_.data(), frame_size, fec ? 1 : 0);
  if (n > 0 && !fec) last_samples_ = n;
  return n;
}

int Decoder::conceal(int samples) {
  if (!dec_) return OPUS_INVALID_STATE;
  if (samples <= 0 || samples > kMaxFrameSamples || samples % (kSampleRate / 400) != 0)
    return OPUS_BAD_ARG;
  return opus_decode_float(dec_, nullptr, 0, pcm_.data(), samples, 0);
}

const char* status_text(int status) { return opus_strerror(status); }

int packet_samples(const std::uint8_t* data, int bytes) {
  if (bytes <= 0) return OPUS_INVALID_PACKET;
  return opus_packet_get_nb_samples(data, bytes, kSampleRate);
}

const char* library_version() { return opus_get_version_string(); }

}  // namespace chorus::opus
