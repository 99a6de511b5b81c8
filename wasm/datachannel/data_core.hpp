// DataCore: the DataChannel protocol for every peer of a room, sans-IO (one per Room, beside
// the ClientCore). The glue reports channel events, frames received and file reads; the core
// answers with actions (send this frame on that channel, read this slice of a file, set the
// low-water mark) and events for the app (message, incoming file, file data, progress,
// completion, errors). Contract: docs/architecture.md, "DataCore"; wire: docs/protocol.md.
//
// Nothing here trusts a peer: every frame is checked, every error is an `error` or
// `transfer-failed` event, memory per peer is bounded by DataConfig.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "datachannel/data_config.hpp"
#include "datachannel/data_link.hpp"

namespace chorus::datachannel {

class DataCore {
 public:
  explicit DataCore(DataConfig config = {});
  // The links hold references to config_ and out_: a DataCore stays where it was made.
  DataCore(const DataCore&) = delete;
  DataCore& operator=(const DataCore&) = delete;

  // JSON inputs from the glue: channel-open, channel-closed, file-written, file-read-failed,
  // cancel-transfer, peer-removed (docs/architecture.md). Bad input becomes an `error` event.
  void handle(const Json& input, double now_ms);
  void handle_text(std::string_view input, double now_ms);

  // The hot paths take bytes directly.
  void receive(const std::string& peer, int channel, std::string_view bytes, double now_ms);
  void set_buffered(const std::string& peer, int channel, double amount);
  SendResult send(const std::string& peer, FrameType type, std::string data, bool reliable);
  // What send() would answer for `size` bytes, without queueing (so a send to several peers
  // can be all or nothing).
  SendResult check_send(const std::string& peer, std::size_t size, bool reliable);
  SendResult send_file(const std::string& peer, std::uint64_t size, std::string name,
                       std::string mime, double now_ms);
  void file_data(const std::string& peer, std::uint32_t transfer, std::uint64_t offset,
                 std::string_view bytes, double now_ms);
  // One voice packet to every peer whose unreliable channel is open (docs/protocol.md, "Voice
  // frames"): framed once, first in line on that channel. `epoch` is the talker's floor grant.
  // Returns how many peers it was queued for, or a bad-message error for a zero epoch or a
  // packet outside 1..kMaxVoicePayload bytes.
  SendResult send_voice(std::uint32_t epoch, std::uint32_t seq, std::uint32_t timestamp, bool last,
                        std::string_view packet);

  void handle_timeout(double now_ms);
  // The next output: queued events and actions first, then the next frame any open channel
  // can take (built on demand, so the glue's bufferedAmount reports shape what follows).
  std::optional<DataOutput> poll(double now_ms);
  std::optional<double> next_timeout() const;

  std::size_t peer_count() const { return links_.size(); }

 private:
  DataLink& link(const std::string& peer);
  DataLink* find(const std::string& peer);
  void error_event(ErrorCode code, std::string message);

  DataConfig config_;
  std::deque<DataOutput> out_;
  std::map<std::string, DataLink> links_;
  std::string frame_;            // reused frame buffer
  std::string cursor_;           // round robin over peers: the last one that sent
  int channel_cursor_ = 0;
};

}  // namespace chorus::datachannel
