// dcs_bench --section cache: libdcs's watcher cache (KVCache) at 3 / 100 / 1000 members.
//   - get_cluster served from the cache: batches of calls, median ns per call;
//   - the watcher thread's CPU per event: another client rewrites member keys one at a time (each
//     awaited before the next), CPU of the watcher thread (its per-thread CPU clock) / events;
//     beside it the floor: a bare libcurl watch stream on the same prefix (RawWatchStream) that
//     receives the same events at the same time, and its thread's CPU per event;
//   - watch() wake latency: another client (a thread of its own, own connection) changes the
//     leader key with random gaps of min_gap..max_gap ms, as Patroni's harness does; the HA thread
//     loops on watch(None, 500 ms) like an HA loop between cycles. Per change: put start -> watch
//     returned, put ack -> watch returned, and the cache's last contact (the moment its thread
//     received the message carrying the event) -> watch returned.
#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <dcs/etcd3/etcd3.hpp>
#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "cache_bench.hpp"
#include "etcd_admin.hpp"
#include "raw_watch_stream.hpp"

namespace bench {
namespace {

using dcs::etcd3::Etcd3;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::set<long> thread_ids() {
  std::set<long> ids;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ids.insert(std::stol(entry->d_name));
    }
    closedir(dir);
  }
  return ids;
}

