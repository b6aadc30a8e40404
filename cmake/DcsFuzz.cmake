# libFuzzer builds (DCS_BUILD_FUZZERS): clang, under ASan + UBSan (DCS_SANITIZERS). The library's
# objects (dcs_obj) and the fuzz targets get the fuzzer's coverage instrumentation
# (fuzzer-no-link), so the library code the targets reach is both guided and checked; only the
# targets in tests/fuzz link libFuzzer's main (-fsanitize=fuzzer).
#
# Two presets turn it on:
# - `fuzz` (scripts/fuzz.sh's default): the library and the fuzz targets only;
# - `asan-ubsan` (what CI runs): the tests and examples under ASan + UBSan *and* the fuzz targets,
#   from one compile of the library. scripts/test.sh runs the fuzz smoke from that build
#   (scripts/fuzz.sh --preset asan-ubsan) instead of compiling the library a third time.
#   The tests and examples themselves are not instrumented for coverage and stay at -O0: on the
#   biggest unit-test batch, coverage alone costs a quarter more compile CPU (32 vs 25 s), and
#   -O1 on top of it roughly tripled it.
#   They link the instrumented library objects; ASan's runtime provides the coverage callbacks.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "DCS_BUILD_FUZZERS needs clang (libFuzzer): configure with the `fuzz` or `asan-ubsan` "
                      "preset or -DCMAKE_CXX_COMPILER=clang++")
endif()
if(NOT DCS_SANITIZERS STREQUAL "address,undefined")
  message(FATAL_ERROR "DCS_BUILD_FUZZERS runs under ASan + UBSan: set DCS_SANITIZERS=address,undefined "
                      "(the `fuzz` and `asan-ubsan` presets do)")
endif()

# dcs_fuzz_instrument(TARGET): coverage for libFuzzer, and -O1 on top of the Debug flags: several
# times the executions per second of -O0, which is what a fuzzer lives on.
function(dcs_fuzz_instrument target)
  target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link -O1)
endfunction()
