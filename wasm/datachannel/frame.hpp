// The chorus DataChannel frame (docs/protocol.md, "DataChannel frames"): a fixed 16-byte
// header followed by a payload, one frame per RTCDataChannel message. Big-endian throughout.
//
//   0  u8   version (kFrameVersion)
//   1  u8   type (FrameType)
//   2  u8   flags (FrameFlag; bits not defined for the type must be 0)
//   3  u8   control kind (ControlKind) for `control` frames, else 0
//   4  u32  id: message id or transfer id, never 0
//   8  u64  word: its meaning depends on the type (see `Frame`)
//
// encode_* never fail; parse_frame() checks everything a peer could lie about that can be
// checked without state (the reassembler and the transfer machines check the rest).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/error_code.hpp"
#include "voice/voice_frame.hpp"

namespace chorus::datachannel {

inline constexpr std::uint8_t kFrameVersion = 1;
inline constexpr std::size_t kHeaderSize = 16;

enum class FrameType : std::uint8_t {
  Text = 1,        // word = u32 offset << 32 | u32 total length; payload = UTF-8 slice
  Json = 2,        // same, the whole message is JSON text
  Binary = 3,      // same, bytes
  FileBegin = 4,   // word = file size; payload = JSON {"name","type"}
  FileChunk = 5,   // word = offset of the payload in the file
  FileEnd = 6,     // word = file size; payload = the 32-byte SHA-256 of the file
  FileCancel = 7,  // word = 0; payload = UTF-8 reason; flag Reply if the id is the recipient's
  Control = 8,     // kind in byte 3; word per kind
  Voice = 9,       // id = floor epoch; word = u32 seq << 32 | u32 timestamp (48 kHz samples
                   // since the burst began); payload = one Opus packet; flag Last. Unreliable
                   // channel only, never chunked.
};

enum FrameFlag : std::uint8_t {
  // On file-cancel and control: the id names a transfer the *recipient* of this frame
  // started (a receiver cancelling, granting window or acknowledging a sender's transfer).
  kReply = 0x01,
  // On voice: the talk burst's final packet (the talker released the floor).
  kLast = 0x02,
};

inline constexpr std::size_t kMaxVoicePayload = voice::kMaxVoicePacketBytes;

enum class ControlKind : std::uint8_t {
  Window = 1,  // word = highest file offset the receiver accepts now (flow control credit)
  FileAck = 2, // word = bytes received; payload = 1 byte: 1 if the SHA-256 matched, else 0
};

bool is_message(FrameType type);

struct Frame {
  FrameType type = FrameType::Text;
  std::uint8_t flags = 0;
  ControlKind control = ControlKind::Window;  // meaningful for Control only
  std::uint32_t id = 0;
  std::uint64_t word = 0;
  std::string_view payload;  // points into the parsed buffer

  // Message frames (text/json/binary): the two halves of `word`.
  std::uint32_t offset() const { return static_cast<std::uint32_t>(word >> 32); }
  std::uint32_t total() const { return static_cast<std::uint32_t>(word); }
  // Voice frames: the same halves, named.
  std::uint32_t seq() const { return static_cast<std::uint32_t>(word >> 32); }
  std::uint32_t timestamp() const { return static_cast<std::uint32_t>(word); }
};

struct FrameError {
  ErrorCode code;   // bad-frame or unsupported-version
  const char* what; // a fixed description, safe to show
};

// Parses one DataChannel message. The returned payload views `bytes`.
std::variant<Frame, FrameError> parse_frame(std::string_view bytes);

// Writes the 16-byte header of `frame` (payload ignored) at the end of `out`.
void append_header(std::string& out, const Frame& frame);
// A whole frame: the header of `frame`, then `payload`.
std::string encode_frame(const Frame& frame, std::string_view payload = {});

inline std::uint64_t message_word(std::uint32_t offset, std::uint32_t total) {
  return (static_cast<std::uint64_t>(offset) << 32) | total;
}

// Wire name of a type ("text", "file-chunk" ...), for errors and tests.
const char* type_name(FrameType type);

// parse_frame() as JSON, the form the shared vectors (tests/vectors/datachannel.json) use:
// {"ok": {"type", "flags", "id", "offset"+"total" | "word", "control"?, "payload" (hex)}}
// or {"error": code}.
std::string frame_to_json(std::string_view bytes);

}  // namespace chorus::datachannel
