#include "common/error_code.hpp"

#include <array>
#include <utility>

namespace chorus {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 33> kNames{{
    {ErrorCode::BadJson, "bad-json"},
    {ErrorCode::BadMessage, "bad-message"},
    {ErrorCode::UnknownType, "unknown-type"},
    {ErrorCode::MessageTooLarge, "message-too-large"},
    {ErrorCode::BinaryNotSupported, "binary-not-supported"},
    {ErrorCode::UnsupportedVersion, "unsupported-version"},
    {ErrorCode::NotJoined, "not-joined"},
    {ErrorCode::AlreadyJoined, "already-joined"},
    {ErrorCode::RoomFull, "room-full"},
    {ErrorCode::UnknownPeer, "unknown-peer"},
    {ErrorCode::ResumeRejected, "resume-rejected"},
    {ErrorCode::SignalingUnreachable, "signaling-unreachable"},
    {ErrorCode::NegotiationFailed, "negotiation-failed"},
    {ErrorCode::MediaUnavailable, "media-unavailable"},
    {ErrorCode::NotConnected, "not-connected"},
    {ErrorCode::BadFrame, "bad-frame"},
    {ErrorCode::ReassemblyLimit, "reassembly-limit"},
    {ErrorCode::SendQueueFull, "send-queue-full"},
    {ErrorCode::IntegrityMismatch, "integrity-mismatch"},
    {ErrorCode::TransferFailed, "transfer-failed"},
    {ErrorCode::FloorDenied, "floor-denied"},
    {ErrorCode::FloorViolation, "floor-violation"},
    {ErrorCode::BadAudio, "bad-audio"},
    {ErrorCode::Unauthorized, "unauthorized"},
    {ErrorCode::TokenExpired, "token-expired"},
    {ErrorCode::RateLimited, "rate-limited"},
    {ErrorCode::TooManyConnections, "too-many-connections"},
    {ErrorCode::TooManyRooms, "too-many-rooms"},
    {ErrorCode::OriginNotAllowed, "origin-not-allowed"},
    {ErrorCode::JanusError, "janus-error"},
    {ErrorCode::JanusTimeout, "janus-timeout"},
    {ErrorCode::JanusUnreachable, "janus-unreachable"},
    {ErrorCode::BadStats, "bad-stats"},
}};

}  // namespace

std::string_view to_string(ErrorCode code) {
  for (const auto& [c, name] : kNames) {
    if (c == code) return name;
  }
  return "bad-message";
}

std::optional<ErrorCode> error_code_from_string(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

}  // namespace chorus
