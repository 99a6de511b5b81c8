// libFuzzer target over the AbrCore (wasm/abr/abr_core.hpp): each line of the input is one
// input object's JSON text (stats samples, view sizes, layer wishes), a second apart. Any crash,
// sanitizer report or unbounded output is a bug. Run by tools/test.sh for a bounded time, seeded
// with samples in the glue's shape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "abr/abr_core.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chorus::abr::AbrCore core;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  double now = 0;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    now += 1000;
    core.handle_text(line, now);
    std::size_t n = 0;
    while (core.poll()) {
      if (++n > 10000) std::abort();  // outputs per input must stay bounded
    }
  }
  return 0;
}