// CPU ns of a thread of this process by its kernel id (Linux's per-thread CPU clock id, as glibc
// builds it for pthread_getcpuclockid: ~tid << 3 | CPUCLOCK_SCHED | CPUCLOCK_PERTHREAD). 0 when
// the thread has gone.
std::int64_t thread_cpu_ns(long tid) {
  const auto clock = static_cast<clockid_t>((~static_cast<unsigned long>(tid) << 3) | 6);
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

double us_since(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

json summary(const std::vector<double>& samples) {
  const auto s = summarize(samples);
  return {{"n", s.n}, {"min_us", s.min}, {"median_us", s.median}, {"p99_us", s.p99}, {"max_us", s.max}};
}

// Median ns per cached get_cluster call, over batches of 100 calls.
json measure_get_cluster(Etcd3& dcs, std::size_t members, int batches) {
  std::vector<double> per_call_ns;
  for (int b = 0; b < batches; ++b) {
    const auto start = Clock::now();
    for (int i = 0; i < 100; ++i) {
      const auto c = dcs.get_cluster();
      if (c->members.size() != members) throw std::runtime_error("cached get_cluster lost members");
    }
    per_call_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() / 100);
  }
  const auto s = summarize(per_call_ns);
  return {
      {"batches", batches}, {"calls_per_batch", 100}, {"median_ns", s.median}, {"p99_ns", s.p99}, {"min_ns", s.min}};
}

// Waits (polling every 100 µs) until the cache has applied `events` events.
void await_events(const Etcd3& dcs, std::uint64_t events) {
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  while (dcs.kv_cache()->health().events < events) {
    if (Clock::now() > give_up) throw std::runtime_error("the cache missed an event");
    std::this_thread::sleep_for(std::chrono::microseconds(100));  // light: the cache takes the same lock
  }
}

// Watcher-thread CPU per member-key event: one member's data rewritten per event, awaited each.
// A bare watch stream on the same prefix receives the same events meanwhile: its thread's CPU per
// event is the floor (wake-up, poll, recv, HTTP chunking) that any watcher pays. Both threads' CPU
// clocks are read after each event has reached both (the next put waits for that), so beside the
// means over the run there are medians of the per-event figures, which a rare preemption or
// interrupt on a busy machine does not move.
json measure_event_cost(Etcd3& dcs, EtcdAdmin& admin, const std::string& endpoint, const std::string& prefix,
                        const std::vector<std::string>& names, std::int64_t lease, const std::set<long>& watcher,
                        int events) {
  RawWatchStream floor(endpoint, prefix, current_revision(endpoint) + 1);
  // Its set-up (connect, request, etcd's "created" answer) ends before the measured interval.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::mt19937 random(7);
  auto target = dcs.kv_cache()->health().events;
  // CPU clock readings, before the first event and after each one.
  std::map<long, std::vector<std::int64_t>> cpu;
  std::vector<std::int64_t> floor_cpu;
  const auto sample = [&] {
    for (long tid : watcher) cpu[tid].push_back(thread_cpu_ns(tid));
    floor_cpu.push_back(thread_cpu_ns(floor.thread_id()));
  };
  sample();
  for (int i = 0; i < events; ++i) {
    const int m = static_cast<int>(random() % names.size());
    auto data = member_data(m + 1, m == 0 ? "master" : "replica", 67108960 + 16 * (i + 1));
    admin.put(prefix + "members/" + names[m], data.dump(), lease);
    await_events(dcs, ++target);
    if (!floor.await_events(static_cast<std::uint64_t>(i + 1), std::chrono::seconds(10))) {
      throw std::runtime_error("the raw watch stream saw " + std::to_string(floor.events()) + " of " +
                               std::to_string(i + 1) + " events " + floor.error());
    }
    sample();
  }
  const std::uint64_t floor_events = floor.events();
  floor.stop();
  // The threads the Etcd3 started: the busiest over the events is the cache's; any other (a
  // helper thread of libcurl) is reported beside it.
  std::int64_t busiest = 0, others = 0;
  long busiest_tid = 0;
  for (long tid : watcher) {
    const auto used = std::max<std::int64_t>(0, cpu[tid].back() - cpu[tid].front());
    others += std::min(used, busiest);
    if (used >= busiest) busiest_tid = tid;
    busiest = std::max(used, busiest);
  }
  const std::int64_t floor_used = std::max<std::int64_t>(0, floor_cpu.back() - floor_cpu.front());
  std::vector<double> watcher_each, floor_each, over_each;
  for (std::size_t i = 1; i < floor_cpu.size(); ++i) {
    const double w = busiest_tid ? static_cast<double>(cpu[busiest_tid][i] - cpu[busiest_tid][i - 1]) / 1000.0 : 0;
    const double f = static_cast<double>(floor_cpu[i] - floor_cpu[i - 1]) / 1000.0;
    watcher_each.push_back(w);
    floor_each.push_back(f);
    over_each.push_back(w - f);
  }
  const double watcher_us = static_cast<double>(busiest) / 1000.0 / events;
  const double floor_us = static_cast<double>(floor_used) / 1000.0 / events;
  return {{"events", events},
          {"threads_started", watcher.size()},
          {"watcher_cpu_us_per_event", watcher_us},
          {"other_started_threads_cpu_us_per_event", static_cast<double>(others) / 1000.0 / events},
          {"floor_cpu_us_per_event", floor_us},
          {"watcher_over_floor_us_per_event", watcher_us - floor_us},
          {"watcher_cpu_us_per_event_median", summarize(watcher_each).median},
          {"floor_cpu_us_per_event_median", summarize(floor_each).median},
          {"watcher_over_floor_us_per_event_median", summarize(over_each).median},
          {"floor_events_seen", floor_events}};
}

struct Change {
  std::string value;
  Clock::time_point sent, acked;
};

// put -> watch() latency over `changes` leader-key changes made by a writer thread.
json measure_watch(Etcd3& dcs, const std::string& endpoint, const std::string& prefix, int changes, int min_gap_ms,
                   int max_gap_ms) {
  std::vector<Change> log(static_cast<std::size_t>(changes));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    EtcdAdmin own(endpoint);
    std::mt19937 random(42);
    std::uniform_int_distribution<int> gap(min_gap_ms * 1000, max_gap_ms * 1000);
    for (int i = 0; i < changes; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(gap(random)));
      auto& c = log[static_cast<std::size_t>(i)];
      c.value = "w" + std::to_string(i);
      c.sent = Clock::now();
      own.put(prefix + "leader", c.value);
      c.acked = Clock::now();
    }
    done = true;
  });
  // First return of watch() that showed each value, and the cache's last contact at that moment.
  std::map<std::string, std::pair<Clock::time_point, Clock::time_point>> first_seen;
  std::size_t returns = 0;
  Clock::time_point finished{};
  for (;;) {
    const bool woke = dcs.watch(std::nullopt, std::chrono::milliseconds(500));
    const auto now = Clock::now();
    if (woke) {
      ++returns;
      const auto contact = dcs.kv_cache()->health().last_contact;
      first_seen.emplace(dcs.get_cluster()->leader_name(), std::make_pair(now, contact));
    }
    if (done) {
      if (finished == Clock::time_point{}) finished = now;
      if (now - finished > std::chrono::milliseconds(500)) break;
    }
  }
  writer.join();
  std::vector<double> from_send, from_ack, from_watcher;
  int missed = 0;
  for (const auto& c : log) {
    const auto it = first_seen.find(c.value);
    if (it == first_seen.end()) {
      ++missed;  // overtaken by the next change before watch() returned (or never woken)
      continue;
    }
    from_send.push_back(us_since(c.sent, it->second.first));
    from_ack.push_back(us_since(c.acked, it->second.first));
    from_watcher.push_back(us_since(it->second.second, it->second.first));
  }
  return {{"changes", changes},
          {"gap_ms", {min_gap_ms, max_gap_ms}},
          {"watch_returns", returns},
          {"changes_not_seen", missed},
          {"since_put_sent", summary(from_send)},
          {"since_put_ack", summary(from_ack)},
          {"since_event_reached_watcher", summary(from_watcher)}};
}

}  // namespace

