// libdcs's Etcd3 (the AbstractDCS operations an HA loop calls) against the raw libcurl floor: the
// very requests libdcs sends, posted from one kept-alive handle with pre-built bodies and
// unparsed answers, on the same etcd in the same run.
//
//   dcs_bench --endpoint http://127.0.0.1:2379 --section ops,getcluster,hacycle [--scale F]
//   dcs_bench --endpoint http://127.0.0.1:2379 --section memory [--floor-exe PATH]
//   --show-requests prints every recorded request body and header list (what both sides send).
//   --plain-raw: the raw side sends only Content-Type and Expect, not libdcs's gRPC headers
//   (hasleader, Grpc-Timeout), as this benchmark did before; the difference is etcd's own work.
//
// Sections:
//   ops         touch_member (changed / unchanged), attempt_to_acquire_leader (key absent),
//               update_leader without / with a status write, one busy HA cycle
//               (get_cluster + touch_member + update_leader(lsn)); paired with the raw requests.
//   getcluster  get_cluster as a direct read (patronictl mode) of 3 / 100 / 1000 members
//               (only --members N of them when given). --idle-us N: the thread sleeps N us before
//               each side of the unchanged rows (see docs/performance.md on the rewritten rows).
//   hacycle     process CPU per busy HA cycle (getrusage), libdcs and the raw request sequence.
//   memory      run alone, in a fresh process: Etcd3 + 1000 busy HA cycles, then VmRSS, RssAnon,
//               RssFile, RssShmem, VmHWM and threads; also those of a bare libcurl process
//               (dcs_bench_floor) that sent one request.
//   profile     only libdcs's busy HA cycles (for perf record); with --members N in a cluster of N.
//   profile-getcluster  only get_cluster direct reads of --members N (default 100) members,
//               200 x scale of them; for callgrind with --toggle-collect='dcs::AbstractDCS::get_cluster()'.
//               --rewrite puts one member (untimed, at random) before each read, so every read
//               builds a new view; the CPU printed is then the reading thread's around get_cluster.
//   cache       the watcher cache at 3 / 100 / 1000 members: cached get_cluster, watcher CPU per
//               event, put -> watch() latency (cache_bench.cpp).
//
// The raw requests are not written by hand: a throw-away Etcd3 of the same scope and name runs
// each operation once through an in-process recording proxy (recording_proxy.hpp), and the
// recorded bodies, with its lease id replaced by the measured instance's, are what the raw side
// posts, with the headers etcd acts on (Grpc-Metadata-hasleader, Grpc-Timeout: a deadline costs
// etcd some µs per request of its own work, which is not libdcs's overhead). Each recorded
// sequence is replayed once at start-up and must succeed (200, a txn that succeeded, a keepalive
// that found the lease) before anything is measured.
//
// Pairing: each iteration runs the raw sequence, then the libdcs operation, timing each, so
// machine noise on the shared cores hits both alike; reported are medians and the ratio
// libdcs / raw of the medians (target <= 1.1). Untimed set-up (deleting the leader key,
// building the member data) runs before each side.
//
// Prints tables and, as the last line of stdout, "JSON " + a one-line summary.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dcs/dcs.hpp>
#include <dcs/etcd3/etcd3.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "cache_bench.hpp"
#include "etcd_admin.hpp"
#include "raw_curl_loop.hpp"
#include "recording_proxy.hpp"

extern char** environ;

