#!/usr/bin/env bash
# Builds the C++ core natively (build/native: unit tests) and to WebAssembly (build/wasm ->
# dist/chorus-core.{mjs,wasm} for browsers, dist/chorus-server.{mjs,wasm} for the server).
# Incremental: configure runs once, then only changed files build.
# Usage: tools/build.sh [native|wasm|asan|fuzz|all]   (default all = every one of them)
#   asan: build/asan, the unit tests under ASan + UBSan
#   fuzz: build/fuzz, libFuzzer targets (clang)
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

if [[ $what == asan || $what == all ]]; then
  if [[ ! -f build/asan/CMakeCache.txt ]]; then
    cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCHORUS_SANITIZE=ON >/dev/null
  fi
  cmake --build build/asan -j "$jobs"
fi

if [[ $what == fuzz || $what == all ]]; then
  if [[ ! -f build/fuzz/CMakeCache.txt ]]; then
    cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHORUS_FUZZ=ON \
      -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
  fi
  cmake --build build/fuzz -j "$jobs"
fi

if [[ $what == wasm || $what == all ]]; then
  if [[ ! -f build/wasm/CMakeCache.txt ]]; then
    emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
  fi
  cmake --build build/wasm -j "$jobs"
fi
