// The one enumerated list of error codes shared by the server, the client core and the
// TypeScript API (docs/protocol.md, "Error codes"). Wire names are kebab-case.
#pragma once

#include <optional>
#include <string_view>

namespace chorus {

enum class ErrorCode {
  BadJson,
  BadMessage,
  UnknownType,
  MessageTooLarge,
  BinaryNotSupported,
  UnsupportedVersion,
  NotJoined,
  AlreadyJoined,
  RoomFull,
  UnknownPeer,
  ResumeRejected,
  SignalingUnreachable,
  NegotiationFailed,
  MediaUnavailable,
  NotConnected,
  // DataChannel protocol (wasm/datachannel/)
  BadFrame,
  ReassemblyLimit,
  SendQueueFull,
  IntegrityMismatch,
  TransferFailed,
  // Push-to-talk and voice (wasm/signaling floor control, wasm/voice/)
  FloorDenied,
  FloorViolation,
  BadAudio,
  // Production server: access tokens and abuse limits (signaling/access_token, limits)
  Unauthorized,
  TokenExpired,
  RateLimited,
  TooManyConnections,
  TooManyRooms,
  OriginNotAllowed,
  // Janus media server (wasm/janus/): an error reply, no answer in time, the socket or session lost
  JanusError,
  JanusTimeout,
  JanusUnreachable,
  // Bitrate and quality (wasm/abr/): a getStats() sample the controller could not fully use
  BadStats,
};

// Wire name of a code, e.g. ErrorCode::RoomFull -> "room-full".
std::string_view to_string(ErrorCode code);
// Inverse of to_string; nullopt for names not in the list.
std::optional<ErrorCode> error_code_from_string(std::string_view name);

}  // namespace chorus
