// The memory floor of any libcurl + OpenSSL client: a process that only initialises libcurl and
// sends one etcd request over a kept-alive handle, then prints its memory figures as one JSON
// line. dcs_bench's memory section runs it beside the HA-cycle process, so the shared-library
// pages every such process maps are not mistaken for libdcs's own footprint.
//
//   dcs_bench_floor http://127.0.0.1:2379
#include <curl/curl.h>

#include <cstdio>
#include <exception>
#include <string>

#include "bench_util.hpp"
#include "raw_curl_loop.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ETCD_URL\n", argv[0]);
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  long status = 0;
  try {
    RawCurlLoop raw;
    // {"key":"Lw=="} is a range of the key "/": any answer from etcd will do.
    status = raw.post(std::string(argv[1]) + "/v3/kv/range", R"({"key":"Lw=="})");
    const auto memory = bench::memory_figures();
    std::printf("%s\n", bench::memory_json(memory).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dcs_bench_floor: %s\n", e.what());
    return 1;
  }
  curl_global_cleanup();
  return status == 200 ? 0 : 1;
}
