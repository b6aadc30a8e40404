// ha_daemon: a small but real HA member built only on libdcs's public API. It runs Patroni's HA
// cycle against etcd (register, race for or keep the leader key, follow, honour switchover and
// failover requests, status, history, sync state) with a fake database instead of PostgreSQL.
//
// stdout: one JSON line per role change (see --help). stderr: the logs.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/args.hpp"
#include "common/dcs_config.hpp"
#include "common/iso8601.hpp"
#include "common/stderr_log.hpp"
#include "dcs/dcs.hpp"
#include "ha_daemon/daemon_settings.hpp"
#include "ha_daemon/ha_node.hpp"

namespace {

using namespace dcs_examples;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: ha_daemon [-c FILE] [options]\n"
    "\n"
    "A Patroni-style HA member without PostgreSQL: it keeps its member key in etcd, races for the\n"
    "leader key, follows the leader, honours switchover / failover requests (dcsctl) and writes\n"
    "status, history and sync state as Patroni does. 'Promote' and 'demote' only change its role;\n"
    "its WAL position is a counter that grows while it is primary.\n"
    "\n"
    "Every role change prints one JSON line on stdout:\n"
    "  {\"ts\":<unix "
    "seconds>,\"member\":\"<name>\",\"event\":\"acquired\"|\"renewed_failed\"|\"released\"|\"demoted\",\n"
    "   \"role\":\"primary\"|\"replica\",\"timeline\":<int>}\n"
    "--trace adds lines for each leader-key renewal (\"renewed\", with the call's start time in\n"
    "\"since\" and the ttl), each leader race whose outcome is unknown (\"race_error\") and each\n"
    "acknowledged member / config write (\"member_written\", \"config_written\"), for scripts/torture.sh.\n"
    "Logs go to stderr. SIGTERM or SIGINT: a leader releases the leader key at once; exit 0.\n"
    "\n"
    "The configuration file uses Patroni's keys: scope, namespace, name, ttl, loop_wait,\n"
    "retry_timeout, citus.group, etcd3 {hosts, host, url, proxy, protocol, username, password,\n"
    "cacert, cert, key}, postgresql.connect_address, restapi.connect_address, tags, bootstrap.dcs.\n"
    "Flags win over the file.\n"
    "\n"
    "options:\n";

// Stop requests arrive on a thread of their own (sigwait), which may then wake the HA loop out
// of watch(): nothing unsafe happens inside a signal handler.
class StopSignal {
 public:
  StopSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    // Blocked before any other thread exists, so every thread inherits the mask and only
    // sigwait below receives these signals.
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      int signal_number = 0;
      sigwait(&set_, &signal_number);
      std::lock_guard lock(mutex_);
      if (!quit_thread_) log_line(dcs::LogLevel::info, "ha_daemon", "received a stop signal");
      stop_ = true;
      if (dcs_ != nullptr) dcs_->wake();
      changed_.notify_all();
    });
  }
  ~StopSignal() {
    {
      std::lock_guard lock(mutex_);
      quit_thread_ = true;
    }
    if (!stopped()) pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }

  bool stopped() const {
    std::lock_guard lock(mutex_);
    return stop_;
  }
  /// Sleeps up to `how_long`; returns early (true) on a stop request.
  bool wait_for(SteadyClock::duration how_long) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, how_long, [&] { return stop_; });
  }
  /// The DCS to wake on a stop request (null: none).
  void attach(dcs::etcd3::Etcd3* dcs) {
    std::lock_guard lock(mutex_);
    dcs_ = dcs;
  }

 private:
  sigset_t set_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ = false;
  bool quit_thread_ = false;
  dcs::etcd3::Etcd3* dcs_ = nullptr;
  std::thread thread_;
};

void print_event(const RoleEvent& event) {
  const std::string line = to_json_line(event) + "\n";
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
}

dcs::LogLevel parse_level(const std::string& text) {
  if (text == "debug") return dcs::LogLevel::debug;
  if (text == "info") return dcs::LogLevel::info;
  if (text == "warning") return dcs::LogLevel::warning;
  if (text == "error") return dcs::LogLevel::error;
  throw UsageError("--log-level must be debug, info, warning or error, got '" + text + "'");
}

// Connects like Patroni: waits while etcd cannot be reached, but gives up at once on what waiting
// cannot fix. Returns null when a stop was requested first.
std::unique_ptr<dcs::etcd3::Etcd3> connect(dcs::etcd3::Etcd3Options options, StopSignal& stop) {
  options.startup_timeout = std::chrono::seconds{0};  // one try per round: a stop is seen between
  while (!stop.stopped()) {
    try {
      return std::make_unique<dcs::etcd3::Etcd3>(options);
    } catch (const dcs::DCSError& e) {
      log_line(dcs::LogLevel::warning, "ha_daemon", std::string("waiting on etcd: ") + e.what());
    }
    stop.wait_for(std::chrono::seconds{5});
  }
  return nullptr;
}

void run_loop(HaNode& node, dcs::AbstractDCS& dcs, StopSignal& stop) {
  // Patroni's schedule: a cycle every loop_wait, the next one at once when watch() says the DCS
  // changed, or when a cycle overran its slot.
  auto next_run = SteadyClock::now();
  while (!stop.stopped()) {
    log_line(dcs::LogLevel::info, "ha", node.run_cycle());
    if (stop.stopped()) break;
    next_run += dcs.loop_wait();
    const auto now = SteadyClock::now();
    if (next_run <= now) {
      next_run = now;
      log_line(dcs::LogLevel::warning, "ha", "Loop time exceeded, rescheduling immediately.");
    } else if (node.watch(std::chrono::duration_cast<milliseconds>(next_run - now))) {
      next_run = SteadyClock::now();
    }
  }
}

int run(int argc, char** argv) {
  std::vector<OptionSpec> specs = dcs_option_specs({.member = true});
  const auto own = daemon_option_specs();
  specs.insert(specs.end(), own.begin(), own.end());
  const Args args = Args::parse(argc, argv, 1, specs);
  if (args.has("help")) {
    std::fputs((std::string(kUsage) + format_options(specs)).c_str(), stdout);
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional().front() + "'");
  if (const auto level = args.get("log-level")) set_min_log_level(parse_level(*level));

  const nlohmann::json config = load_config(args);
  dcs::etcd3::Etcd3Options options = etcd3_options(config);
  options.log_sink = stderr_sink();
  options.patronictl = false;
  NodeSettings settings = node_settings(config, args, options);
  settings.log = stderr_sink();
  settings.unix_time = &unix_now;

  StopSignal stop;
  auto dcs = connect(options, stop);
  if (!dcs) return 0;
  stop.attach(dcs.get());
  HaNode node(*dcs, settings, &print_event);
  log_line(dcs::LogLevel::info, "ha_daemon",
           "member " + settings.name + " of " + dcs->base_path() + " (ttl " + std::to_string(dcs->ttl().count()) +
               " s, loop_wait " + std::to_string(dcs->loop_wait().count()) + " s)");
  run_loop(node, *dcs, stop);
  node.shutdown();
  stop.attach(nullptr);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "ha_daemon: %s\n", e.what());
  } catch (const dcs::ConfigError& e) {
    std::fprintf(stderr, "ha_daemon: %s\n", e.what());
  } catch (const dcs::etcd3::AuthFailed& e) {
    std::fprintf(stderr, "ha_daemon: etcd refused the credentials: %s\n", e.what());
  } catch (const dcs::Error& e) {
    std::fprintf(stderr, "ha_daemon: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ha_daemon: %s\n", e.what());
  }
  return 1;
}
