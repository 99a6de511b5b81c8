// libFuzzer target over what reads Janus's frames and the glue's media inputs: the Janus session
// with its plugin machines (wasm/janus/fuzz_entry.hpp), then the same frames through a
// ServerMedia (wasm/topology/server_media.hpp) that has just moved its room to the SFU: frames
// starting with '!' are glue inputs, the rest Janus's. Any crash, sanitizer report or unbounded
// growth is a bug. Run by tools/test.sh for a bounded time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "janus/fuzz_entry.hpp"
#include "topology/server_media.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chorus::janus::fuzz_one_input(data, size);

  chorus::topology::ServerMedia media;
  double now = 0;
  auto drain = [&]() {
    std::size_t n = 0;
    while (media.poll()) {
      if (++n > 100000) std::abort();  // outputs must stay bounded
    }
  };
  for (const char* in : {R"({"type":"self","peerId":"me","iceServers":[]})", R"({"type":"peer-added","peer":"a"})",
                         R"({"type":"peer-added","peer":"b"})",
                         R"({"type":"topology","mode":"sfu","epoch":1,"server":{"url":"ws://j/","room":5}})",
                         R"({"type":"janus-socket-open"})"}) {
    media.handle_text(in, now);
  }
  drain();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\x1e', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view frame = input.substr(start, end - start);
    if (!frame.empty() && frame[0] == '!') media.handle_text(frame.substr(1), now);
    else media.handle_socket_message(frame, now);
    now += 700;
    media.handle_timeout(now);
    drain();
    start = end + 1;
  }
  return 0;
}
