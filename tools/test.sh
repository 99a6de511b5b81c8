#!/usr/bin/env bash
# Runs every test and stops at the first failing suite (non-zero exit):
#   1. C++ unit tests (Catch2 through CTest), natively and under ASan + UBSan, then bounded
#      libFuzzer runs over the signaling, DataChannel, Janus and voice input paths (20 s each)
#   2. Node tests: server, protocol vectors through the wasm module, the npm package
#   3. end-to-end tests in headless Chromium, inside a fresh network namespace when
#      tools/netns-run.sh exists (it falls back to the host when not root)
# Expects a built tree: run `bash tools/setup.sh` first (`npm test` does both).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "C++ unit tests (ctest)"
ctest --test-dir build/native --output-on-failure -j "$(nproc)" --timeout 300

step "C++ unit tests under ASan + UBSan (ctest, build/asan)"
ctest --test-dir build/asan --output-on-failure -j "$(nproc)" --timeout 600

step "fuzzing the signaling parsers, room machine and client session (libFuzzer, 20 s)"
corpus=build/fuzz/corpus
mkdir -p "$corpus"
# Seeds: every shared protocol vector, and all client vectors as one multi-frame input.
node -e '
  const fs = require("fs");
  const v = JSON.parse(fs.readFileSync("tests/vectors/protocol.json", "utf8"));
  const all = [...v.client, ...v.server];
  all.forEach((c, i) => fs.writeFileSync(`${process.argv[1]}/vector-${i}`, c.input));
  fs.writeFileSync(`${process.argv[1]}/all-client-frames`, v.client.map((c) => c.input).join("\x1e"));
' "$corpus"
./build/fuzz/signaling_fuzz -max_total_time=20 -max_len=8192 -rss_limit_mb=1024 -timeout=10 \
  -artifact_prefix=build/fuzz/ -print_final_stats=1 "$corpus" 2>build/fuzz/last-run.log ||
  { tail -40 build/fuzz/last-run.log; exit 1; }
grep -E '^stat::number_of_executed_units' build/fuzz/last-run.log

step "fuzzing DataChannel frames, reassembly and two DataCores back to back (libFuzzer, 20 s)"
dc_corpus=build/fuzz/dc-corpus
mkdir -p "$dc_corpus"
./build/fuzz/datachannel_fuzz_seeds "$dc_corpus"  # a few valid scripts (see the fuzz target)
./build/fuzz/datachannel_fuzz -max_total_time=20 -max_len=8192 -rss_limit_mb=1024 -timeout=10 \
  -artifact_prefix=build/fuzz/dc- -print_final_stats=1 "$dc_corpus" 2>build/fuzz/dc-last-run.log ||
  { tail -40 build/fuzz/dc-last-run.log; exit 1; }
grep -E '^stat::number_of_executed_units' build/fuzz/dc-last-run.log

step "fuzzing the Janus session, its plugin machines and the media-server core (libFuzzer, 20 s)"
janus_corpus=build/fuzz/janus-corpus
mkdir -p "$janus_corpus"
# Seeds: the frames Janus really sent in each recorded exchange (tests/vectors/janus/).
node -e '
  const fs = require("fs");
  for (const f of fs.readdirSync("tests/vectors/janus").filter((n) => n.endsWith(".json"))) {
    JSON.parse(fs.readFileSync(`tests/vectors/janus/${f}`, "utf8")).forEach((c, i) => {
      const frames = (c.steps || []).filter((s) => s.receive).map((s) => JSON.stringify(s.receive));
      if (frames.length) fs.writeFileSync(`${process.argv[1]}/${f}-${i}`, frames.join("\x1e"));
    });
  }
' "$janus_corpus"
./build/fuzz/janus_fuzz -max_total_time=20 -max_len=8192 -rss_limit_mb=1024 -timeout=10 \
  -artifact_prefix=build/fuzz/janus- -print_final_stats=1 "$janus_corpus" 2>build/fuzz/janus-last-run.log ||
  { tail -40 build/fuzz/janus-last-run.log; exit 1; }
grep -E '^stat::number_of_executed_units' build/fuzz/janus-last-run.log

step "fuzzing the bitrate controller: stats samples, view sizes, layer wishes (libFuzzer, 20 s)"
mkdir -p build/fuzz/abr-corpus
# Seed: a few samples in the glue's shape (a mesh, an SFU publisher and a subscriber).
cp tests/vectors/abr/samples.jsonl build/fuzz/abr-corpus/samples
./build/fuzz/abr_fuzz -max_total_time=20 -max_len=16384 -rss_limit_mb=1024 -timeout=10 \
  -artifact_prefix=build/fuzz/abr- -print_final_stats=1 build/fuzz/abr-corpus 2>build/fuzz/abr-last-run.log ||
  { tail -40 build/fuzz/abr-last-run.log; exit 1; }
grep -E '^stat::number_of_executed_units' build/fuzz/abr-last-run.log

step "fuzzing the voice receiver: floor, jitter buffer, Opus decode (libFuzzer, 20 s)"
mkdir -p build/fuzz/voice-corpus
./build/fuzz/voice_fuzz -max_total_time=20 -max_len=4096 -rss_limit_mb=1024 -timeout=10 \
  -artifact_prefix=build/fuzz/voice- -print_final_stats=1 build/fuzz/voice-corpus 2>build/fuzz/voice-last-run.log ||
  { tail -40 build/fuzz/voice-last-run.log; exit 1; }
grep -E '^stat::number_of_executed_units' build/fuzz/voice-last-run.log

step "Node tests (tests/node)"
node --test --test-timeout=120000 tests/node/

# node --test picks *.test.*, *-test.*, *_test.*, test-*.* and test.* files.
e2e=$(find tests/e2e -type f \( -name '*.test.*js' -o -name '*-test.*js' -o -name '*_test.*js' \
  -o -name 'test-*.*js' -o -name 'test.*js' \) -not -path '*/node_modules/*' 2>/dev/null | head -n1)
if [[ -n $e2e ]]; then
  step "end-to-end tests (tests/e2e)"
  cmd=(node --test --test-concurrency=1 --test-timeout=300000 tests/e2e/)
  if [[ -f tools/netns-run.sh ]]; then
    bash tools/netns-run.sh "${cmd[@]}"
  else
    "${cmd[@]}"
  fi
else
  step "end-to-end tests: none in tests/e2e yet"
fi
