# Per-file optimisation for the "mixed" wasm variants of libopus (tools/opus/build.sh passes this
# file as CMAKE_PROJECT_INCLUDE, so it runs inside libopus's own project() and the pristine tree
# is not edited). The build type gives every file -Os; the files below, where a voice call's
# encode and decode spend their time, get CHORUS_OPUS_HOT_FLAGS appended (clang takes the last
# -O it sees, so -O3 there wins).
#
# The list comes from profiles of the benchmark's speech signal (tools/bench/opus.mjs) at 24 and
# 32 kbps, complexity 5 and 10: `perf record` of tools/opus/opus-pipe.c's `bench` against a
# scalar native build (per source file; together ~85% of the samples) and `node --cpu-prof` of
# the wasm build linked with --profiling-funcs (per function, after binaryen's inlining). SILK's
# noise-shaping quantiser with delayed decision (NSQ_del_dec.c) alone is 25-35% of encode time;
# warped autocorrelation ~10%; the rest is a long tail of small filter, FFT and entropy-coder
# loops. Large control-flow files (celt_encoder.c, opus_encoder.c, analysis.c, bands.c) cost the
# most bytes at -O3 for a few % each and stay -Os.
set(CHORUS_OPUS_HOT_FLAGS "-O3" CACHE STRING "compile options appended for libopus's hot files")
# "all": the list below; "core": only the SILK quantiser and warped autocorrelation (~40% of
# encode time at complexity 10) for the smallest size cost.
set(CHORUS_OPUS_HOT_SET "all" CACHE STRING "all or core")
set(chorus_hot_files
  silk/NSQ_del_dec.c silk/NSQ.c silk/NLSF_del_dec_quant.c silk/A2NLSF.c silk/NLSF2A.c
  silk/LPC_inv_pred_gain.c silk/LPC_analysis_filter.c silk/VQ_WMat_EC.c silk/decode_core.c
  silk/resampler_private_IIR_FIR.c silk/resampler_private_down_FIR.c silk/resampler_private_AR2.c
  silk/resampler_private_up2_HQ.c silk/ana_filt_bank_1.c
  silk/float/warped_autocorrelation_FLP.c silk/float/inner_product_FLP.c
  silk/float/LPC_analysis_filter_FLP.c silk/float/burg_modified_FLP.c silk/float/energy_FLP.c
  silk/float/schur_FLP.c silk/float/autocorrelation_FLP.c silk/float/pitch_analysis_core_FLP.c
  silk/float/wrappers_FLP.c
  celt/kiss_fft.c celt/mdct.c celt/pitch.c celt/celt_lpc.c celt/vq.c celt/entenc.c celt/entdec.c
  src/mlp.c)
if(CHORUS_OPUS_HOT_SET STREQUAL "core")
  set(chorus_hot_files silk/NSQ_del_dec.c silk/NSQ.c silk/float/warped_autocorrelation_FLP.c)
endif()
# With SIMD on (OPUS_X86_PRESUME_SSE4_1), the SSE files replace some of the C above; hot too.
file(GLOB chorus_hot_x86 RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
  ${CMAKE_CURRENT_SOURCE_DIR}/celt/x86/*sse*.c ${CMAKE_CURRENT_SOURCE_DIR}/silk/x86/*sse4_1.c)
list(APPEND chorus_hot_files ${chorus_hot_x86})
list(TRANSFORM chorus_hot_files PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
foreach(f IN LISTS chorus_hot_files)
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "tools/opus/hot.cmake: ${f} is not in this libopus tree")
  endif()
endforeach()
set_source_files_properties(${chorus_hot_files} PROPERTIES COMPILE_OPTIONS "${CHORUS_OPUS_HOT_FLAGS}")
