# libFuzzer builds (DCS_BUILD_FUZZERS, the `fuzz` preset): clang only. Every object of the project
# gets the fuzzer's coverage instrumentation (fuzzer-no-link) next to ASan + UBSan, so the
# library code the targets reach is both guided and checked; only the targets in tests/fuzz link
# libFuzzer's main (-fsanitize=fuzzer).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "DCS_BUILD_FUZZERS needs clang (libFuzzer): configure with the `fuzz` preset "
                      "or -DCMAKE_CXX_COMPILER=clang++")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
                    -O1)
add_link_options(-fsanitize=address,undefined)
