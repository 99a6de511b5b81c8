#include "datachannel/data_link.hpp"

#include <algorithm>
#include <cmath>

namespace chorus::datachannel {

namespace {

constexpr std::size_t kRememberEnded = 256;
constexpr std::size_t kMaxFileMetaBytes = 4096;

const char* direction_name(Direction d) { return d == Direction::Send ? "send" : "receive"; }

}  // namespace

DataLink::DataLink(std::string peer, const DataConfig& config, std::deque<DataOutput>& out)
    : peer_(std::move(peer)),
      config_(config),
      out_(out),
      reassembler_{Reassembler(config.receive[0]), Reassembler(config.receive[1])},
      queue_{MessageQueue(config.queue[0]), MessageQueue(config.queue[1])} {
  for (auto& c : channels_) c.chunk_bytes = config_.default_chunk_bytes;
}

std::uint32_t DataLink::next_id() {
  if (++last_id_ == 0) last_id_ = 1;  // 0 is never an id
  return last_id_;
}

// ---- channels --------------------------------------------------------------------------------

void DataLink::channel_open(int ch, double max_message_size) {
  ChannelState& c = channels_[ch];
  c.open = true;
  c.buffered = 0;
  // sctp.maxMessageSize: 0 means "unknown" (and, per the spec, "no limit"), so stay small.
  std::size_t limit = config_.default_chunk_bytes;
  if (max_message_size >= kHeaderSize + 1 && std::isfinite(max_message_size)) {
    limit = static_cast<std::size_t>(std::min<double>(max_message_size, config_.max_chunk_bytes));
  }
  // On the unreliable channel a frame is lost if any of its packets is: keep frames small.
  if (ch == kUnreliable) limit = std::min(limit, config_.unreliable_chunk_bytes);
  c.chunk_bytes = limit;
  out_.push_back({{{"action", "configure-channel"}, {"peer", peer_}, {"channel", ch},
                   {"bufferedAmountLowThreshold",
                    ch == kUnreliable ? config_.unreliable_low_water : config_.low_water}},
                  {}});
}

void DataLink::channel_closed(int ch) {
  ChannelState& c = channels_[ch];
  if (!c.open) return;
  c.open = false;
  c.buffered = 0;
  if (ch != kBulk) {
    reassembler_[ch].clear();
    queue_[ch].restart();
  }
  if (ch == kUnreliable) {
    voice_.clear();
    return;
  }
  // Transfers do not survive their connection: file data and acks may be lost with it.
  control_.clear();
  while (!sending_.empty()) {
    failed(sending_.begin()->first, Direction::Send, ErrorCode::TransferFailed,
           "the data channel closed during the transfer", false);
  }
  while (!receiving_.empty()) {
    failed(receiving_.begin()->first, Direction::Receive, ErrorCode::TransferFailed,
           "the data channel closed during the transfer", false);
  }
}

void DataLink::set_buffered(int ch, double amount) {
  if (std::isfinite(amount) && amount >= 0) channels_[ch].buffered = amount;
}

// ---- app inputs ----------------------------------------------------------------------------------

SendResult DataLink::check_send(std::size_t size, bool reliable) const {
  SendResult r;
  const int ch = reliable ? kReliable : kUnreliable;
  r.error = queue_[ch].check(size);
  if (r.error) {
    r.message = *r.error == ErrorCode::MessageTooLarge
                    ? "message of " + std::to_string(size) + " bytes is over the limit of " +
                          std::to_string(config_.queue[ch].max_message_bytes)
                    : "the send queue to this peer is full (" +
                          std::to_string(queue_[ch].queued_messages()) + " messages, " +
                          std::to_string(queue_[ch].queued_bytes()) + " bytes)";
  }
  return r;
}

SendResult DataLink::send(FrameType type, std::string data, bool reliable) {
  SendResult r = check_send(data.size(), reliable);
  if (r.error) return r;
  r.id = next_id();
  queue_[reliable ? kReliable : kUnreliable].push(type, r.id, std::move(data));
  return r;
}

SendResult DataLink::send_file(std::uint64_t size, std::string name, std::string mime, double now_ms) {
  SendResult r;
  if (size > (1ULL << 53)) {
    r.error = ErrorCode::MessageTooLarge;
    r.message = "files are limited to 2^53 bytes";
    return r;
  }
  if (sending_.size() >= config_.max_transfers) {
    r.error = ErrorCode::SendQueueFull;
    r.message = "already " + std::to_string(sending_.size()) + " transfers to this peer";
    return r;
  }
  if (!channels_[kReliable].open) {
    r.error = ErrorCode::NotConnected;
    r.message = "the data channel to this peer is not open";
    return r;
  }
  r.id = next_id();
  const int ch = channels_[kBulk].open ? kBulk : kReliable;
  OutgoingTransfer t{r.id, ch, size, std::move(name), std::move(mime), {}, {}, 0, 0, {}, 0, 0,
                     false, false, {}, Progress(size, config_.progress_interval_ms)};
  t.progress.update(0, now_ms);
  if (size == 0) t.digest = t.sha.finish();
  auto& stored = sending_.emplace(r.id, std::move(t)).first->second;
  maybe_read(stored);
  return r;
}

void DataLink::cancel(std::uint32_t id, Direction d, std::string reason) {
  const bool known = d == Direction::Send ? sending_.count(id) > 0 : receiving_.count(id) > 0;
  if (!known) return;
  if (reason.size() > 1024) reason.resize(1024);
  if (peer_knows(id, d)) {
    Frame f;
    f.type = FrameType::FileCancel;
    f.id = id;
    f.flags = d == Direction::Receive ? kReply : 0;
    queue_control(f, reason);
  }
  cancelled(id, d, "local", reason);
}

void DataLink::file_data(std::uint32_t id, std::uint64_t offset, std::string_view bytes, double) {
  auto it = sending_.find(id);
  if (it == sending_.end()) return;  // cancelled while the read was in flight
  OutgoingTransfer& t = it->second;
  if (!t.reading || offset != t.read_to || bytes.size() != *t.reading) {
    return failed(id, Direction::Send, ErrorCode::TransferFailed,
                  "the file read returned other bytes than asked for (was the file changed?)", true);
  }
  t.reading.reset();
  t.sha.update(bytes);
  t.pending.emplace_back(bytes);
  t.read_to += bytes.size();
  if (t.read_to == t.size) t.digest = t.sha.finish();
  maybe_read(t);
}

void DataLink::file_read_failed(std::uint32_t id, std::string message) {
  if (!sending_.count(id)) return;
  failed(id, Direction::Send, ErrorCode::TransferFailed, "reading the file failed: " + message, true);
}

void DataLink::file_written(std::uint32_t id, std::uint64_t bytes) {
  auto it = receiving_.find(id);
  if (it == receiving_.end()) return;
  IncomingTransfer& t = it->second;
  t.written = std::max(t.written, std::min(bytes, t.received));
  grant(t);
}

void DataLink::remove() {
  while (!sending_.empty()) cancelled(sending_.begin()->first, Direction::Send, "remote", "the peer left");
  while (!receiving_.empty()) cancelled(receiving_.begin()->first, Direction::Receive, "remote", "the peer left");
  for (auto& q : queue_) q.clear();
  control_.clear();
  voice_.clear();
}

SendResult DataLink::send_voice(std::string frame) {
  if (!channels_[kUnreliable].open) {
    return {ErrorCode::NotConnected, "the unreliable channel to " + peer_ + " is not open", 0};
  }
  voice_.push_back(std::move(frame));
  while (voice_.size() > config_.voice_queue_frames) {
    voice_.pop_front();  // the oldest: it would reach the listener too late to play
    ++voice_dropped_;
  }
  return {};
}

// ---- receiving ---------------------------------------------------------------------------------

void DataLink::receive(int ch, std::string_view bytes, double now_ms) {
  auto parsed = parse_frame(bytes);
  if (auto* err = std::get_if<FrameError>(&parsed)) {
    return error_event(err->code, std::string("dropped a DataChannel frame: ") + err->what);
  }
  const Frame& f = std::get<Frame>(parsed);
  // Messages on channels 0 and 1; file frames on bulk or 0; control and cancel on 0.
  const bool file_frame = f.type == FrameType::FileBegin || f.type == FrameType::FileChunk ||
                          f.type == FrameType::FileEnd;
  const bool allowed = is_message(f.type)            ? ch != kBulk
                       : file_frame                    ? ch != kUnreliable
                       : f.type == FrameType::Voice    ? ch == kUnreliable
                                                       : ch == kReliable;
  if (!allowed) {
    return error_event(ErrorCode::BadFrame, std::string(type_name(f.type)) + " frame on channel " +
                                                std::to_string(ch) + "; dropped");
  }
  switch (f.type) {
    case FrameType::FileBegin: return on_file_begin(ch, f, now_ms);
    case FrameType::FileChunk: return on_file_chunk(ch, f, now_ms);
    case FrameType::FileEnd: return on_file_end(ch, f);
    case FrameType::FileCancel: return on_file_cancel(f);
    case FrameType::Control: return on_control(f);
    case FrameType::Voice: return on_voice(f);
    default: return on_message_frame(ch, f, now_ms);
  }
}

void DataLink::on_message_frame(int ch, const Frame& f, double now_ms) {
  auto r = reassembler_[ch].add(f, now_ms);
  if (r.error) return error_event(r.error->code, r.error->message);
  if (!r.message) return;
  // accept() runs the SAX parser: no tree (which would cost ~10x the text in memory).
  if (r.message->type == FrameType::Json && !Json::accept(r.message->data)) {
    return error_event(ErrorCode::BadFrame, "a json message that is not valid JSON; dropped");
  }
  static const char* kKinds[] = {"", "text", "json", "binary"};
  Json info = event("message");
  info["kind"] = kKinds[static_cast<int>(r.message->type)];
  info["reliable"] = ch == kReliable;
  out_.push_back({std::move(info), std::move(r.message->data)});
}

// Voice is checked for format only; whether its sender holds the floor, and whether its numbers
// make sense, is the voice receiver's business (it knows the floor and the burst).
void DataLink::on_voice(const Frame& f) {
  Json info = event("voice");
  info["epoch"] = f.id;
  info["seq"] = f.seq();
  info["timestamp"] = f.timestamp();
  info["last"] = (f.flags & kLast) != 0;
  out_.push_back({std::move(info), std::string(f.payload)});
}

void DataLink::on_file_begin(int ch, const Frame& f, double now_ms) {
  if (receiving_.count(f.id)) {
    return error_event(ErrorCode::BadFrame, "file-begin for a transfer id already used; dropped");
  }
  // Ended, refused, or cancelled before its begin arrived (on_file_cancel): stale, dropped.
  if (forgotten(Direction::Receive, f.id)) return;
  auto refuse = [&](ErrorCode code, const std::string& why) {
    Frame c;
    c.type = FrameType::FileCancel;
    c.id = f.id;
    c.flags = kReply;
    // Refusals are the only control frames a peer can make us queue at will: bounded.
    if (control_.size() < config_.max_control_frames) queue_control(c, why);
    forget(Direction::Receive, f.id);
    error_event(code, "refused an incoming file: " + why);
  };
  if (receiving_.size() >= config_.max_transfers) {
    return refuse(ErrorCode::ReassemblyLimit, "too many transfers at once");
  }
  if (f.word > config_.max_file_bytes) {
    return refuse(ErrorCode::MessageTooLarge, "a file of " + std::to_string(f.word) +
                                                  " bytes is over the limit of " +
                                                  std::to_string(config_.max_file_bytes));
  }
  std::optional<Json> meta;
  if (f.payload.size() <= kMaxFileMetaBytes) meta = parse_json(f.payload);
  if (!meta || !meta->is_object()) return refuse(ErrorCode::BadFrame, "file-begin metadata is not a JSON object");
  auto name = get_string(*meta, "name"), mime = get_string(*meta, "type");
  const Json* name_field = find_field(*meta, "name");
  const Json* mime_field = find_field(*meta, "type");
  if ((name_field && !name) || (mime_field && !mime)) {
    return refuse(ErrorCode::BadFrame, "file-begin name and type must be strings");
  }
  IncomingTransfer t{f.id, ch, f.word, name.value_or(""), mime.value_or(""), {}, 0, 0, 0,
                     Progress(f.word, config_.progress_interval_ms)};
  t.progress.update(0, now_ms);
  Json info = transfer_event("transfer-incoming", f.id, Direction::Receive);
  info["name"] = t.name;
  info["type"] = t.mime;
  info["size"] = t.size;
  auto& stored = receiving_.emplace(f.id, std::move(t)).first->second;
  out_.push_back({std::move(info), {}});
  grant(stored);
}

void DataLink::on_file_chunk(int ch, const Frame& f, double now_ms) {
  auto it = receiving_.find(f.id);
  if (it == receiving_.end()) {
    if (forgotten(Direction::Receive, f.id)) return;  // in flight when it ended
    return error_event(ErrorCode::BadFrame, "file chunk for an unknown transfer; dropped");
  }
  IncomingTransfer& t = it->second;
  const std::uint64_t end = f.word + f.payload.size();
  if (ch != t.channel || f.word != t.received || end > t.size || end > t.granted) {
    const char* why = ch != t.channel        ? "a file chunk on another channel than its file-begin"
                      : f.word != t.received ? "a file chunk out of order"
                      : end > t.size       ? "a file chunk beyond the announced size"
                                           : "a file chunk beyond the granted window";
    return failed(f.id, Direction::Receive, ErrorCode::BadFrame, why, true);
  }
  t.sha.update(f.payload);
  t.received = end;
  Json info = transfer_event("file-data", f.id, Direction::Receive);
  info["offset"] = f.word;
  out_.push_back({std::move(info), std::string(f.payload)});
  if (t.progress.update(t.received, now_ms) && t.received < t.size) {
    progress_event(f.id, Direction::Receive, t.progress);
  }
}

void DataLink::on_file_end(int ch, const Frame& f) {
  auto it = receiving_.find(f.id);
  if (it == receiving_.end()) {
    if (forgotten(Direction::Receive, f.id)) return;
    return error_event(ErrorCode::BadFrame, "file-end for an unknown transfer; dropped");
  }
  IncomingTransfer& t = it->second;
  if (ch != t.channel || f.word != t.size || t.received != t.size) {
    return failed(f.id, Direction::Receive, ErrorCode::BadFrame,
                  "file-end before every announced byte arrived", true);
  }
  const auto digest = t.sha.finish();
  const bool verified = std::equal(digest.begin(), digest.end(),
                                   reinterpret_cast<const unsigned char*>(f.payload.data()));
  Frame ack;
  ack.type = FrameType::Control;
  ack.control = ControlKind::FileAck;
  ack.flags = kReply;
  ack.id = f.id;
  ack.word = t.received;
  queue_control(ack, verified ? std::string_view("\x01", 1) : std::string_view("\x00", 1));
  if (!verified) {
    return failed(f.id, Direction::Receive, ErrorCode::IntegrityMismatch,
                  "the received file's SHA-256 differs from the sender's", false);
  }
  progress_event(f.id, Direction::Receive, t.progress);
  Json info = transfer_event("transfer-complete", f.id, Direction::Receive);
  info["sha256"] = Sha256::hex(digest);
  info["size"] = t.size;
  out_.push_back({std::move(info), {}});
  receiving_.erase(it);
  forget(Direction::Receive, f.id);
}

void DataLink::on_file_cancel(const Frame& f) {
  // Reply: the receiver cancels our transfer; otherwise the sender cancels its own.
  const Direction d = (f.flags & kReply) ? Direction::Send : Direction::Receive;
  const bool known = d == Direction::Send ? sending_.count(f.id) > 0 : receiving_.count(f.id) > 0;
  if (!known) {
    if (d == Direction::Receive) {
      // A sender's cancel on channel 0 can overtake its file-begin on the bulk channel:
      // remember the id, so that the begin is dropped when it comes.
      if (!forgotten(d, f.id)) forget(d, f.id);
      return;
    }
    if (!forgotten(d, f.id)) error_event(ErrorCode::BadFrame, "file-cancel for an unknown transfer; dropped");
    return;
  }
  std::string reason(f.payload);
  cancelled(f.id, d, "remote", reason.empty() ? "cancelled by the peer" : reason);
}

void DataLink::on_control(const Frame& f) {
  auto it = sending_.find(f.id);
  if (it == sending_.end()) {
    if (!forgotten(Direction::Send, f.id)) error_event(ErrorCode::BadFrame, "control frame for an unknown transfer; dropped");
    return;
  }
  OutgoingTransfer& t = it->second;
  if (f.control == ControlKind::Window) {
    // Windows only grow; a smaller one (reordered, or a confused peer) is ignored.
    t.window = std::max(t.window, std::min(f.word, t.size));
    return maybe_read(t);
  }
  // FileAck
  if (!t.ended || f.word != t.size) {
    return failed(f.id, Direction::Send, ErrorCode::BadFrame, "file-ack before the file ended", false);
  }
  if (f.payload[0] != 1) {
    return failed(f.id, Direction::Send, ErrorCode::IntegrityMismatch,
                  "the receiver's SHA-256 differs from ours", false);
  }
  finish_send(f.id, true);
}

// ---- sending: the scheduler --------------------------------------------------------------------

bool DataLink::next_frame(int ch, std::string& out, double now_ms) {
  ChannelState& c = channels_[ch];
  if (!c.open) return false;
  out.clear();
  bool got = false;
  if (ch == kUnreliable) {
    if (!voice_.empty() && c.buffered < config_.voice_high_water) {
      out = std::move(voice_.front());
      voice_.pop_front();
      got = true;
    } else {
      got = c.buffered < config_.unreliable_high_water && queue_[ch].next_frame(max_payload(ch), out);
    }
  } else if (ch == kBulk) {
    got = c.buffered < config_.bulk_high_water && (next_begin(ch, out) || next_bulk(ch, out, now_ms));
  } else {
    got = (c.buffered < config_.control_high_water && next_control(out)) ||
          (c.buffered < config_.message_high_water &&
           (queue_[ch].next_frame(max_payload(ch), out) || next_begin(ch, out))) ||
          (c.buffered < config_.bulk_high_water && next_bulk(ch, out, now_ms));
  }
  if (got) c.buffered += out.size();
  return got;
}

bool DataLink::next_control(std::string& out) {
  if (control_.empty()) return false;
  out = std::move(control_.front());
  control_.pop_front();
  return true;
}

bool DataLink::next_begin(int ch, std::string& out) {
  for (auto& [id, t] : sending_) {
    if (t.begun || t.channel != ch) continue;
    Json meta = {{"name", t.name}, {"type", t.mime}};
    std::string payload = dump_json(meta);
    if (payload.size() > std::min(kMaxFileMetaBytes, max_payload(ch))) {
      t.name.resize(std::min<std::size_t>(t.name.size(), 255));
      payload = dump_json({{"name", t.name}, {"type", t.mime.substr(0, 255)}});
    }
    Frame f;
    f.type = FrameType::FileBegin;
    f.id = id;
    f.word = t.size;
    append_header(out, f);
    out += payload;
    t.begun = true;
    return true;
  }
  return false;
}

bool DataLink::next_bulk(int ch, std::string& out, double now_ms) {
  // Round robin: start after the transfer served last.
  auto it = sending_.upper_bound(bulk_cursor_);
  for (std::size_t n = 0; n < sending_.size(); ++n, ++it) {
    if (it == sending_.end()) it = sending_.begin();
    OutgoingTransfer& t = it->second;
    if (!t.begun || t.ended || t.channel != ch) continue;
    if (t.sent == t.size) {
      if (!t.digest) continue;
      Frame f;
      f.type = FrameType::FileEnd;
      f.id = t.id;
      f.word = t.size;
      append_header(out, f);
      out.append(reinterpret_cast<const char*>(t.digest->data()), t.digest->size());
      t.ended = true;
      bulk_cursor_ = t.id;
      return true;
    }
    const std::uint64_t allowed = std::min(t.window, t.read_to) - t.sent;
    if (t.sent >= t.window || allowed == 0) continue;
    const std::size_t n_bytes = static_cast<std::size_t>(std::min<std::uint64_t>(allowed, max_payload(ch)));
    Frame f;
    f.type = FrameType::FileChunk;
    f.id = t.id;
    f.word = t.sent;
    append_header(out, f);
    // Copy from the read-ahead buffers, which may split the chunk.
    for (std::size_t left = n_bytes; left > 0;) {
      const std::string& front = t.pending.front();
      const std::size_t take = std::min(left, front.size() - t.pending_front);
      out.append(front, t.pending_front, take);
      t.pending_front += take;
      left -= take;
      if (t.pending_front == front.size()) {
        t.pending.pop_front();
        t.pending_front = 0;
      }
    }
    t.sent += n_bytes;
    bulk_cursor_ = t.id;
    if (t.progress.update(t.sent, now_ms) && t.sent < t.size) progress_event(t.id, Direction::Send, t.progress);
    maybe_read(t);
    return true;
  }
  return false;
}

void DataLink::maybe_read(OutgoingTransfer& t) {
  // One read at a time, none before the receiver has granted a window (so transfers a peer
  // never answers hold no memory), never more than the read-ahead unsent.
  if (t.reading || t.read_to >= t.size || t.window == 0) return;
  if (t.read_to - t.sent >= config_.file_read_ahead) return;
  const std::uint64_t length = std::min<std::uint64_t>(config_.file_read_bytes, t.size - t.read_to);
  t.reading = length;
  Json info = transfer_event("read-file", t.id, Direction::Send);
  info.erase("event");
  info.erase("direction");
  info["action"] = "read-file";
  info["offset"] = t.read_to;
  info["length"] = length;
  out_.push_back({std::move(info), {}});
}

void DataLink::grant(IncomingTransfer& t) {
  // Credit the sender a window past what the app has written: a slow sink slows the
  // sender instead of piling data up in memory. Re-grant when half of it is used.
  if (t.granted >= t.size && t.granted > 0) return;
  const std::uint64_t target = std::min<std::uint64_t>(t.size, t.written + config_.receive_window);
  const bool first = t.granted == 0 && t.received == 0;
  if (!first && target - t.granted < config_.receive_window / 2 && target < t.size) return;
  if (!first && target <= t.granted) return;
  t.granted = target;
  Frame f;
  f.type = FrameType::Control;
  f.control = ControlKind::Window;
  f.flags = kReply;
  f.id = t.id;
  f.word = target;
  queue_control(f);
}

void DataLink::queue_control(const Frame& f, std::string_view payload) {
  control_.push_back(encode_frame(f, payload));
}

// ---- ending transfers ----------------------------------------------------------------------------

void DataLink::finish_send(std::uint32_t id, bool verified) {
  auto it = sending_.find(id);
  OutgoingTransfer& t = it->second;
  progress_event(id, Direction::Send, t.progress);
  Json info = transfer_event("transfer-complete", id, Direction::Send);
  info["sha256"] = Sha256::hex(*t.digest);
  info["size"] = t.size;
  info["verified"] = verified;
  out_.push_back({std::move(info), {}});
  sending_.erase(it);
  forget(Direction::Send, id);
}

void DataLink::cancelled(std::uint32_t id, Direction d, const char* by, const std::string& reason) {
  if (d == Direction::Send) sending_.erase(id);
  else receiving_.erase(id);
  forget(d, id);
  Json info = transfer_event("transfer-cancelled", id, d);
  info["by"] = by;
  info["reason"] = reason;
  out_.push_back({std::move(info), {}});
}

void DataLink::failed(std::uint32_t id, Direction d, ErrorCode code, const std::string& message,
                      bool tell_peer) {
  if (tell_peer && peer_knows(id, d)) {
    Frame f;
    f.type = FrameType::FileCancel;
    f.id = id;
    f.flags = d == Direction::Receive ? kReply : 0;
    queue_control(f, message.substr(0, 1024));
  }
  if (d == Direction::Send) sending_.erase(id);
  else receiving_.erase(id);
  forget(d, id);
  Json info = transfer_event("transfer-failed", id, d);
  info["code"] = to_string(code);
  info["message"] = message;
  out_.push_back({std::move(info), {}});
}

// ---- events ----------------------------------------------------------------------------------------

void DataLink::progress_event(std::uint32_t id, Direction d, const Progress& p) {
  Json info = transfer_event("transfer-progress", id, d);
  info["bytes"] = p.bytes();
  info["total"] = p.total();
  info["rate"] = std::round(p.rate());
  if (auto eta = p.eta_seconds()) info["eta"] = std::round(*eta * 10) / 10;
  else info["eta"] = nullptr;
  out_.push_back({std::move(info), {}});
}

void DataLink::error_event(ErrorCode code, const std::string& message) {
  Json info = event("error");
  info["code"] = to_string(code);
  info["message"] = message;
  out_.push_back({std::move(info), {}});
}

Json DataLink::event(const char* name) const { return {{"event", name}, {"peer", peer_}}; }

Json DataLink::transfer_event(const char* name, std::uint32_t id, Direction d) const {
  Json info = event(name);
  info["transfer"] = id;
  info["direction"] = direction_name(d);
  return info;
}

void DataLink::forget(Direction d, std::uint32_t id) {
  auto& q = ended_[d == Direction::Send ? 0 : 1];
  q.push_back(id);
  if (q.size() > kRememberEnded) q.pop_front();
}

bool DataLink::peer_knows(std::uint32_t id, Direction d) const {
  // The peer learns of our transfer from its file-begin; before that there is nothing to cancel.
  if (d == Direction::Receive) return true;
  auto it = sending_.find(id);
  return it != sending_.end() && it->second.begun;
}

bool DataLink::forgotten(Direction d, std::uint32_t id) const {
  const auto& q = ended_[d == Direction::Send ? 0 : 1];
  return std::find(q.begin(), q.end(), id) != q.end();
}

// ---- timers --------------------------------------------------------------------------------------

void DataLink::expire(double now_ms) {
  for (auto& r : reassembler_) r.expire(now_ms);
}

std::optional<double> DataLink::next_expiry() const {
  auto a = reassembler_[0].next_expiry(), b = reassembler_[1].next_expiry();
  if (a && b) return std::min(*a, *b);
  return a ? a : b;
}

}  // namespace chorus::datachannel
