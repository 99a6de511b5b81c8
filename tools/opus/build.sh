#!/usr/bin/env bash
# Builds libopus (tools/opus/fetch.sh's pinned tree) as a static library in the cache, outside
# the source tree, and prints the install prefix (include/opus/*.h, lib/libopus.a).
# Usage: tools/opus/build.sh VARIANT
#   wasm-os    emcc -Os, no intrinsics                 (size)
#   wasm-o3    emcc -O3, no intrinsics                 (speed, portable wasm)
#   wasm-simd  emcc -O3 -msimd128 -msse4.1: Emscripten's SSE4.1 emulation on wasm SIMD
#   wasm-mixed       -Os, except the hot files in tools/opus/hot.cmake at -O3; no intrinsics
#   wasm-mixed-core  -Os, only the SILK quantiser and warped autocorrelation at -O3
#   wasm-mixed-vec   wasm-mixed, the hot files also -msimd128 (clang's auto-vectoriser only)
#   wasm-mixed-simd  wasm-mixed with -msimd128 -msse4.1 and libopus's SSE4.1 code (emulated)
#   native     the host compiler, -O3 with the library's own run-time-dispatched intrinsics
#              (the benchmark's reference; the interop tests use Debian's libopus instead)
# Incremental: a second run with an unchanged tree only re-checks the build.
set -euo pipefail
variant=${1:?usage: tools/opus/build.sh wasm-os|wasm-o3|wasm-simd|wasm-mixed|wasm-mixed-core|wasm-mixed-vec|wasm-mixed-simd|native}
here=$(cd "$(dirname "$0")" && pwd)
src=$(bash "$here/fetch.sh")
cache=$(dirname "$src")
build=$cache/$(basename "$src")-build/$variant
prefix=$cache/$(basename "$src")-install/$variant
jobs=$(( $(nproc) < 2 ? $(nproc) : 2 ))  # shared 2-core machine

common=(-DOPUS_BUILD_SHARED_LIBRARY=OFF -DOPUS_BUILD_TESTING=OFF -DOPUS_BUILD_PROGRAMS=OFF
  -DOPUS_INSTALL_PKG_CONFIG_MODULE=OFF -DOPUS_INSTALL_CMAKE_CONFIG_MODULE=OFF
  -DOPUS_DRED=OFF -DOPUS_OSCE=OFF -DOPUS_CUSTOM_MODES=OFF
  "-DCMAKE_INSTALL_PREFIX=$prefix")
wasm=(-DOPUS_STACK_PROTECTOR=OFF -DOPUS_FORTIFY_SOURCE=OFF -DOPUS_HARDENING=OFF)
mixed=(-DCMAKE_BUILD_TYPE=MinSizeRel "-DCMAKE_PROJECT_INCLUDE=$here/hot.cmake")
sse41=(-DOPUS_X86_MAY_HAVE_SSE4_1=ON -DOPUS_X86_PRESUME_SSE4_1=ON -DOPUS_X86_MAY_HAVE_AVX2=OFF)

if [[ ! -f $build/CMakeCache.txt ]]; then
  export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
  unset EM_CACHE
  case $variant in
    wasm-os)
      emcmake cmake -S "$src" -B "$build" "${common[@]}" "${wasm[@]}" -DOPUS_DISABLE_INTRINSICS=ON \
        -DCMAKE_BUILD_TYPE=MinSizeRel ;;
    wasm-o3)
      emcmake cmake -S "$src" -B "$build" "${common[@]}" "${wasm[@]}" -DOPUS_DISABLE_INTRINSICS=ON \
        -DCMAKE_BUILD_TYPE=Release ;;
    wasm-simd)
      emcmake cmake -S "$src" -B "$build" "${common[@]}" "${wasm[@]}" -DCMAKE_BUILD_TYPE=Release \
        "${sse41[@]}" "-DCMAKE_C_FLAGS=-msimd128 -msse4.1" ;;
    wasm-mixed)
      emcmake cmake -S "$src" -B "$build" "${common[@]}" "${wasm[@]}" -DOPUS_DISABLE_INTRINSICS=ON \
        "${mixed[@]}" -DCHORUS_OPUS_HOT_FLAGS=-O3 ;;
    wasm-mixed-core)
      emcmake cmake -S "$src" -B "$build" "${common[@]}" "${wasm[@]}" -DOPUS_DISABLE_INTRINSICS=ON \
        "${mixed[@]}" -DCHORUS_OPUS_HOT_FLAGS=-O3 -DCHORUS_OPUS_HOT_SET=core ;;
    wasm-mixed-vec)
      emcmake cmake -S "$src" -B "$build" "${common[@]}" "${wasm[@]}" -DOPUS_DISABLE_INTRINSICS=ON \
        "${mixed[@]}" "-DCHORUS_OPUS_HOT_FLAGS=-O3;-msimd128" ;;
    wasm-mixed-simd)
      emcmake cmake -S "$src" -B "$build" "${common[@]}" "${wasm[@]}" "${sse41[@]}" \
        "${mixed[@]}" -DCHORUS_OPUS_HOT_FLAGS=-O3 "-DCMAKE_C_FLAGS=-msimd128 -msse4.1" ;;
    native)
      cmake -S "$src" -B "$build" "${common[@]}" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON ;;
    *) echo "tools/opus/build.sh: unknown variant $variant" >&2; exit 2 ;;
  esac >&2
fi
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
unset EM_CACHE
cmake --build "$build" -j "$jobs" >&2
cmake --install "$build" >/dev/null
echo "$prefix"
