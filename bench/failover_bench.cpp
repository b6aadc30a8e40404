// Endpoint failover of Etcd3Client on a real three-member etcd cluster: how long a lease
// keepalive takes to succeed again after the member the client talks to is SIGKILLed or
// SIGSTOPped. This is what Patroni's figures in /work/shared/bench/patroni-baseline (the
// `failover` section of patroni_dcs_bench.py) measure for Patroni 3.0.2.
//
//   failover_bench [--mode kill|stop|both] [--rounds N] [--target in-use|follower|leader|all|LIST]
//                  [--verbose]
//
// Setup: EtcdProcess starts 3 members on free loopback ports; one Etcd3Client gets all three
// endpoints, retry_timeout 10 s, ttl 30, loop_wait 10 (Patroni's defaults); a lease with ttl 30
// is kept alive every ~50 ms.
//
// One round: the client settles on a member (target `in-use`: wherever it is; `follower` /
// `leader`: a member of that raft role, found with status() on every member, the client being
// rebuilt with that member first when it is elsewhere), keepalives run every 50 ms for ~0.5 s,
// then, at a random point of the 50 ms gap, the member in use gets SIGKILL (mode kill) or
// SIGSTOP (mode stop). The time measured runs from just before the signal to the return of the
// first lease_keepalive that reports the lease alive; keepalives are called back to back (each
// blocks for at most retry_timeout). Healing: the killed member is restarted / the stopped one
// gets SIGCONT, then every member must answer status() and agree on one leader (bounded), and a
// few keepalives let the client settle before the next round.
//
// Prints one line per round, a table per (mode, target) and a one-line JSON summary (last line
// of stdout, prefixed "JSON ").
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dcs/dcs.hpp>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/etcd_process.hpp"

namespace {

using dcs::etcd3::Etcd3Client;
using dcs::etcd3::Etcd3Options;
using dcs::testing::EtcdProcess;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kKeepaliveEvery{50};
constexpr std::chrono::seconds kRecoveryTimeout{60};  // per round, from the signal
constexpr std::chrono::seconds kHealTimeout{30};

double ms_since(Clock::time_point start, Clock::time_point end = Clock::now()) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

struct Args {
  std::vector<std::string> modes{"kill", "stop"};
  std::vector<std::string> targets{"in-use", "follower"};
  int rounds = 10;
  bool verbose = false;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: failover_bench [--mode kill|stop|both] [--rounds N]\n"
               "                      [--target in-use|follower|leader|all|comma list] [--verbose]\n"
               "  --mode     signal sent to the member in use: kill = SIGKILL, stop = SIGSTOP (default both)\n"
               "  --rounds   rounds per mode and target (default 10)\n"
               "  --target   raft role of the member in use when it is signalled: in-use = whatever the\n"
               "             client uses, follower / leader = moved there first (default in-use,follower)\n"
               "  --verbose  print the library's log lines (timestamped) to stderr\n");
  std::exit(code);
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (arg == "--mode") {
      const std::string mode = value();
      if (mode == "both") {
        args.modes = {"kill", "stop"};
      } else if (mode == "kill" || mode == "stop") {
        args.modes = {mode};
      } else {
        usage(2);
      }
    } else if (arg == "--rounds") {
      args.rounds = std::atoi(value().c_str());
      if (args.rounds < 1) usage(2);
    } else if (arg == "--target") {
      const std::string target = value();
      args.targets = target == "all" ? std::vector<std::string>{"in-use", "follower", "leader"} : split(target);
      if (args.targets.empty()) usage(2);
      for (const auto& t : args.targets) {
        if (t != "in-use" && t != "follower" && t != "leader") usage(2);
      }
    } else if (arg == "--verbose") {
      args.verbose = true;
    } else if (arg == "--help" || arg == "-h") {
      usage(0);
    } else {
      usage(2);
    }
  }
  return args;
}