namespace {

using dcs::etcd3::Etcd3;
using dcs::etcd3::Etcd3Options;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Options {
  std::string endpoint = "http://127.0.0.1:2379";
  std::vector<std::string> sections;
  double scale = 1.0;
  std::string floor_exe;
  bool show_requests = false;  // print every recorded request body
  bool plain_raw = false;      // the raw side leaves out libdcs's gRPC headers (the floor before 2026-11-27)
  int members = 0;             // getcluster: only this cluster size; profile-getcluster: 100 if 0
  bool rewrite = false;        // profile-getcluster: one member rewritten (untimed) before each read
  int idle_us = 0;             // getcluster: the thread sleeps this long before each side of the unchanged rows
};

Options g_options;

int scaled(int base) {
  return std::max(5, static_cast<int>(base * g_options.scale));
}

// Fewest paired reads per get_cluster row, whatever the scale: a row's median over 30 pairs of
// 10-15 ms reads (1000 members on three etcd members) swung 0.92-1.20 from round to round, too
// wide to tell 1.05 from 1.10.
constexpr int kMinReadPairs = 120;

double us_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  char buf[128] = {};
  if (f) {
    if (!std::fgets(buf, sizeof buf, f)) buf[0] = '\0';
    std::fclose(f);
  }
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// --- libdcs instances ---------------------------------------------------------------------------

// Warnings and errors libdcs logged: printed (the first few) so that a failing run says why.
std::mutex g_log_mutex;
int g_log_problems = 0;

void log_sink(dcs::LogLevel level, std::string_view component, std::string_view message) {
  if (level < dcs::LogLevel::warning) return;
  std::lock_guard lock(g_log_mutex);
  if (++g_log_problems <= 20) {
    std::fprintf(stderr, "libdcs %.*s %.*s: %.*s\n", static_cast<int>(dcs::to_string(level).size()),
                 dcs::to_string(level).data(), static_cast<int>(component.size()), component.data(),
                 static_cast<int>(message.size()), message.data());
  }
}

// Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10), namespace /service/.
Etcd3Options dcs_options(const std::string& endpoint, const std::string& scope, const std::string& name,
                         bool patronictl) {
  Etcd3Options o;
  o.endpoints = {endpoint};
  o.namespace_ = "/service/";
  o.scope = scope;
  o.name = name;
  o.patronictl = patronictl;
  o.log_sink = log_sink;
  return o;
}

json member_json(int i, const std::string& role, std::int64_t lsn) {
  return json::parse(bench::member_data(i, role, lsn).dump());
}

// --- the raw side -------------------------------------------------------------------------------

struct WireCall {
  std::string path;  // "/v3/kv/put"
  std::string url;   // endpoint + path
  std::string body;
  RawCurlLoop::Headers headers;  // with libdcs's gRPC headers (hasleader, Grpc-Timeout)
};
using Calls = std::vector<WireCall>;

std::string describe(const Calls& calls) {
  if (calls.empty()) return "none";
  std::string out;
  for (const auto& c : calls) {
    if (!out.empty()) out += " + ";
    out += c.path.substr(c.path.rfind('/') + 1);
  }
  return out;
}

// Runs libdcs operations through the recording proxy with a throw-away Etcd3 of the same scope
// and name, returning what each sent.
class Capturer {
 public:
  Capturer(const std::string& endpoint, const std::string& scope, const std::string& name, bool patronictl)
      : endpoint_(endpoint), proxy_(endpoint) {
    auto o = dcs_options(proxy_.url(), scope, name, patronictl);
    o.use_proxies = true;  // keep talking to the proxy, not to the members etcd lists
    dcs_ = std::make_unique<Etcd3>(o);
    // Like the measured instance, it reads from its watcher cache; its first list must be over
    // before anything is recorded, so that only an operation's own requests are replayed raw.
    for (int i = 0; i < 1000 && dcs_->kv_cache() != nullptr && !dcs_->kv_cache()->ready(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    proxy_.take();
  }

  Etcd3& dcs() { return *dcs_; }

  /// The requests `op` made, re-targeted at etcd itself and with this instance's lease id
  /// replaced by `lease` (the measured instance's).
  Calls record(const std::function<void(Etcd3&)>& op, std::int64_t lease = 0) {
    proxy_.take();
    op(*dcs_);
    Calls out;
    const std::string from = std::to_string(dcs_->lease());
    for (auto& c : proxy_.take()) {
      // The cache's stream (re-opened as a liveness probe when quiet) is not the operation's.
      if (c.path.ends_with("/watch")) continue;
      std::string body = std::move(c.body);
      if (lease != 0 && dcs_->lease() != 0) {
        for (auto at = body.find(from); at != std::string::npos; at = body.find(from, at)) {
          body.replace(at, from.size(), std::to_string(lease));
        }
      }
      if (g_options.plain_raw) c.headers.clear();
      out.push_back({c.path, endpoint_ + c.path, std::move(body), RawCurlLoop::make_headers(c.headers)});
    }
    return out;
  }

 private:
  std::string endpoint_;
  RecordingProxy proxy_;
  std::unique_ptr<Etcd3> dcs_;
};

bool send_all(RawCurlLoop& raw, const Calls& calls) {
  bool ok = true;
  for (const auto& c : calls) ok &= raw.post(c.url, c.body, c.headers.get()) == 200;
  return ok;
}

// One replay of a recorded sequence must do what libdcs wanted it to do.
void validate(const std::string& op, RawCurlLoop& raw, const Calls& calls) {
  if (g_options.show_requests) {
    for (const auto& c : calls) {
      std::printf("request of %s: POST %s %s\n", op.c_str(), c.path.c_str(), c.body.c_str());
      for (const curl_slist* h = c.headers.get(); h != nullptr; h = h->next) std::printf("  %s\n", h->data);
    }
  }
  for (const auto& c : calls) {
    const long status = raw.post(c.url, c.body, c.headers.get());
    const std::string& answer = raw.last_body();
    std::string problem;
    if (status != 200) {
      problem = "HTTP " + std::to_string(status);
    } else if (c.path.ends_with("/kv/txn") && answer.find("\"succeeded\":true") == std::string::npos) {
      problem = "the transaction did not succeed";
    } else if (c.path.ends_with("/lease/keepalive") && answer.find("\"TTL\"") == std::string::npos) {
      problem = "the lease is not alive";
    }
    if (!problem.empty()) {
      throw std::runtime_error("raw replay of " + op + " (" + c.path + " " + c.body + "): " + problem + ": " + answer);
    }
  }
}

// --- paired measurement ---------------------------------------------------------------------------

struct OpResult {
  std::string name;
  std::string requests;
  bench::Summary raw, lib;
  int raw_failures = 0, lib_failures = 0;
  std::size_t response_bytes = 0;
  // Mean CPU time of the calling thread per operation (CLOCK_THREAD_CPUTIME_ID around each side).
  double raw_cpu_us = 0, lib_cpu_us = 0;

  double ratio() const { return raw.median > 0 ? lib.median / raw.median : 0; }
};

struct PairSpec {
  std::function<void()> before;      // untimed, ahead of each side (both)
  std::function<void(int)> prepare;  // untimed, ahead of the libdcs side
  std::function<bool()> lib;         // the libdcs operation; false counts as a failure
  int n = 1000;
  int warmup = 10;
};

OpResult paired(const std::string& name, RawCurlLoop& raw, const Calls& calls, const PairSpec& spec) {
  std::vector<double> raw_us, lib_us;
  OpResult r{name, describe(calls)};
  double raw_cpu = 0, lib_cpu = 0;
  for (int i = -spec.warmup; i < spec.n; ++i) {
    if (spec.before) spec.before();
    const double c0 = bench::thread_cpu_seconds();
    const auto t0 = Clock::now();
    const bool raw_ok = send_all(raw, calls);
    const auto t1 = Clock::now();
    const double c1 = bench::thread_cpu_seconds();
    if (spec.before) spec.before();
    if (spec.prepare) spec.prepare(i);
    const double c2 = bench::thread_cpu_seconds();
    const auto t2 = Clock::now();
    const bool lib_ok = spec.lib();
    const auto t3 = Clock::now();
    const double c3 = bench::thread_cpu_seconds();
    if (i < 0) continue;
    raw_us.push_back(us_between(t0, t1));
    lib_us.push_back(us_between(t2, t3));
    raw_cpu += c1 - c0;
    lib_cpu += c3 - c2;
    r.raw_failures += !raw_ok;
    r.lib_failures += !lib_ok;
  }
  r.raw = bench::summarize(raw_us);
  r.lib = bench::summarize(lib_us);
  r.raw_cpu_us = raw_cpu * 1e6 / spec.n;
  r.lib_cpu_us = lib_cpu * 1e6 / spec.n;
  r.response_bytes = raw.last_body().size();
  return r;
}

// Only libdcs's side (an operation that sends nothing).
OpResult timed_alone(const std::string& name, const std::function<bool()>& lib, int n) {
  std::vector<double> lib_us;
  OpResult r{name, "none"};
  for (int i = -10; i < n; ++i) {
    const auto t0 = Clock::now();
    const bool ok = lib();
    const auto t1 = Clock::now();
    if (i < 0) continue;
    lib_us.push_back(us_between(t0, t1));
    r.lib_failures += !ok;
  }
  r.lib = bench::summarize(lib_us);
  return r;
}

void print_header(const char* title) {
  std::printf("\n%s\n", title);
  std::printf("%-44s %-30s %6s %10s %10s %7s %10s %10s %9s %9s %s\n", "operation", "raw requests", "n", "raw med",
              "dcs med", "ratio", "dcs p99", "dcs max", "raw cpu", "dcs cpu", "failures raw/dcs");
}

void print_row(const OpResult& r) {
  std::printf("%-44s %-30s %6zu %10.1f %10.1f %7.3f %10.1f %10.1f %9.1f %9.1f %d/%d\n", r.name.c_str(),
              r.requests.c_str(), r.lib.n, r.raw.median, r.lib.median, r.ratio(), r.lib.p99, r.lib.max, r.raw_cpu_us,
              r.lib_cpu_us, r.raw_failures, r.lib_failures);
  std::fflush(stdout);
}

json summary_json(const bench::Summary& s) {
  return {{"n", s.n}, {"min_us", s.min}, {"median_us", s.median}, {"p99_us", s.p99}, {"max_us", s.max}};
}

json result_json(const OpResult& r) {
  json j{{"requests", r.requests},
         {"dcs", summary_json(r.lib)},
         {"failures_dcs", r.lib_failures},
         {"failures_raw", r.raw_failures}};
  if (r.raw.n) {
    j["raw"] = summary_json(r.raw);
    j["ratio"] = r.ratio();
    j["response_bytes"] = r.response_bytes;
    j["raw_cpu_us"] = r.raw_cpu_us;
  }
  j["dcs_cpu_us"] = r.lib_cpu_us;
  return j;
}

// --- sections ------------------------------------------------------------------------------------

json section_ops() {
  const std::string scope = "libdcs-bench-ops", name = "node1", p = "/service/" + scope + "/";
  bench::EtcdAdmin admin(g_options.endpoint);
  admin.remove_prefix(p);
  std::int64_t lsn = 100000000;
  const auto next_lsn = [&] { return lsn += 1024; };
  const int n = scaled(1000);

  // The instance measured; the capturing one runs first and is gone before anything is timed.
  Etcd3 dcs(dcs_options(g_options.endpoint, scope, name, false));
  const std::int64_t lease = dcs.lease();
  std::map<std::string, Calls> calls;
  {
    Capturer cap(g_options.endpoint, scope, name, false);
    calls["touch"] = cap.record([&](Etcd3& d) { d.touch_member(member_json(1, "master", next_lsn())); }, lease);
    const json same = member_json(1, "master", next_lsn());
    cap.dcs().touch_member(same);
    cap.dcs().get_cluster();
    calls["touch_same"] = cap.record([&](Etcd3& d) { d.touch_member(same); }, lease);
    admin.remove(p + "leader");
    calls["acquire"] = cap.record([&](Etcd3& d) { d.attempt_to_acquire_leader(); }, lease);
    const auto view = cap.dcs().get_cluster();
    calls["update"] = cap.record([&](Etcd3& d) { d.update_leader(*view, std::nullopt); }, lease);
    calls["update_status"] = cap.record([&](Etcd3& d) { d.update_leader(*view, next_lsn()); }, lease);
    calls["cycle"] = cap.record(
        [&](Etcd3& d) {
          const auto c = d.get_cluster();
          d.touch_member(member_json(1, "master", next_lsn()));
          d.update_leader(*c, lsn);
        },
        lease);
  }
  if (!calls["touch_same"].empty()) {
    std::printf("note: touch_member with unchanged data sent %s\n", describe(calls["touch_same"]).c_str());
  }

  RawCurlLoop raw;
  validate("touch_member", raw, calls["touch"]);
  admin.remove(p + "leader");
  validate("attempt_to_acquire_leader", raw, calls["acquire"]);
  validate("update_leader", raw, calls["update"]);
  validate("update_leader(lsn)", raw, calls["update_status"]);
  validate("HA cycle", raw, calls["cycle"]);

  std::vector<OpResult> results;
  json member_data;
  print_header("operations (single etcd node, keep-alive; microseconds)");
  PairSpec touch{.prepare = [&](int) { member_data = member_json(1, "master", next_lsn()); },
                 .lib = [&] { return dcs.touch_member(member_data); },
                 .n = n};
  results.push_back(paired("touch_member (data changed -> put)", raw, calls["touch"], touch));
  print_row(results.back());

  const json same = member_json(1, "master", next_lsn());
  dcs.touch_member(same);
  dcs.get_cluster();
  results.push_back(timed_alone(
      "touch_member (data unchanged -> no request)", [&] { return dcs.touch_member(same); }, n));
  results.back().requests = describe(calls["touch_same"]);
  print_row(results.back());

  PairSpec acquire{
      .before = [&] { admin.remove(p + "leader"); }, .lib = [&] { return dcs.attempt_to_acquire_leader(); }, .n = n};
  results.push_back(paired("attempt_to_acquire_leader (key absent -> txn)", raw, calls["acquire"], acquire));
  print_row(results.back());

  // The leader key is ours now (the last acquire was libdcs's); the view says so.
  const auto view = dcs.get_cluster();
  if (!view->leader || view->leader->name() != name || view->leader->session != lease) {
    throw std::runtime_error("after attempt_to_acquire_leader the leader key is not held under our lease");
  }
  PairSpec update{.lib = [&] { return dcs.update_leader(*view, std::nullopt); }, .n = n};
  results.push_back(paired("update_leader (keepalive only)", raw, calls["update"], update));
  print_row(results.back());

  std::int64_t cycle_lsn = 0;
  PairSpec update_status{.prepare = [&](int) { cycle_lsn = next_lsn(); },
                         .lib = [&] { return dcs.update_leader(*view, cycle_lsn); },
                         .n = n};
  results.push_back(paired("update_leader(lsn) (keepalive + status put)", raw, calls["update_status"], update_status));
  print_row(results.back());

  PairSpec cycle{.prepare =
                     [&](int) {
                       cycle_lsn = next_lsn();
                       member_data = member_json(1, "master", cycle_lsn);
                     },
                 .lib =
                     [&] {
                       const auto c = dcs.get_cluster();
                       const bool touched = dcs.touch_member(member_data);
                       return dcs.update_leader(*c, cycle_lsn) && touched;
                     },
                 .n = n};
  results.push_back(paired("HA cycle: get_cluster + touch_member + update_leader(lsn)", raw, calls["cycle"], cycle));
  print_row(results.back());

  admin.remove_prefix(p);
  json out = json::object();
  const char* keys[] = {"touch_member_changed", "touch_member_unchanged", "attempt_to_acquire_leader",
                        "update_leader",        "update_leader_status",   "ha_cycle"};
  for (std::size_t i = 0; i < results.size(); ++i) out[keys[i]] = result_json(results[i]);
  out["raw_connects"] = raw.connects();
  return out;
}

// Rewrites one member of a populated cluster (picked at random, a new LSN each time), as a busy
// cluster's touch_member does: the next direct read then has to build a new view.
struct MemberRewriter {
  bench::EtcdAdmin& admin;
  const std::string& prefix;  // "/service/<scope>/"
  const std::vector<std::string>& names;
  std::int64_t lease;
  std::mt19937 random{11};
  std::int64_t lsn = 67108960;

  void operator()() {
    const auto m = static_cast<std::size_t>(random() % names.size());
    admin.put(prefix + "members/" + names[m],
              bench::member_data(static_cast<int>(m) + 1, m == 0 ? "master" : "replica", lsn += 16).dump(), lease);
  }
};

json section_getcluster() {
  bench::EtcdAdmin admin(g_options.endpoint);
  const std::int64_t member_lease = admin.lease_grant(3600);
  RawCurlLoop raw;
  json out = json::object();
  print_header("get_cluster, direct read (patronictl mode: one range over the cluster prefix; microseconds)");
  for (const auto& [members, base_n] : std::vector<std::pair<int, int>>{{3, 2000}, {100, 500}, {1000, 300}}) {
    if (g_options.members != 0 && members != g_options.members) continue;
    const std::string scope = "libdcs-bench-gc-" + std::to_string(members), p = "/service/" + scope + "/";
    const auto names = admin.populate_cluster(scope, members, member_lease);
    const auto keys = admin.count_prefix(p);
    Calls calls;
    {
      Capturer cap(g_options.endpoint, scope, "libdcs-bench-ctl", true);
      calls = cap.record([](Etcd3& d) { d.get_cluster(); });
    }
    validate("get_cluster", raw, calls);
    Etcd3 ctl(dcs_options(g_options.endpoint, scope, "libdcs-bench-ctl", true));
    const auto members_count = static_cast<std::size_t>(members);
    PairSpec spec{.lib =
                      [&] {
                        const auto c = ctl.get_cluster();
                        return c && c->members.size() == members_count && c->leader && c->leader->name() == names[0];
                      },
                  .n = std::max(kMinReadPairs, scaled(base_n))};
    // --idle-us: the calling thread idles before each side, as it does while a put is committed
    // (the rewritten rows below): how much slower the same work runs right after an idle spell.
    if (g_options.idle_us > 0) {
      spec.before = [us = g_options.idle_us] { std::this_thread::sleep_for(std::chrono::microseconds(us)); };
    }
    auto r = paired(std::to_string(members) + " members (" + std::to_string(keys) + " keys)", raw, calls, spec);
    print_row(r);
    auto j = result_json(r);
    j["members"] = members;
    j["keys"] = keys;
    out[std::to_string(members)] = j;

    // The same read when the cluster moved since the last one: a member (picked at random) is
    // rewritten ahead of each side, as a busy cluster's touch_member does, so libdcs builds a
    // new view every time instead of handing back the unchanged one.
    MemberRewriter rewrite{admin, p, names, member_lease};
    spec.before = [&] { rewrite(); };
    spec.n = std::max(kMinReadPairs, scaled(base_n) / 2);
    auto moved = paired(std::to_string(members) + " members, one rewritten before each read", raw, calls, spec);
    print_row(moved);
    auto jm = result_json(moved);
    jm["members"] = members;
    jm["keys"] = keys;
    out[std::to_string(members) + "_one_member_rewritten"] = jm;
    admin.remove_prefix(p);
  }
  out["raw_connects"] = raw.connects();
  return out;
}

// Busy HA cycles in blocks, alternating the raw sequence and libdcs, with getrusage around each
// block: process CPU (every thread) and the calling thread's.
json section_hacycle() {
  const std::string scope = "libdcs-bench-ha", name = "node1", p = "/service/" + scope + "/";
  bench::EtcdAdmin admin(g_options.endpoint);
  admin.remove_prefix(p);
  std::int64_t lsn = 200000000;
  Etcd3 dcs(dcs_options(g_options.endpoint, scope, name, false));
  Calls calls;
  {
    Capturer cap(g_options.endpoint, scope, name, false);
    cap.dcs().touch_member(member_json(1, "master", lsn));
    admin.remove(p + "leader");
    cap.dcs().attempt_to_acquire_leader();
    calls = cap.record(
        [&](Etcd3& d) {
          const auto c = d.get_cluster();
          d.touch_member(member_json(1, "master", lsn += 1024));
          d.update_leader(*c, lsn);
        },
        dcs.lease());
  }
  admin.remove(p + "leader");
  dcs.touch_member(member_json(1, "master", lsn += 1024));
  if (!dcs.attempt_to_acquire_leader()) throw std::runtime_error("hacycle: cannot take the leader key");
  RawCurlLoop raw;
  validate("HA cycle", raw, calls);

  const int n = scaled(1000), rounds = 5, per_round = std::max(1, n / rounds);
  // Member data for every cycle, built up front so that only the cycle itself is measured.
  std::vector<json> data;
  std::vector<std::int64_t> lsns;
  for (int i = 0; i < per_round; ++i) {
    lsns.push_back(lsn += 1024);
    data.push_back(member_json(1, "master", lsns.back()));
  }
  int failures = 0;
  const auto lib_cycle = [&](int i) {
    const auto c = dcs.get_cluster();
    const bool touched = dcs.touch_member(data[static_cast<std::size_t>(i)]);
    failures += !(dcs.update_leader(*c, lsns[static_cast<std::size_t>(i)]) && touched);
  };
  // Warm-up; the last one leaves data[per_round-1] stored, so the first measured cycle
  // (data[0]) writes again.
  for (int i = 0; i < 20; ++i) lib_cycle(per_round - 1);
  for (int i = 0; i < 20; ++i) send_all(raw, calls);

  bench::CpuTime raw_proc, lib_proc;
  double raw_thread = 0, lib_thread = 0;
  std::vector<double> raw_wall, lib_wall;
  int raw_failures = 0, cycles = 0;
  for (int round = 0; round < rounds; ++round) {
    auto p0 = bench::cpu_time();
    auto t0 = bench::thread_cpu_seconds();
    for (int i = 0; i < per_round; ++i) {
      const auto w0 = Clock::now();
      raw_failures += !send_all(raw, calls);
      raw_wall.push_back(us_between(w0, Clock::now()));
    }
    raw_proc += bench::cpu_time() - p0;
    raw_thread += bench::thread_cpu_seconds() - t0;

    p0 = bench::cpu_time();
    t0 = bench::thread_cpu_seconds();
    for (int i = 0; i < per_round; ++i) {
      const auto w0 = Clock::now();
      lib_cycle(i);
      lib_wall.push_back(us_between(w0, Clock::now()));
    }
    lib_proc += bench::cpu_time() - p0;
    lib_thread += bench::thread_cpu_seconds() - t0;
    cycles += per_round;
    // The next round rewrites data[0..]: make it differ from what is stored (data[per_round-1]).
    for (int i = 0; i < per_round; ++i) {
      lsns[static_cast<std::size_t>(i)] = lsn += 1024;
      data[static_cast<std::size_t>(i)] = member_json(1, "master", lsns[static_cast<std::size_t>(i)]);
    }
  }
  const double per = 1e6 / cycles;
  const auto lib_wall_s = bench::summarize(lib_wall), raw_wall_s = bench::summarize(raw_wall);
  const auto threads = bench::memory_figures().threads;
  std::printf("\nbusy HA cycle CPU (%d cycles each, %d alternating blocks; microseconds per cycle)\n", cycles, rounds);
  std::printf("%-34s %10s %10s %10s %12s %12s\n", "", "user", "sys", "total", "main thread", "wall median");
  std::printf("%-34s %10.1f %10.1f %10.1f %12.1f %12.1f\n", "libdcs (get_cluster+touch+update)", lib_proc.user * per,
              lib_proc.sys * per, lib_proc.total() * per, lib_thread * per, lib_wall_s.median);
  std::printf("%-34s %10.1f %10.1f %10.1f %12.1f %12.1f\n", ("raw: " + describe(calls)).c_str(), raw_proc.user * per,
              raw_proc.sys * per, raw_proc.total() * per, raw_thread * per, raw_wall_s.median);
  std::printf("libdcs above the raw requests: %.1f us CPU per cycle; threads %lld; failures raw/dcs %d/%d\n",
              (lib_proc.total() - raw_proc.total()) * per, static_cast<long long>(threads), raw_failures, failures);
  admin.remove_prefix(p);
  return {{"cycles", cycles},
          {"requests", describe(calls)},
          {"dcs_cpu_us_per_cycle", lib_proc.total() * per},
          {"dcs_cpu_user_us_per_cycle", lib_proc.user * per},
          {"dcs_cpu_sys_us_per_cycle", lib_proc.sys * per},
          {"dcs_thread_cpu_us_per_cycle", lib_thread * per},
          {"raw_cpu_us_per_cycle", raw_proc.total() * per},
          {"raw_cpu_user_us_per_cycle", raw_proc.user * per},
          {"raw_cpu_sys_us_per_cycle", raw_proc.sys * per},
          {"dcs_minus_raw_cpu_us_per_cycle", (lib_proc.total() - raw_proc.total()) * per},
          {"dcs_wall", summary_json(lib_wall_s)},
          {"raw_wall", summary_json(raw_wall_s)},
          {"threads", threads},
          {"failures_dcs", failures},
          {"failures_raw", raw_failures}};
}

// Only libdcs's busy HA cycles, nothing else, for a profiler (perf record -g -- dcs_bench
// --section profile): 20000 x scale cycles.
json section_profile() {
  const std::string scope = "libdcs-bench-profile", p = "/service/" + scope + "/";
  bench::EtcdAdmin admin(g_options.endpoint);
  admin.remove_prefix(p);
  // With --members N the measured member is the first of a populated cluster of N (its leader
  // key removed, so that the member takes it itself).
  const int members = std::max(1, g_options.members);
  const std::string name =
      members > 1 ? admin.populate_cluster(scope, members, admin.lease_grant(3600)).front() : std::string("node1");
  if (members > 1) admin.remove(p + "leader");
  std::int64_t lsn = 400000000;
  Etcd3 dcs(dcs_options(g_options.endpoint, scope, name, false));
  dcs.touch_member(member_json(1, "master", lsn));
  if (!dcs.attempt_to_acquire_leader()) throw std::runtime_error("profile: cannot take the leader key");
  const int n = scaled(20000);
  std::vector<json> data;
  for (int i = 0; i < n; ++i) data.push_back(member_json(1, "master", lsn + 1024 * (i + 1)));
  const auto c0 = bench::cpu_time();
  int failures = 0;
  double phase[3] = {0, 0, 0};  // the calling thread's CPU in get_cluster, touch_member, update_leader
  for (int i = 0; i < n; ++i) {
    const double t0 = bench::thread_cpu_seconds();
    const auto c = dcs.get_cluster();
    const double t1 = bench::thread_cpu_seconds();
    const bool touched = dcs.touch_member(data[static_cast<std::size_t>(i)]);
    const double t2 = bench::thread_cpu_seconds();
    failures += !(dcs.update_leader(*c, lsn + 1024 * (i + 1)) && touched);
    const double t3 = bench::thread_cpu_seconds();
    phase[0] += t1 - t0;
    phase[1] += t2 - t1;
    phase[2] += t3 - t2;
  }
  const auto cpu = bench::cpu_time() - c0;
  const auto per_cycle = [n](double seconds) { return seconds * 1e6 / n; };
  std::printf(
      "profile: %d busy cycles of a %d-member cluster, %.1f us CPU per cycle (calling thread: get_cluster %.1f, "
      "touch_member %.1f, update_leader %.1f), failures %d\n",
      n, members, per_cycle(cpu.total()), per_cycle(phase[0]), per_cycle(phase[1]), per_cycle(phase[2]), failures);
  // Who applied the cycle's own writes to the cache: the write-through (at the response's
  // revision) or the watcher (its event came first).
  const auto cache = dcs.kv_cache() != nullptr ? dcs.kv_cache()->health() : dcs::etcd3::KVCacheHealth{};
  std::printf("profile: cache events %llu, write-throughs applied %llu\n",
              static_cast<unsigned long long>(cache.events), static_cast<unsigned long long>(cache.write_throughs));
  admin.remove_prefix(p);
  return {{"cycles", n},
          {"members", members},
          {"cache_events", cache.events},
          {"cache_write_throughs", cache.write_throughs},
          {"cpu_us_per_cycle", per_cycle(cpu.total())},
          {"thread_cpu_us",
           {{"get_cluster", per_cycle(phase[0])},
            {"touch_member", per_cycle(phase[1])},
            {"update_leader", per_cycle(phase[2])}}},
          {"failures", failures}};
}

// Only get_cluster direct reads of one cluster size, nothing else measured: for callgrind
// (instructions per get_cluster = the toggled cost / the count printed).
json section_profile_getcluster() {
  bench::EtcdAdmin admin(g_options.endpoint);
  const std::int64_t member_lease = admin.lease_grant(3600);
  const int members = g_options.members != 0 ? g_options.members : 100;
  const std::string scope = "libdcs-bench-pgc-" + std::to_string(members), p = "/service/" + scope + "/";
  admin.remove_prefix(p);
  const auto names = admin.populate_cluster(scope, members, member_lease);
  Etcd3 ctl(dcs_options(g_options.endpoint, scope, "libdcs-bench-ctl", true));
  const int n = scaled(200);
  int failures = 0;
  MemberRewriter rewrite{admin, p, names, member_lease};
  double read_cpu = 0;
  const auto c0 = bench::cpu_time();
  for (int i = 0; i < n; ++i) {
    if (g_options.rewrite) rewrite();
    const double r0 = bench::thread_cpu_seconds();
    const auto c = ctl.get_cluster();
    read_cpu += bench::thread_cpu_seconds() - r0;
    failures += !(c && c->members.size() == static_cast<std::size_t>(members));
  }
  const auto cpu = bench::cpu_time() - c0;
  const double per_call = (g_options.rewrite ? read_cpu : cpu.total()) * 1e6 / n;
  std::printf("profile-getcluster: %d members, %d get_cluster calls%s, %.1f us CPU each, failures %d\n", members, n,
              g_options.rewrite ? " (one member rewritten before each)" : "", per_call, failures);
  admin.remove_prefix(p);
  return {{"members", members},
          {"calls", n},
          {"rewrite", g_options.rewrite},
          {"cpu_us_per_call", per_call},
          {"failures", failures}};
}

// Runs `exe url` and returns the last line it printed.
std::string run_floor(const std::string& exe) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv{const_cast<char*>(exe.c_str()), const_cast<char*>(g_options.endpoint.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot run " + exe + ": " + std::strerror(rc));
  }
  std::string output;
  char buf[512];
  for (ssize_t got; (got = read(fds[0], buf, sizeof buf)) > 0;) output.append(buf, static_cast<std::size_t>(got));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error(exe + " failed");
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output.substr(output.rfind('\n') + 1);
}

// Nothing but Etcd3 and its cycles in this process before the figures are read: no proxy, no
// raw handle, no capture.
json section_memory() {
  const auto at_start = bench::memory_figures();
  const std::string scope = "libdcs-bench-mem-" + std::to_string(getpid()), name = "node1";
  std::int64_t lsn = 300000000;
  const int n = 1000;
  bench::MemoryFigures after_construct, at_end;
  bench::CpuTime cpu;
  int failures = 0;
  {
    Etcd3 dcs(dcs_options(g_options.endpoint, scope, name, false));
    dcs.touch_member(member_json(1, "master", lsn));
    if (!dcs.attempt_to_acquire_leader()) throw std::runtime_error("memory: cannot take the leader key");
    after_construct = bench::memory_figures();
    for (int i = 0; i < 20; ++i) {
      const auto c = dcs.get_cluster();
      dcs.touch_member(member_json(1, "master", lsn += 1024));
      dcs.update_leader(*c, lsn);
    }
    const auto c0 = bench::cpu_time();
    for (int i = 0; i < n; ++i) {
      const auto c = dcs.get_cluster();
      const bool touched = dcs.touch_member(member_json(1, "master", lsn += 1024));
      failures += !(dcs.update_leader(*c, lsn) && touched);
    }
    cpu = bench::cpu_time() - c0;
    at_end = bench::memory_figures();
    dcs.delete_leader(dcs.get_cluster()->leader);
  }
  bench::EtcdAdmin(g_options.endpoint).remove_prefix("/service/" + scope + "/");

  std::string floor_exe = g_options.floor_exe;
  json floor;
  try {
    floor = json::parse(run_floor(floor_exe));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "memory floor: %s\n", e.what());
  }
  const auto row = [](const char* what, const json& m) {
    std::printf("%-44s %8lld %8lld %8lld %8lld %8lld %8lld %8lld %7lld\n", what, m.value("VmRSS_kB", 0LL),
                m.value("RssAnon_kB", 0LL), m.value("RssFile_kB", 0LL), m.value("RssShmem_kB", 0LL),
                m.value("VmHWM_kB", 0LL), m.value("Pss_kB", 0LL), m.value("Private_kB", 0LL), m.value("Threads", 0LL));
  };
  std::printf("\nmemory (kB; Private = Private_Clean + Private_Dirty from smaps_rollup)\n");
  std::printf("%-44s %8s %8s %8s %8s %8s %8s %8s %7s\n", "process", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM",
              "Pss", "Private", "threads");
  const json start_j = json::parse(bench::memory_json(at_start));
  const json construct_j = json::parse(bench::memory_json(after_construct));
  const json end_j = json::parse(bench::memory_json(at_end));
  row("dcs_bench at start (nothing constructed)", start_j);
  row("after Etcd3 + touch_member + acquire", construct_j);
  row("after 1000 busy HA cycles", end_j);
  if (!floor.is_null()) row("bare libcurl process after one request", floor);
  std::printf("CPU of the 1000 cycles: %.1f us per cycle (user %.1f, sys %.1f); failures %d\n", cpu.total() * 1e6 / n,
              cpu.user * 1e6 / n, cpu.sys * 1e6 / n, failures);
  return {{"cycles", n},           {"at_start", start_j},   {"after_construct", construct_j},
          {"after_cycles", end_j}, {"bare_libcurl", floor}, {"cpu_us_per_cycle", cpu.total() * 1e6 / n},
          {"failures", failures}};
}

void usage(const char* argv0) {
  std::fprintf(
      stderr,
      "usage: %s --endpoint URL --section ops|getcluster|hacycle|memory|profile|profile-getcluster|cache[,...] "
      "[--scale F] [--members N] [--rewrite] [--idle-us N] [--floor-exe PATH] [--show-requests] [--plain-raw]\n",
      argv0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string sections;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--endpoint" && has_value) {
      g_options.endpoint = argv[++i];
    } else if (arg == "--section" && has_value) {
      sections = argv[++i];
    } else if (arg == "--scale" && has_value) {
      g_options.scale = std::atof(argv[++i]);
    } else if (arg == "--floor-exe" && has_value) {
      g_options.floor_exe = argv[++i];
    } else if (arg == "--members" && has_value) {
      g_options.members = std::atoi(argv[++i]);
    } else if (arg == "--idle-us" && has_value) {
      g_options.idle_us = std::atoi(argv[++i]);
    } else if (arg == "--rewrite") {
      g_options.rewrite = true;
    } else if (arg == "--show-requests") {
      g_options.show_requests = true;
    } else if (arg == "--plain-raw") {
      g_options.plain_raw = true;
    } else {
      usage(argv[0]);
      return 2;
    }
  }
  for (std::size_t at = 0; at <= sections.size();) {
    const auto comma = std::min(sections.find(',', at), sections.size());
    if (comma > at) g_options.sections.push_back(sections.substr(at, comma - at));
    at = comma + 1;
  }
  if (g_options.sections.empty()) {
    usage(argv[0]);
    return 2;
  }
  if (g_options.floor_exe.empty()) {
    const std::string self = argv[0];
    g_options.floor_exe = self.substr(0, self.rfind('/') + 1) + "dcs_bench_floor";
  }

  json summary{{"endpoint", g_options.endpoint}, {"scale", g_options.scale}, {"loadavg_before", load_average()}};
  try {
    for (const auto& section : g_options.sections) {
      if (section == "ops") {
        summary["ops"] = section_ops();
      } else if (section == "getcluster") {
        summary["getcluster"] = section_getcluster();
      } else if (section == "hacycle") {
        summary["hacycle"] = section_hacycle();
      } else if (section == "profile") {
        summary["profile"] = section_profile();
      } else if (section == "profile-getcluster") {
        summary["profile_getcluster"] = section_profile_getcluster();
      } else if (section == "cache") {
        summary["cache"] = bench::section_cache(g_options.endpoint, g_options.scale, log_sink);
      } else if (section == "memory") {
        if (g_options.sections.size() != 1) throw std::runtime_error("run the memory section alone");
        summary["memory"] = section_memory();
      } else {
        usage(argv[0]);
        return 2;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dcs_bench: %s\n", e.what());
    return 1;
  }
  summary["loadavg_after"] = load_average();
  summary["libdcs_warnings"] = g_log_problems;
  std::printf("JSON %s\n", summary.dump().c_str());
  return 0;
}
