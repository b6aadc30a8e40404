// Etcd3Client against the raw libcurl floor, on the same etcd in the same run.
//
//   client_bench --endpoint http://127.0.0.1:2379 [google benchmark flags]
//
// Each pair of benchmarks sends the same request: the raw loop posts a pre-built body, with the
// gRPC headers the client sends (hasleader, Grpc-Timeout: recorded from the client through the
// proxy of recording_proxy.hpp, since a deadline costs etcd time of its own), and ignores the
// answer; the client encodes the request, parses and decodes the answer. The pairs
// run interleaved (raw, client, raw, client, ...) with repetitions, and the median ratio
// client / raw is printed at the end; the target is <= 1.15.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dcs/dcs.hpp>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "raw_curl_loop.hpp"
#include "recording_proxy.hpp"

namespace {

using namespace dcs::etcd3;

std::string g_endpoint = "http://127.0.0.1:2379";
const std::string kKey = "/libdcs-bench/service/demo/members/node1";
const std::string kValue =
    R"({"conn_url":"postgres://127.0.0.1:5432/postgres","api_url":"http://127.0.0.1:8008/patroni","state":"running","role":"primary","version":"4.1.4","xlog_location":67108864,"timeline":1})";

// Base64 of the key and value, computed once, exactly as the client puts them on the wire.
std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Etcd3Client& client() {
  static Etcd3Client instance([] {
    Etcd3Options options;
    options.endpoints = {g_endpoint};
    return options;
  }());
  return instance;
}

RawCurlLoop& raw() {
  static RawCurlLoop instance;
  return instance;
}

// The header lists the client sends with a range and a put (set in main, before any benchmark).
RawCurlLoop::Headers g_range_headers, g_put_headers;

void record_client_headers() {
  RecordingProxy proxy(g_endpoint);
  Etcd3Options options;
  options.endpoints = {proxy.url()};
  options.use_proxies = true;  // keep talking to the proxy, not to the members etcd lists
  Etcd3Client recorded(options);
  recorded.range({.key = kKey});
  recorded.put({.key = kKey, .value = kValue});
  for (const auto& call : proxy.take()) {
    if (call.path.ends_with("/kv/range")) g_range_headers = RawCurlLoop::make_headers(call.headers);
    if (call.path.ends_with("/kv/put")) g_put_headers = RawCurlLoop::make_headers(call.headers);
  }
  if (!g_range_headers || !g_put_headers) throw std::runtime_error("the client's range and put were not recorded");
}

void BM_Range_Raw(benchmark::State& state) {
  const std::string url = g_endpoint + "/v3/kv/range";
  const std::string body = R"({"key":")" + base64(kKey) + R"("})";
  for (auto _ : state) {
    if (raw().post(url, body, g_range_headers.get()) != 200) state.SkipWithError("raw range failed");
  }
}

void BM_Range_Client(benchmark::State& state) {
  const RangeRequest request{.key = kKey};
  for (auto _ : state) {
    auto response = client().range(request);
    benchmark::DoNotOptimize(response);
  }
}

void BM_Put_Raw(benchmark::State& state) {
  const std::string url = g_endpoint + "/v3/kv/put";
  const std::string body = R"({"key":")" + base64(kKey) + R"(","value":")" + base64(kValue) + R"("})";
  for (auto _ : state) {
    if (raw().post(url, body, g_put_headers.get()) != 200) state.SkipWithError("raw put failed");
  }
}

void BM_Put_Client(benchmark::State& state) {
  const PutRequest request{.key = kKey, .value = kValue};
  for (auto _ : state) {
    auto response = client().put(request);
    benchmark::DoNotOptimize(response);
  }
}

// Collects the per-repetition times so the ratios can be printed after the console report.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      // Microseconds per operation: every benchmark here is registered with kMicrosecond.
      samples_[run.run_name.function_name].push_back(run.GetAdjustedRealTime());
    }
  }

  void print_ratios() const {
    std::printf("\n%-8s %12s %12s %8s\n", "op", "raw us", "client us", "ratio");
    for (const char* op : {"Range", "Put"}) {
      const double r = median(std::string("BM_") + op + "_Raw");
      const double c = median(std::string("BM_") + op + "_Client");
      std::printf("%-8s %12.1f %12.1f %8.3f\n", op, r, c, r > 0 ? c / r : 0.0);
    }
  }

 private:
  double median(const std::string& name) const {
    auto it = samples_.find(name);
    if (it == samples_.end() || it->second.empty()) return 0;
    auto v = it->second;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  std::map<std::string, std::vector<double>> samples_;
};

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Alternates one raw request and one client request, `n` times, timing each: machine noise
// (other processes, CPU frequency, etcd's own pauses) then hits both sides alike, which the
// sequential rounds above cannot promise on a shared 2-core machine.
void paired(const char* op, int n, const std::function<void()>& raw_call, const std::function<void()>& client_call) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> raw_us, client_us;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    raw_call();
    auto t1 = Clock::now();
    client_call();
    auto t2 = Clock::now();
    raw_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    client_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  const double r = median_of(raw_us), c = median_of(client_us);
  std::printf("%-8s %12.1f %12.1f %8.3f   (paired, n=%d)\n", op, r, c, c / r, n);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
      g_endpoint = argv[++i];
    } else {
      args.push_back(argv[i]);
    }
  }
  int bench_argc = static_cast<int>(args.size());
  benchmark::Initialize(&bench_argc, args.data());

  record_client_headers();
  // Warm both paths (version detection, connection set-up) before measuring.
  client().put({.key = kKey, .value = kValue});
  raw().post(g_endpoint + "/v3/kv/range", R"({"key":")" + base64(kKey) + R"("})");

  // Interleave raw and client rounds so that machine noise hits both sides alike.
  const int rounds = 5;
  for (int round = 0; round < rounds; ++round) {
    for (auto [name, fn] : {std::pair{"BM_Range_Raw", &BM_Range_Raw}, std::pair{"BM_Range_Client", &BM_Range_Client},
                            std::pair{"BM_Put_Raw", &BM_Put_Raw}, std::pair{"BM_Put_Client", &BM_Put_Client}}) {
      benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMicrosecond)->Iterations(1000);
    }
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();

  std::printf("\n%-8s %12s %12s %8s\n", "op", "raw us", "client us", "ratio");
  const std::string range_url = g_endpoint + "/v3/kv/range";
  const std::string range_body = R"({"key":")" + base64(kKey) + R"("})";
  const std::string put_url = g_endpoint + "/v3/kv/put";
  const std::string put_body = R"({"key":")" + base64(kKey) + R"(","value":")" + base64(kValue) + R"("})";
  const RangeRequest range_request{.key = kKey};
  const PutRequest put_request{.key = kKey, .value = kValue};
  paired(
      "Range", 3000, [&] { raw().post(range_url, range_body, g_range_headers.get()); },
      [&] { client().range(range_request); });
  paired(
      "Put", 3000, [&] { raw().post(put_url, put_body, g_put_headers.get()); }, [&] { client().put(put_request); });
  std::printf("raw loop connections: %ld (keep-alive: expect 1)\n", raw().connects());
  benchmark::Shutdown();
  return 0;
}
