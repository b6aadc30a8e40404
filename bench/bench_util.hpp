// Small measuring helpers shared by dcs_bench and its memory floor: latency summaries, process
// and thread CPU time, and the memory figures of /proc/self/status and /proc/self/smaps_rollup.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace bench {

/// min / median / p99 (nearest rank) / max of samples in microseconds, as the Patroni baseline
/// reports them.
struct Summary {
  std::size_t n = 0;
  double min = 0, median = 0, p99 = 0, max = 0;
};

inline Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.n = v.size();
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  const auto rank = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(v.size())));
  s.p99 = v[std::max<std::size_t>(rank, 1) - 1];
  return s;
}

/// User and system CPU seconds of the whole process (RUSAGE_SELF: every thread, exact to the
/// moment of the call). Not for RUSAGE_THREAD: Linux then reports the thread's run time only as of
/// its last tick or context switch, so work done after a blocking read lands in the next interval;
/// use thread_cpu_seconds() for the calling thread.
struct CpuTime {
  double user = 0, sys = 0;
  double total() const { return user + sys; }
  CpuTime operator-(const CpuTime& o) const { return {user - o.user, sys - o.sys}; }
  CpuTime& operator+=(const CpuTime& o) {
    user += o.user;
    sys += o.sys;
    return *this;
  }
};

inline CpuTime cpu_time() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return {secs(ru.ru_utime), secs(ru.ru_stime)};
}

/// CPU seconds of the calling thread, exact to the moment of the call (user + system).
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// The "Name: value kB" lines of a /proc file, values as numbers (kB, or a plain count).
inline std::map<std::string, std::int64_t> proc_fields(const std::string& path) {
  std::map<std::string, std::int64_t> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream value(line.substr(colon + 1));
    std::int64_t number = 0;
    if (value >> number) out[line.substr(0, colon)] = number;
  }
  return out;
}

/// The memory picture of this process: VmRSS = RssAnon (private heap, stacks) + RssFile (mapped
/// files, mostly shared library pages) + RssShmem; Private_* from smaps_rollup also count the
/// private (relocated, written) pages of mapped files.
struct MemoryFigures {
  std::int64_t vm_rss_kb = 0, rss_anon_kb = 0, rss_file_kb = 0, rss_shmem_kb = 0, vm_hwm_kb = 0, threads = 0;
  std::int64_t pss_kb = 0, private_kb = 0;
};

inline MemoryFigures memory_figures() {
  auto st = proc_fields("/proc/self/status");
  auto rollup = proc_fields("/proc/self/smaps_rollup");
  MemoryFigures m;
  m.vm_rss_kb = st["VmRSS"];
  m.rss_anon_kb = st["RssAnon"];
  m.rss_file_kb = st["RssFile"];
  m.rss_shmem_kb = st["RssShmem"];
  m.vm_hwm_kb = st["VmHWM"];
  m.threads = st["Threads"];
  m.pss_kb = rollup["Pss"];
  m.private_kb = rollup["Private_Clean"] + rollup["Private_Dirty"];
  return m;
}

inline std::string memory_json(const MemoryFigures& m) {
  std::ostringstream o;
  o << R"({"VmRSS_kB":)" << m.vm_rss_kb << R"(,"RssAnon_kB":)" << m.rss_anon_kb << R"(,"RssFile_kB":)" << m.rss_file_kb
    << R"(,"RssShmem_kB":)" << m.rss_shmem_kb << R"(,"VmHWM_kB":)" << m.vm_hwm_kb << R"(,"Pss_kB":)" << m.pss_kb
    << R"(,"Private_kB":)" << m.private_kb << R"(,"Threads":)" << m.threads << "}";
  return o.str();
}

}  // namespace bench
