#include "datachannel/frame.hpp"

#include "common/json.hpp"

namespace chorus::datachannel {

namespace {

std::uint64_t read_be(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void write_be(std::string& out, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

FrameError bad(const char* what) { return {ErrorCode::BadFrame, what}; }

}  // namespace

bool is_message(FrameType type) {
  return type == FrameType::Text || type == FrameType::Json || type == FrameType::Binary;
}

const char* type_name(FrameType type) {
  switch (type) {
    case FrameType::Text: return "text";
    case FrameType::Json: return "json";
    case FrameType::Binary: return "binary";
    case FrameType::FileBegin: return "file-begin";
    case FrameType::FileChunk: return "file-chunk";
    case FrameType::FileEnd: return "file-end";
    case FrameType::FileCancel: return "file-cancel";
    case FrameType::Control: return "control";
    case FrameType::Voice: return "voice";
  }
  return "unknown";
}

std::variant<Frame, FrameError> parse_frame(std::string_view bytes) {
  if (bytes.empty()) return bad("empty frame");
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  // The version comes first so that a future version can change everything after it.
  if (p[0] != kFrameVersion) return FrameError{ErrorCode::UnsupportedVersion, "unknown frame version"};
  if (bytes.size() < kHeaderSize) return bad("frame shorter than its 16-byte header");
  if (p[1] < 1 || p[1] > 9) return bad("unknown frame type");

  Frame f;
  f.type = static_cast<FrameType>(p[1]);
  f.flags = p[2];
  f.id = static_cast<std::uint32_t>(read_be(p + 4, 4));
  f.word = read_be(p + 8, 8);
  f.payload = bytes.substr(kHeaderSize);
  if (f.id == 0) return bad("frame id 0");

  const bool may_reply = f.type == FrameType::FileCancel || f.type == FrameType::Control;
  const std::uint8_t defined = may_reply ? kReply : f.type == FrameType::Voice ? kLast : 0;
  if ((f.flags & ~defined) != 0) return bad("flags not defined for this type");
  if (f.type == FrameType::Control) {
    if (p[3] != 1 && p[3] != 2) return bad("unknown control kind");
    f.control = static_cast<ControlKind>(p[3]);
  } else if (p[3] != 0) {
    return bad("byte 3 must be 0 outside control frames");
  }

  switch (f.type) {
    case FrameType::Text:
    case FrameType::Json:
    case FrameType::Binary:
      if (f.total() == 0 ? f.offset() != 0 || !f.payload.empty()
                         : f.offset() >= f.total() || f.payload.empty() ||
                               f.payload.size() > f.total() - f.offset()) {
        return bad("message chunk outside its announced length");
      }
      break;
    case FrameType::FileBegin:
      if (f.word > (1ULL << 53)) return bad("file size over 2^53 bytes");
      break;
    case FrameType::FileChunk:
      if (f.payload.empty()) return bad("empty file chunk");
      if (f.word > (1ULL << 53)) return bad("file offset over 2^53 bytes");
      break;
    case FrameType::FileEnd:
      if (f.payload.size() != 32) return bad("file-end without a 32-byte SHA-256");
      if (f.word > (1ULL << 53)) return bad("file size over 2^53 bytes");
      break;
    case FrameType::FileCancel:
      if (f.word != 0) return bad("file-cancel word must be 0");
      if (f.payload.size() > 1024) return bad("file-cancel reason over 1024 bytes");
      break;
    case FrameType::Control:
      if (f.control == ControlKind::FileAck && f.payload.size() != 1) {
        return bad("file-ack payload must be 1 byte");
      }
      if (f.control == ControlKind::Window && !f.payload.empty()) return bad("window with payload");
      if ((f.flags & kReply) == 0) return bad("control frames answer a transfer: reply flag");
      break;
    case FrameType::Voice:
      if (f.payload.empty()) return bad("voice frame without an Opus packet");
      if (f.payload.size() > kMaxVoicePayload) return bad("voice frame over 7680 bytes");
      break;
  }
  return f;
}

void append_header(std::string& out, const Frame& f) {
  out.push_back(static_cast<char>(kFrameVersion));
  out.push_back(static_cast<char>(f.type));
  out.push_back(static_cast<char>(f.flags));
  out.push_back(static_cast<char>(f.type == FrameType::Control ? static_cast<std::uint8_t>(f.control) : 0));
  write_be(out, f.id, 4);
  write_be(out, f.word, 8);
}

std::string encode_frame(const Frame& frame, std::string_view payload) {
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  append_header(out, frame);
  out += payload;
  return out;
}

std::string frame_to_json(std::string_view bytes) {
  auto parsed = parse_frame(bytes);
  if (auto* err = std::get_if<FrameError>(&parsed)) return dump_json({{"error", to_string(err->code)}});
  const Frame& f = std::get<Frame>(parsed);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : f.payload) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  Json ok = {{"type", type_name(f.type)}, {"flags", f.flags}, {"id", f.id}, {"payload", hex}};
  if (f.type == FrameType::Voice) {
    ok["seq"] = f.seq();
    ok["timestamp"] = f.timestamp();
  } else if (is_message(f.type)) {
    ok["offset"] = f.offset();
    ok["total"] = f.total();
  } else {
    ok["word"] = f.word;  // below 2^53 for every type that is not a message
  }
  if (f.type == FrameType::Control) ok["control"] = f.control == ControlKind::Window ? "window" : "file-ack";
  return dump_json({{"ok", ok}});
}

}  // namespace chorus::datachannel