struct RoundResult {
  std::string mode;
  std::string target;
  std::string role;  // raft role of the signalled member: "leader" or "follower"
  std::size_t member = 0;
  bool ok = false;
  double recovery_ms = 0;    // signal -> first keepalive that returned alive
  double signal_ms = 0;      // how long sending the signal took (SIGKILL: until the member was reaped)
  double first_call_ms = 0;  // duration of the first keepalive call after the signal
  int calls = 0;             // keepalive calls until success (1 = the first call succeeded)
  int failed_calls = 0;      // of which threw
  std::string endpoint_after;
  std::string note;  // last error, lease lost, ...
};

class FailoverBench {
 public:
  FailoverBench(Args args, EtcdProcess& cluster) : args_(std::move(args)), cluster_(cluster) {}

  std::vector<RoundResult> run() {
    std::vector<RoundResult> results;
    build_client(0);
    for (const auto& mode : args_.modes) {
      for (const auto& target : args_.targets) {
        for (int round = 1; round <= args_.rounds; ++round) {
          RoundResult r = run_round(mode, target);
          std::printf(
              "%-4s %-8s round %2d: m%zu (%-8s) -> %s %9.1f ms (signal %.1f ms, first call %.1f ms, "
              "%d call(s), %d failed) now on %s%s%s\n",
              mode.c_str(), target.c_str(), round, r.member + 1, r.role.c_str(), r.ok ? "ok  " : "FAIL", r.recovery_ms,
              r.signal_ms, r.first_call_ms, r.calls, r.failed_calls, r.endpoint_after.c_str(),
              r.note.empty() ? "" : "; ", r.note.c_str());
          std::fflush(stdout);
          results.push_back(std::move(r));
        }
      }
    }
    if (client_) {
      try {
        client_->lease_revoke(lease_);
      } catch (const dcs::Error&) {
      }
    }
    return results;
  }

 private:
  Etcd3Options options_for(std::vector<std::string> endpoints) const {
    Etcd3Options o;
    o.endpoints = std::move(endpoints);
    o.ttl = std::chrono::seconds{30};
    o.loop_wait = std::chrono::seconds{10};
    o.retry_timeout = std::chrono::seconds{10};
    if (args_.verbose) {
      o.log_sink = [this](dcs::LogLevel level, std::string_view component, std::string_view message) {
        std::lock_guard lock(log_mutex_);
        std::fprintf(stderr, "[%10.1f ms] %s %.*s: %.*s\n", ms_since(started_),
                     std::string(dcs::to_string(level)).c_str(), static_cast<int>(component.size()), component.data(),
                     static_cast<int>(message.size()), message.data());
      };
    }
    return o;
  }

