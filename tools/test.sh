#!/usr/bin/env bash
# Runs every test and stops at the first failing suite (non-zero exit):
#   1. C++ unit tests (Catch2 through CTest)
#   2. Node tests: server, protocol vectors through the wasm module, the npm package
#   3. end-to-end tests in headless Chromium, inside a fresh network namespace when
#      tools/netns-run.sh exists (it falls back to the host when not root)
# Expects a built tree: run `bash tools/setup.sh` first (`npm test` does both).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "C++ unit tests (ctest)"
ctest --test-dir build/native --output-on-failure -j "$(nproc)" --timeout 300

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
