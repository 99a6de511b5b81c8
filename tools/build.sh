#!/usr/bin/env bash
# Builds the C++ core natively (build/native: unit tests) and to WebAssembly (build/wasm ->
# dist/chorus-core.{mjs,wasm} for browsers, dist/chorus-media.{mjs,wasm} loaded by rooms that
# leave the mesh, dist/chorus-server.{mjs,wasm} for the server).
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

# libopus, pinned and built in a cache outside the tree (tools/opus/): natively for the unit
# tests, and the wasm variant dist/chorus-opus ships (docs/BENCHMARKS.md, "Opus", says why).
opus_wasm_variant=wasm-os

# configure DIR ARGS...: runs CMake's configure step when DIR is new, or when the libopus prefix
# it was configured with changed (a moved cache, another variant).
configure() {
  local dir=$1 prefix=$2
  shift 2
  if [[ ! -f $dir/CMakeCache.txt ]] || ! grep -qxF "CHORUS_OPUS_PREFIX:PATH=$prefix" "$dir/CMakeCache.txt"; then
    "$@" -B "$dir" "-DCHORUS_OPUS_PREFIX=$prefix" >/dev/null
  fi
}

if [[ $what == native || $what == all ]]; then
  configure build/native "$(bash tools/opus/build.sh native)" cmake -S . -DCMAKE_BUILD_TYPE=Release
  cmake --build build/native -j "$jobs"
fi

if [[ $what == asan || $what == all ]]; then
  configure build/asan "$(bash tools/opus/build.sh native)" cmake -S . -DCMAKE_BUILD_TYPE=Debug -DCHORUS_SANITIZE=ON
  cmake --build build/asan -j "$jobs"
fi

if [[ $what == fuzz || $what == all ]]; then
  configure build/fuzz "$(bash tools/opus/build.sh native)" \
    cmake -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHORUS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14
  cmake --build build/fuzz -j "$jobs"
fi

if [[ $what == wasm || $what == all ]]; then
  configure build/wasm "$(bash tools/opus/build.sh "$opus_wasm_variant")" \
    emcmake cmake -S . -DCMAKE_BUILD_TYPE=MinSizeRel
  cmake --build build/wasm -j "$jobs"
fi
