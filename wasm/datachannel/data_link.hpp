// The DataChannel protocol towards one peer, sans-IO: its two channels (reliable ordered,
// unreliable unordered), the priority scheduler that decides which frame goes next, message
// reassembly, and the file transfers in both directions with flow control and SHA-256.
//
// Priorities on the reliable channel: control (window, ack, cancel) > messages (and
// file-begin) > bulk (file chunks, file-end), each class only while the channel's
// bufferedAmount is under its own ceiling (DataConfig). Frames are built lazily, one per
// next_frame() call, so nothing is framed before the channel can take it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "datachannel/data_config.hpp"
#include "datachannel/frame.hpp"
#include "datachannel/message_queue.hpp"
#include "datachannel/reassembler.hpp"
#include "datachannel/transfer.hpp"

namespace chorus::datachannel {

// One output of the machine: an action or event object (docs/architecture.md, "DataCore")
// and, for frames to send, messages and file data, its bytes.
struct DataOutput {
  Json info;
  std::string bytes;
};

struct SendResult {
  std::optional<ErrorCode> error;
  std::string message;
  std::uint32_t id = 0;  // the message or transfer id
};

enum class Direction { Send, Receive };

class DataLink {
 public:
  DataLink(std::string peer, const DataConfig& config, std::deque<DataOutput>& out);

  // The glue's channel `ch` opened (with the connection's sctp.maxMessageSize, 0 if unknown)
  // or closed. Closing channel 0 or the bulk channel fails every transfer: the connection is
  // going away, and file data or acks may be lost with it.
  void channel_open(int ch, double max_message_size);
  void channel_closed(int ch);
  // The channel's real bufferedAmount, after a send or on bufferedamountlow.
  void set_buffered(int ch, double amount);
  bool channel_is_open(int ch) const { return channels_[ch].open; }

  SendResult send(FrameType type, std::string data, bool reliable);
  // What send() would answer for `size` bytes (error unset: it would be queued).
  SendResult check_send(std::size_t size, bool reliable) const;
  SendResult send_file(std::uint64_t size, std::string name, std::string mime, double now_ms);
  // Queues one voice frame (already encoded) for the unreliable channel, ahead of messages.
  // Fails with not-connected while that channel is closed (the talker's glue skips the peer).
  SendResult send_voice(std::string frame);
  void cancel(std::uint32_t id, Direction direction, std::string reason);
  void file_data(std::uint32_t id, std::uint64_t offset, std::string_view bytes, double now_ms);
  void file_read_failed(std::uint32_t id, std::string message);
  void file_written(std::uint32_t id, std::uint64_t bytes);
  // The peer left the room: every transfer ends, queued messages are dropped.
  void remove();

  void receive(int ch, std::string_view bytes, double now_ms);
  // Appends the next frame for channel `ch` to `out` (cleared first); false if none is due.
  bool next_frame(int ch, std::string& out, double now_ms);

  void expire(double now_ms);
  std::optional<double> next_expiry() const;

 private:
  struct ChannelState {
    bool open = false;
    std::size_t chunk_bytes;  // frame size limit: header + payload
    double buffered = 0;      // last reported bufferedAmount plus what we sent since
  };

  std::size_t max_payload(int ch) const { return channels_[ch].chunk_bytes - kHeaderSize; }
  std::uint32_t next_id();

  // Receiving
  void on_message_frame(int ch, const Frame& f, double now_ms);
  void on_file_begin(int ch, const Frame& f, double now_ms);
  void on_file_chunk(int ch, const Frame& f, double now_ms);
  void on_file_end(int ch, const Frame& f);
  void on_file_cancel(const Frame& f);
  void on_control(const Frame& f);
  void on_voice(const Frame& f);

  // Sending
  bool next_control(std::string& out);
  // File frames of the transfers that use channel `ch`.
  bool next_begin(int ch, std::string& out);
  bool next_bulk(int ch, std::string& out, double now_ms);
  void maybe_read(OutgoingTransfer& t);
  void grant(IncomingTransfer& t);
  void queue_control(const Frame& f, std::string_view payload = {});

  // Ending transfers (each emits exactly one final event and forgets the transfer)
  void finish_send(std::uint32_t id, bool verified);
  void cancelled(std::uint32_t id, Direction d, const char* by, const std::string& reason);
  void failed(std::uint32_t id, Direction d, ErrorCode code, const std::string& message, bool tell_peer);

  void progress_event(std::uint32_t id, Direction d, const Progress& p);
  void error_event(ErrorCode code, const std::string& message);
  Json event(const char* name) const;
  Json transfer_event(const char* name, std::uint32_t id, Direction d) const;
  void forget(Direction d, std::uint32_t id);
  bool forgotten(Direction d, std::uint32_t id) const;
  // Whether the peer has heard of transfer `id` (so a cancel must tell it).
  bool peer_knows(std::uint32_t id, Direction d) const;

  std::string peer_;
  const DataConfig& config_;
  std::deque<DataOutput>& out_;
  ChannelState channels_[kChannels];
  Reassembler reassembler_[2];  // channels 0 and 1 carry messages
  MessageQueue queue_[2];
  std::deque<std::string> control_;  // encoded control / cancel frames, sent first
  std::deque<std::string> voice_;    // encoded voice frames, first on the unreliable channel
  std::uint64_t voice_dropped_ = 0;
  std::map<std::uint32_t, OutgoingTransfer> sending_;
  std::map<std::uint32_t, IncomingTransfer> receiving_;
  std::uint32_t bulk_cursor_ = 0;    // round robin over sending_: the last id served
  std::uint32_t last_id_ = 0;
  // Recently ended transfers, so frames already in flight for them are dropped quietly.
  std::deque<std::uint32_t> ended_[2];
};

}  // namespace chorus::datachannel
