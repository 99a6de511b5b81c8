// libFuzzer target over everything that reads untrusted signaling input: both message parsers,
// the server's room machine (several sockets, frames split at 0x1e bytes) and the client
// session. Any crash, sanitizer report or unbounded growth is a bug. Run by tools/test.sh for
// a bounded time, seeded from tests/vectors/protocol.json.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "signaling/client_session.hpp"
#include "signaling/protocol.hpp"
#include "signaling/room_server.hpp"

namespace {

// Frames are separated by the ASCII record separator; the byte after it picks the socket.
template <typename F>
void for_each_frame(std::string_view input, F&& f) {
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\x1e', start);
    if (end == std::string_view::npos) end = input.size();
    f(input.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)chorus::protocol::parse_client_message(input);
  (void)chorus::protocol::parse_server_message(input);

  chorus::ServerConfig config;
  config.max_peers_per_room = 3;
  config.max_message_bytes = 4096;
  chorus::RoomServer server(config);
  double now = 0;
  for (chorus::ConnId c = 1; c <= 3; ++c) server.handle_connect(c, now);
  std::size_t frames = 0, outputs = 0;
  for_each_frame(input, [&](std::string_view frame) {
    ++frames;
    const chorus::ConnId conn = frame.empty() ? 1 : 1 + static_cast<unsigned char>(frame[0]) % 3;
    server.handle_message(conn, frame, false, frame.size(), now += 700);
    server.handle_timeout(now);
    while (server.poll()) ++outputs;
  });
  // One frame may fan out to the others in the room, never more.
  if (outputs > frames * 4 + 8) std::abort();

  chorus::ClientSession client;
  client.handle({{"type", "join"}, {"room", "r"}, {"name", "fuzz"}}, 0);
  client.handle({{"type", "socket-open"}}, 0);
  for_each_frame(input, [&](std::string_view frame) {
    client.handle_socket_message(frame, now += 100);
    client.handle_text(frame, now);
    client.handle_timeout(now);
    while (client.poll()) {
    }
  });
  return 0;
}
