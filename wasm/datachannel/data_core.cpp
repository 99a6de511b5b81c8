#include "datachannel/data_core.hpp"

#include <cmath>

namespace chorus::datachannel {

namespace {

void read_size(const Json& config, const char* key, std::size_t& field, double min, double max) {
  if (auto v = get_number(config, key); v && *v >= min && *v <= max) field = static_cast<std::size_t>(*v);
}

bool valid_channel(int ch) { return ch >= 0 && ch < kChannels; }

}  // namespace

DataConfig DataConfig::from_json(const Json& config) {
  DataConfig c;
  // Limits an app may set (Room.join({ data: {...} })); the rest are protocol tuning.
  std::size_t max_message = c.queue[0].max_message_bytes;
  read_size(config, "maxMessageBytes", max_message, 1, 256.0 * (1 << 20));
  for (auto& q : c.queue) q.max_message_bytes = max_message;
  for (auto& r : c.receive) r.max_message_bytes = max_message;
  // The receiver must be able to hold one whole message of the largest size.
  for (auto& r : c.receive) r.max_partial_bytes = std::max(r.max_partial_bytes, max_message);
  for (auto& q : c.queue) {
    q.max_active_bytes = std::max(q.max_active_bytes, max_message);
    q.max_queued_bytes = std::max(q.max_queued_bytes, max_message);
  }
  read_size(config, "maxQueuedBytes", c.queue[0].max_queued_bytes, max_message, 1024.0 * (1 << 20));
  read_size(config, "receiveWindow", c.receive_window, 64 * 1024, 256.0 * (1 << 20));
  read_size(config, "maxTransfers", c.max_transfers, 1, 256);
  if (auto v = get_number(config, "maxFileBytes"); v && *v >= 0 && *v <= 9007199254740992.0) {
    c.max_file_bytes = static_cast<std::uint64_t>(*v);
  }
  // Pacing of file data (measured defaults; docs/BENCHMARKS.md): bufferedAmount ceiling and
  // refill mark of the bulk channel.
  read_size(config, "bulkHighWater", c.bulk_high_water, 16 * 1024, 8.0 * (1 << 20));
  read_size(config, "bulkLowWater", c.low_water, 0, static_cast<double>(c.bulk_high_water));
  read_size(config, "maxChunkBytes", c.max_chunk_bytes, 1024, 1024.0 * 1024);
  // The refill mark must sit below the ceiling, or bufferedamountlow never brings more.
  c.low_water = std::min(c.low_water, c.bulk_high_water / 2);
  if (auto v = get_number(config, "progressIntervalMs"); v && *v >= 0 && *v <= 60000) c.progress_interval_ms = *v;
  return c;
}

DataCore::DataCore(DataConfig config) : config_(std::move(config)) {}

DataLink& DataCore::link(const std::string& peer) {
  auto it = links_.find(peer);
  if (it == links_.end()) it = links_.emplace(peer, DataLink(peer, config_, out_)).first;
  return it->second;
}

DataLink* DataCore::find(const std::string& peer) {
  auto it = links_.find(peer);
  return it == links_.end() ? nullptr : &it->second;
}

void DataCore::handle_text(std::string_view input, double now_ms) {
  auto value = parse_json(input);
  if (!value || !value->is_object()) {
    return error_event(ErrorCode::BadJson, "data core input is not a JSON object");
  }
  handle(*value, now_ms);
}

void DataCore::handle(const Json& input, double now_ms) {
  (void)now_ms;
  auto type = get_string(input, "type");
  auto peer = get_string(input, "peer");
  if (!type || !peer) return error_event(ErrorCode::BadMessage, "data core input needs string `type` and `peer`");
  const std::string& t = *type;
  if (t == "peer-removed") {
    if (auto* l = find(*peer)) l->remove();
    links_.erase(*peer);
    return;
  }
  if (t == "channel-open" || t == "channel-closed") {
    auto ch = get_number(input, "channel");
    if (!ch || !(*ch >= 0 && *ch < kChannels) || *ch != std::floor(*ch)) {
      return error_event(ErrorCode::BadMessage, t + " needs `channel` 0, 1 or 2");
    }
    if (t == "channel-open") {
      return link(*peer).channel_open(static_cast<int>(*ch), get_number(input, "maxMessageSize").value_or(0));
    }
    if (auto* l = find(*peer)) l->channel_closed(static_cast<int>(*ch));
    return;
  }
  if (t != "file-written" && t != "file-read-failed" && t != "cancel-transfer") {
    return error_event(ErrorCode::UnknownType, "unknown data core input `" + t + "`");
  }
  auto id = get_number(input, "transfer");
  if (!id || *id < 1 || *id > 4294967295.0 || *id != std::floor(*id)) {
    return error_event(ErrorCode::BadMessage, t + " needs a numeric `transfer` id");
  }
  auto* l = find(*peer);
  if (!l) return;  // the peer is gone; so is the transfer
  const auto transfer = static_cast<std::uint32_t>(*id);
  if (t == "file-written") {
    auto bytes = get_number(input, "bytes");
    if (!bytes || *bytes < 0 || *bytes > 9007199254740992.0) {
      return error_event(ErrorCode::BadMessage, "file-written needs `bytes`");
    }
    return l->file_written(transfer, static_cast<std::uint64_t>(*bytes));
  }
  if (t == "file-read-failed") {
    return l->file_read_failed(transfer, get_string(input, "message").value_or("unknown error"));
  }
  // cancel-transfer
  auto dir = get_string(input, "direction");
  if (!dir || (*dir != "send" && *dir != "receive")) {
    return error_event(ErrorCode::BadMessage, "cancel-transfer needs `direction` send or receive");
  }
  l->cancel(transfer, *dir == "send" ? Direction::Send : Direction::Receive,
            get_string(input, "reason").value_or("cancelled"));
}

void DataCore::receive(const std::string& peer, int channel, std::string_view bytes, double now_ms) {
  if (!valid_channel(channel)) return error_event(ErrorCode::BadMessage, "frame on an unknown channel");
  auto* l = find(peer);
  if (!l) return;  // a frame racing the peer's removal
  l->receive(channel, bytes, now_ms);
}

void DataCore::set_buffered(const std::string& peer, int channel, double amount) {
  if (!valid_channel(channel)) return;
  if (auto* l = find(peer)) l->set_buffered(channel, amount);
}

SendResult DataCore::send(const std::string& peer, FrameType type, std::string data, bool reliable) {
  if (!is_message(type)) return {ErrorCode::BadMessage, "not a message type", 0};
  return link(peer).send(type, std::move(data), reliable);
}

SendResult DataCore::send_voice(std::uint32_t epoch, std::uint32_t seq, std::uint32_t timestamp,
                                bool last, std::string_view packet) {
  if (epoch == 0) return {ErrorCode::BadMessage, "voice needs the floor's epoch (> 0)", 0};
  if (packet.empty() || packet.size() > kMaxVoicePayload) {
    return {ErrorCode::BadMessage, "a voice packet is 1..7680 bytes", 0};
  }
  Frame f;
  f.type = FrameType::Voice;
  f.flags = last ? kLast : 0;
  f.id = epoch;
  f.word = message_word(seq, timestamp);
  const std::string frame = encode_frame(f, packet);
  std::uint32_t sent = 0;
  for (auto& [peer, l] : links_) {
    if (!l.send_voice(frame).error) ++sent;
  }
  return {std::nullopt, {}, sent};
}

SendResult DataCore::check_send(const std::string& peer, std::size_t size, bool reliable) {
  return link(peer).check_send(size, reliable);
}

SendResult DataCore::send_file(const std::string& peer, std::uint64_t size, std::string name,
                               std::string mime, double now_ms) {
  auto* l = find(peer);
  if (!l) return {ErrorCode::NotConnected, "no data channel to this peer", 0};
  return l->send_file(size, std::move(name), std::move(mime), now_ms);
}

void DataCore::file_data(const std::string& peer, std::uint32_t transfer, std::uint64_t offset,
                         std::string_view bytes, double now_ms) {
  if (auto* l = find(peer)) l->file_data(transfer, offset, bytes, now_ms);
}

void DataCore::handle_timeout(double now_ms) {
  for (auto& [id, l] : links_) l.expire(now_ms);
}

std::optional<double> DataCore::next_timeout() const {
  std::optional<double> first;
  for (const auto& [id, l] : links_) {
    auto t = l.next_expiry();
    if (t && (!first || *t < *first)) first = t;
  }
  return first;
}

std::optional<DataOutput> DataCore::poll(double now_ms) {
  if (out_.empty() && !links_.empty()) {
    // Round robin over the (peer, channel) slots, starting after the one that sent last, so
    // neither a busy peer nor a busy channel starves the others.
    auto it = links_.lower_bound(cursor_);
    int ch = 0;
    if (it != links_.end() && it->first == cursor_ && (ch = channel_cursor_ + 1) == kChannels) {
      ++it;
      ch = 0;
    }
    for (std::size_t n = 0; n < links_.size() * kChannels; ++n) {
      if (it == links_.end()) it = links_.begin();
      if (it->second.next_frame(ch, frame_, now_ms)) {
        cursor_ = it->first;
        channel_cursor_ = ch;
        out_.push_back({{{"action", "send"}, {"peer", it->first}, {"channel", ch}}, frame_});
        break;
      }
      if (++ch == kChannels) {
        ++it;
        ch = 0;
      }
    }
  }
  if (out_.empty()) return std::nullopt;
  DataOutput o = std::move(out_.front());
  out_.pop_front();
  return o;
}

void DataCore::error_event(ErrorCode code, std::string message) {
  out_.push_back({{{"event", "error"}, {"code", to_string(code)}, {"message", std::move(message)}}, {}});
}

}  // namespace chorus::datachannel