json section_cache(const std::string& endpoint, double scale, const dcs::LogSink& log_sink) {
  const auto scaled = [&](int base) { return std::max(5, static_cast<int>(base * scale)); };
  EtcdAdmin admin(endpoint);
  const std::int64_t lease = admin.lease_grant(3600);
  json out = json::object();
  std::printf("\nwatcher cache (KVCache): cached get_cluster, watcher CPU per event, put -> watch() latency\n");
  std::printf("%-10s %14s %14s %18s %16s %16s %14s %14s %14s %14s\n", "members", "get_cluster ns", "p99 ns",
              "watcher us/event", "floor us/event", "over floor p50", "watch p50 us", "watch p99 us", "ack->watch p50",
              "recv->watch p99");
  for (const auto& [members, gc_batches] : std::vector<std::pair<int, int>>{{3, 2000}, {100, 2000}, {1000, 1000}}) {
    const std::string scope = "libdcs-bench-cache-" + std::to_string(members), prefix = "/service/" + scope + "/";
    const auto names = admin.populate_cluster(scope, members, lease);
    dcs::etcd3::Etcd3Options options;
    options.endpoints = {endpoint};
    options.namespace_ = "/service/";
    options.scope = scope;
    options.name = "libdcs-bench-replica";  // not the leader: leader changes wake it
    options.log_sink = log_sink;

    json entry{{"members", members}, {"keys", admin.count_prefix(prefix)}};
    {
      const auto threads_before = thread_ids();
      Etcd3 dcs(options);
      if (dcs.get_cluster()->members.size() != static_cast<std::size_t>(members)) {
        throw std::runtime_error("the cache did not list every member");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // short-lived helper threads end
      std::set<long> watcher;
      for (long tid : thread_ids()) {
        if (!threads_before.count(tid)) watcher.insert(tid);
      }

      entry["get_cluster_cached"] = measure_get_cluster(dcs, static_cast<std::size_t>(members), scaled(gc_batches));
      entry["watcher_event"] = measure_event_cost(dcs, admin, endpoint, prefix, names, lease, watcher, scaled(500));
      entry["watch"] = measure_watch(dcs, endpoint, prefix, scaled(1000), 10, 30);
      const auto& w = entry["watch"];
      std::printf("%-10d %14.0f %14.0f %18.1f %16.1f %16.1f %14.1f %14.1f %14.1f %14.1f\n", members,
                  entry["get_cluster_cached"]["median_ns"].get<double>(),
                  entry["get_cluster_cached"]["p99_ns"].get<double>(),
                  entry["watcher_event"]["watcher_cpu_us_per_event"].get<double>(),
                  entry["watcher_event"]["floor_cpu_us_per_event"].get<double>(),
                  entry["watcher_event"]["watcher_over_floor_us_per_event_median"].get<double>(),
                  w["since_put_sent"].value("median_us", 0.0), w["since_put_sent"].value("p99_us", 0.0),
                  w["since_put_ack"].value("median_us", 0.0), w["since_event_reached_watcher"].value("p99_us", 0.0));
      std::fflush(stdout);
      entry["health"] = {{"rebuilds", dcs.kv_cache()->health().rebuilds}, {"events", dcs.kv_cache()->health().events}};
    }  // the cache stops before the clean-up, so its deletions are not part of its cost per event
    out[std::to_string(members)] = entry;
    admin.remove_prefix(prefix);
  }
  return out;
}

}  // namespace bench
