// A libFuzzer-friendly entry point over everything in wasm/janus/ that reads Janus's frames and
// the glue's inputs: one JanusSession with a VideoRoomPublisher, a following
// VideoRoomSubscriber and an AudioBridgeParticipant, driven by `data`. tests/fuzz/janus_fuzz.cpp
// (libFuzzer, tools/test.sh) calls it; tests/unit/janus_fuzz_test.cpp runs it over seeds and
// their mutations.
//
// Input: frames separated by 0x1e. A frame starting with '!' is a glue input (JSON text for
// JanusSession::handle_text), anything else a text frame from Janus's socket. Before use,
// "$T<n>" in a frame becomes the transaction id of the n-th request the session sent (0 =
// `create`), so a fuzzer can answer requests without guessing their random ids. Each frame
// moves the clock 700 ms and fires the timers.
// Returns 0; aborts (a finding) when the session's outputs or state grow beyond their bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace chorus::janus {

int fuzz_one_input(const std::uint8_t* data, std::size_t size);
// The same, handing every output to `observe` (tests check that seeds go where they should).
int fuzz_one_input(const std::uint8_t* data, std::size_t size,
                   const std::function<void(const Json&)>& observe);

// The frames of a fuzz input, joined by 0x1e (for seeds).
std::string fuzz_input(const std::vector<std::string>& frames);

}  // namespace chorus::janus