  /// A fresh client whose preferred endpoint is `first` (the member list keeps a listed preferred
  /// endpoint), with a fresh lease.
  void build_client(std::size_t first) {
    if (client_) {
      try {
        client_->lease_revoke(lease_);
      } catch (const dcs::Error&) {
      }
    }
    std::vector<std::string> endpoints{cluster_.endpoint(first)};
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      if (i != first) endpoints.push_back(cluster_.endpoint(i));
    }
    client_ = std::make_unique<Etcd3Client>(options_for(std::move(endpoints)));
    lease_ = client_->lease_grant(30).id;
    for (int i = 0; i < 3; ++i) keepalive_or_throw();
  }

  void keepalive_or_throw() {
    if (!client_->lease_keepalive(lease_).alive()) {
      lease_ = client_->lease_grant(30).id;  // expired (a very long outage): start over
    }
  }

  std::optional<std::size_t> member_of(const std::string& endpoint) const {
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      if (cluster_.endpoint(i) == endpoint) return i;
    }
    return std::nullopt;
  }

  /// The raft leader, when every member answers status() and all name the same leader.
  std::optional<std::size_t> healthy_leader() const {
    std::vector<std::uint64_t> ids(cluster_.size());
    std::optional<std::uint64_t> leader;
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      Etcd3Options o;
      o.endpoints = {cluster_.endpoint(i)};
      o.use_proxies = true;  // ask exactly this member
      o.retry_timeout = std::chrono::seconds{1};
      try {
        Etcd3Client probe(o);
        const auto status = probe.status();
        if (status.leader == 0 || (leader && *leader != status.leader)) return std::nullopt;
        leader = status.leader;
        ids[i] = status.header.member_id;
      } catch (const dcs::Error&) {
        return std::nullopt;
      }
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (leader && ids[i] == *leader) return i;
    }
    return std::nullopt;
  }

  std::size_t wait_healthy() const {
    const auto deadline = Clock::now() + kHealTimeout;
    while (true) {
      if (const auto leader = healthy_leader()) return *leader;
      if (Clock::now() >= deadline) {
        throw std::runtime_error("the cluster did not become healthy within " + std::to_string(kHealTimeout.count()) +
                                 " s");
      }
      std::this_thread::sleep_for(milliseconds{100});
    }
  }

  /// Puts the client on a member of the wanted role; returns that member.
  std::size_t place_client(const std::string& target, std::size_t leader) {
    auto current = member_of(client_->current_endpoint());
    if (!current) throw std::runtime_error("endpoint in use is no member: " + client_->current_endpoint());
    const bool on_leader = *current == leader;
    if (target == "in-use" || (target == "leader") == on_leader) return *current;
    std::size_t wanted = leader;
    if (target == "follower") {
      // Alternate between the followers so that both get their turn.
      wanted = (leader + 1 + (follower_turn_++ % (cluster_.size() - 1))) % cluster_.size();
    }
    build_client(wanted);
    current = member_of(client_->current_endpoint());
    if (current != wanted) throw std::runtime_error("client did not settle on " + cluster_.endpoint(wanted));
    return wanted;
  }

  RoundResult run_round(const std::string& mode, const std::string& target) {
    RoundResult r;
    r.mode = mode;
    r.target = target;
    const std::size_t leader = wait_healthy();
    const std::size_t member = place_client(target, leader);
    r.member = member;
    r.role = member == leader ? "leader" : "follower";

    // Steady state: keepalives every 50 ms, then the fault at a random point of the gap.
    for (int i = 0; i < 10; ++i) {
      keepalive_or_throw();
      std::this_thread::sleep_for(kKeepaliveEvery);
    }
    if (member_of(client_->current_endpoint()) != member) {
      throw std::runtime_error("client moved off " + cluster_.endpoint(member) + " before the fault");
    }
    keepalive_or_throw();
    std::this_thread::sleep_for(milliseconds{std::uniform_int_distribution<int>(0, 50)(rng_)});

    const auto t0 = Clock::now();
    cluster_.signal(member, mode == "kill" ? SIGKILL : SIGSTOP);
    r.signal_ms = ms_since(t0);
    const auto deadline = t0 + kRecoveryTimeout;
    while (Clock::now() < deadline) {
      const auto call_start = Clock::now();
      ++r.calls;
      try {
        const auto answer = client_->lease_keepalive(lease_);
        if (r.calls == 1) r.first_call_ms = ms_since(call_start);
        if (!answer.alive()) {
          r.note = "lease lost";
          break;
        }
        r.ok = true;
        r.recovery_ms = ms_since(t0);
        break;
      } catch (const dcs::Error& e) {
        if (r.calls == 1) r.first_call_ms = ms_since(call_start);
        ++r.failed_calls;
        r.note = e.what();
        std::this_thread::sleep_for(milliseconds{10});
      }
    }
    if (!r.ok) r.recovery_ms = ms_since(t0);
    if (r.ok) r.note.clear();
    r.endpoint_after = client_->current_endpoint();

    // Heal, wait for a healthy cluster, let the client settle.
    if (mode == "kill") {
      cluster_.restart(member);
    } else {
      cluster_.signal(member, SIGCONT);
    }
    wait_healthy();
    if (!r.ok) lease_ = client_->lease_grant(30).id;
    for (int i = 0; i < 5; ++i) {
      keepalive_or_throw();
      std::this_thread::sleep_for(kKeepaliveEvery);
    }
    return r;
  }

  Args args_;
  EtcdProcess& cluster_;
  std::unique_ptr<Etcd3Client> client_;
  std::int64_t lease_ = 0;
  std::size_t follower_turn_ = 0;
  std::mt19937 rng_{std::random_device{}()};
  Clock::time_point started_ = Clock::now();
  mutable std::mutex log_mutex_;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

