#include "janus/fuzz_entry.hpp"

#include <cstdlib>
#include <string_view>

#include "janus/audiobridge_participant.hpp"
#include "janus/janus_session.hpp"
#include "janus/videoroom_publisher.hpp"
#include "janus/videoroom_subscriber.hpp"

namespace chorus::janus {

namespace {

constexpr std::size_t kMaxSent = 4096;

// "$T<n>" -> the n-th transaction id.
std::string substitute(std::string_view frame, const std::vector<std::string>& ids) {
  std::string out;
  out.reserve(frame.size());
  for (std::size_t i = 0; i < frame.size(); ++i) {
    if (frame[i] == '$' && i + 1 < frame.size() && frame[i + 1] == 'T') {
      std::size_t j = i + 2, n = 0;
      bool digits = false;
      while (j < frame.size() && frame[j] >= '0' && frame[j] <= '9' && n < 100000) {
        n = n * 10 + static_cast<std::size_t>(frame[j] - '0');
        ++j;
        digits = true;
      }
      if (digits) {
        out += n < ids.size() ? ids[n] : "none";
        i = j - 1;
        continue;
      }
    }
    out += frame[i];
  }
  return out;
}

}  // namespace

std::string fuzz_input(const std::vector<std::string>& frames) {
  std::string s;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (i > 0) s += '\x1e';
    s += frames[i];
  }
  return s;
}

int fuzz_one_input(const std::uint8_t* data, std::size_t size) {
  return fuzz_one_input(data, size, [](const Json&) {});
}

int fuzz_one_input(const std::uint8_t* data, std::size_t size,
                   const std::function<void(const Json&)>& observe) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  SessionConfig config;
  config.request_timeout_ms = 5000;
  config.keepalive_interval_ms = 20000;
  JanusSession session(config);
  double now = 0;
  std::vector<std::string> ids;
  std::size_t outputs = 0, frames = 0;

  auto drain = [&] {
    while (auto out = session.poll()) {
      ++outputs;
      observe(*out);
      const Json* action = find_field(*out, "action");
      if (action == nullptr || *action != "janus-send" || ids.size() >= kMaxSent) continue;
      if (auto m = parse_json(get_string(*out, "data").value_or(""))) {
        ids.push_back(get_string(*m, "transaction").value_or(""));
      }
    }
  };

  session.connect(now);
  PublisherConfig pc;
  pc.room = 1234;
  pc.display = "fuzz";
  session.attach<VideoRoomPublisher>(pc, now);
  SubscriberConfig sc;
  sc.room = 1234;
  sc.substream = 1;
  session.attach<VideoRoomSubscriber>(sc, now);
  AudioBridgeConfig ac;
  ac.room = 99;
  session.attach<AudioBridgeParticipant>(ac, now);
  session.handle({{"type", "janus-socket-open"}}, now);
  drain();

  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\x1e', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string frame = substitute(input.substr(start, end - start), ids);
    start = end + 1;
    ++frames;
    if (!frame.empty() && frame[0] == '!') {
      session.handle_text(std::string_view(frame).substr(1), now);
    } else {
      session.handle_socket_message(frame, now);
    }
    drain();
    now += 700;
    session.handle_timeout(now);
    drain();
  }
  // A frame can answer one request and start a few; nothing may snowball.
  if (outputs > 64 + frames * 64) std::abort();
  if (session.transactions_in_flight() > 256 + 8) std::abort();
  return 0;
}

}  // namespace chorus::janus
