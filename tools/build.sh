#!/usr/bin/env bash
# Builds the C++ core natively (build/native: unit tests) and to WebAssembly (build/wasm ->
# dist/chorus-core.mjs + .wasm). Incremental: configure runs once, then only changed files build.
# Usage: tools/build.sh [native|wasm|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
jobs=$(nproc)

# emcc needs Debian's acorn; Node 20 does not search /usr/share/nodejs by itself.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
# Debian's emscripten ships its system libraries prebuilt in a frozen cache: keep EM_CACHE unset.
unset EM_CACHE

if [[ $what == native || $what == all ]]; then
  if [[ ! -f build/native/CMakeCache.txt ]]; then
    cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build build/native -j "$jobs"
fi

if [[ $what == wasm || $what == all ]]; then
  if [[ ! -f build/wasm/CMakeCache.txt ]]; then
    emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
  fi
  cmake --build build/wasm -j "$jobs"
fi