void report(const Args& args, const std::vector<RoundResult>& results) {
  std::ostringstream json;
  json << R"({"bench":"failover","etcd_members":3,"retry_timeout_s":10,"rounds":)" << args.rounds << R"(,"results":{)";
  std::printf("\n| mode | target | rounds | ok | median ms | worst ms | best ms | signalled roles |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  bool first_group = true;
  for (const auto& mode : args.modes) {
    for (const auto& target : args.targets) {
      std::vector<double> ok_ms;
      std::vector<double> all_ms;
      int leaders = 0;
      int followers = 0;
      std::size_t n = 0;
      for (const auto& r : results) {
        if (r.mode != mode || r.target != target) continue;
        ++n;
        all_ms.push_back(r.recovery_ms);
        if (r.ok) ok_ms.push_back(r.recovery_ms);
        (r.role == "leader" ? leaders : followers) += 1;
      }
      if (n == 0) continue;
      const double med = median(ok_ms);
      // A failed round counts as its full wait in the worst case.
      const double worst = *std::max_element(all_ms.begin(), all_ms.end());
      const double best = ok_ms.empty() ? 0 : *std::min_element(ok_ms.begin(), ok_ms.end());
      std::printf("| %s | %s | %zu | %zu | %s | %s | %s | %d leader, %d follower |\n", mode.c_str(), target.c_str(), n,
                  ok_ms.size(), fixed1(med).c_str(), fixed1(worst).c_str(), fixed1(best).c_str(), leaders, followers);
      json << (first_group ? "" : ",") << '"' << mode << '/' << target << R"(":{"ms":[)";
      first_group = false;
      bool first = true;
      for (const auto& r : results) {
        if (r.mode != mode || r.target != target) continue;
        json << (first ? "" : ",") << fixed1(r.recovery_ms);
        first = false;
      }
      json << R"(],"roles":[)";
      first = true;
      for (const auto& r : results) {
        if (r.mode != mode || r.target != target) continue;
        json << (first ? "" : ",") << '"' << r.role << '"';
        first = false;
      }
      json << R"(],"ok":)" << ok_ms.size() << R"(,"median_ms":)" << fixed1(med) << R"(,"worst_ms":)" << fixed1(worst)
           << "}";
    }
  }
  json << "}}";
  std::printf("\nJSON %s\n", json.str().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  try {
    EtcdProcess::Options options;
    options.members = 3;
    EtcdProcess cluster(options);
    std::printf("failover_bench: 3-member etcd at");
    for (const auto& e : cluster.endpoints()) std::printf(" %s", e.c_str());
    std::printf("; modes");
    for (const auto& m : args.modes) std::printf(" %s", m.c_str());
    std::printf(", targets");
    for (const auto& t : args.targets) std::printf(" %s", t.c_str());
    std::printf(", %d round(s) each; retry_timeout 10 s, ttl 30 s\n", args.rounds);
    std::fflush(stdout);
    FailoverBench bench(args, cluster);
    const auto results = bench.run();
    report(args, results);
    const bool all_ok = std::all_of(results.begin(), results.end(), [](const RoundResult& r) { return r.ok; });
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "failover_bench: %s\n", e.what());
    return 1;
  }
}
