// OpusEncoder / OpusDecoder: libopus behind a small, checked C++ surface (48 kHz only, the
// rate WebRTC and Web Audio use; mono or stereo; float PCM, interleaved).
//
// Contract: construction never fails; `configure()` / the constructor's options are checked and
// a bad option leaves the object unusable with `error()` set (no exceptions: the core builds with
// -fno-exceptions). encode() / decode() return the byte or sample count, or a negative libopus
// status whose text `status_text()` gives. Buffers are owned by the object so the wasm glue can
// hand JavaScript views of them (no copies across the boundary beyond one memcpy).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct OpusEncoder;  // libopus
struct OpusDecoder;

namespace chorus::opus {

inline constexpr int kSampleRate = 48000;
// The largest packet libopus emits for one frame (RFC 6716 §3.2.1), times the 3 frames a
// 60 ms packet may pack.
inline constexpr int kMaxPacketBytes = 1275 * 3 + 7;
// The longest frame decode() may produce: 120 ms (RFC 6716 allows it in one packet).
inline constexpr int kMaxFrameSamples = kSampleRate * 120 / 1000;

enum class Application { Voip, Audio, LowDelay };

struct EncoderOptions {
  int channels = 1;             // 1 or 2
  double frame_ms = 20;         // 10, 20, 40 or 60
  int bitrate = 24000;          // bits per second, 6000..510000
  int complexity = 5;           // 0..10
  bool fec = true;              // in-band FEC (only used at bitrates where SILK runs)
  bool dtx = false;             // discontinuous transmission: tiny packets during silence
  int packet_loss_percent = 10; // expected loss, 0..100: tunes how much FEC costs
  Application application = Application::Voip;

  int frame_samples() const { return static_cast<int>(frame_ms * kSampleRate / 1000); }
  // Empty when valid, else what is wrong (shown to the app as a RangeError).
  std::string validate() const;
};

class Encoder {
 public:
  explicit Encoder(const EncoderOptions& options);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  const std::string& error() const { return error_; }
  const EncoderOptions& options() const { return options_; }

  // Changes bitrate, complexity, FEC, DTX or expected loss on the fly (channels, frame length
  // and application are fixed). Returns an error text, empty on success.
  std::string configure(const EncoderOptions& options);

  // PCM input of one frame: frame_samples() * channels floats in [-1, 1], interleaved.
  float* input() { return input_.data(); }
  // Encodes input() into packet(); returns the packet's length or a negative libopus status.
  int encode();
  const std::uint8_t* packet() const { return packet_.data(); }

 private:
  EncoderOptions options_;
  std::string error_;
  ::OpusEncoder* enc_ = nullptr;
  std::vector<float> input_;
  std::vector<std::uint8_t> packet_;
};

class Decoder {
 public:
  explicit Decoder(int channels);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  const std::string& error() const { return error_; }
  int channels() const { return channels_; }

  // Where the caller puts a packet of `bytes` (<= kMaxPacketBytes) before decode().
  std::uint8_t* inbox() { return inbox_.data(); }
  // Decodes the packet in inbox() into pcm(); returns samples per channel, or a negative
  // libopus status (a corrupt packet: the state is unchanged, conceal() can fill the gap).
  //   fec: decode the in-band FEC copy of the frame *before* this packet (lost earlier);
  //   fec_samples: that frame's length.
  int decode(int bytes, bool fec = false, int fec_samples = 0);
  // Packet-loss concealment for `samples` per channel (a multiple of 2.5 ms).
  int conceal(int samples);
  const float* pcm() const { return pcm_.data(); }
  // Samples per channel of the last packet, or 0 (for sizing a concealment).
  int last_packet_samples() const { return last_samples_; }

 private:
  int channels_;
  std::string error_;
  ::OpusDecoder* dec_ = nullptr;
  std::vector<std::uint8_t> inbox_;
  std::vector<float> pcm_;
  int last_samples_ = 0;
};

// libopus's text for a status code ("corrupted stream", ...).
const char* status_text(int status);
// Samples per channel in a packet at 48 kHz, or a negative status for an invalid one.
int packet_samples(const std::uint8_t* data, int bytes);
// The libopus version string, e.g. "libopus 1.5.2".
const char* library_version();

}  // namespace chorus::opus
