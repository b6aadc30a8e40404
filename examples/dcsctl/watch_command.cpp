// dcsctl watch: streams every change under the cluster's prefix with Etcd3Client::watch. One
// line per event (time, type, key, revision, a short value), then what the change means for
// the cluster (the same summary lines `list` users know: "leader: a -> b"). The watch starts at
// the revision of a full list; when etcd cancels it (compaction), the stream breaks or goes
// quiet, the prefix is listed again and whatever changed meanwhile is printed as missed events,
// so nothing goes unseen. SIGINT / SIGTERM (or --duration) end it cleanly with exit code 0.
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "common/iso8601.hpp"
#include "dcs/errors.hpp"
#include "dcsctl/cluster_report.hpp"
#include "dcsctl/commands.hpp"

namespace dcs_examples {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A stream silent this long is re-opened (after a list): a frozen member is noticed, and a quiet
// cluster costs one range request per period.
constexpr auto kQuietPeriod = 30s;
constexpr auto kRetryPause = 1s;

// Ends the watch on SIGINT / SIGTERM or at the deadline. The signals are blocked in every thread
// (before the library starts any) and taken by one thread with sigtimedwait, which then cancels
// the stream: nothing runs in a signal handler.
class StopControl {
 public:
  StopControl(dcs::etcd3::WatchCanceller& canceller, SteadyClock::time_point deadline) : canceller_(canceller) {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    thread_ = std::thread([this, deadline] {
      const timespec tick{0, 100'000'000};
      while (!done_) {
        const int signal_number = sigtimedwait(&signals_, nullptr, &tick);
        if (signal_number > 0 || SteadyClock::now() >= deadline) {
          stopped_ = true;
          canceller_.cancel();
          return;
        }
      }
    });
  }
  ~StopControl() {
    done_ = true;
    thread_.join();
  }
  StopControl(const StopControl&) = delete;
  StopControl& operator=(const StopControl&) = delete;

  bool stopped() const noexcept { return stopped_; }
  /// Sleeps `pause` unless stopped first.
  void pause(std::chrono::milliseconds pause) const {
    const auto until = SteadyClock::now() + pause;
    while (!stopped_ && SteadyClock::now() < until) std::this_thread::sleep_for(50ms);
  }

 private:
  dcs::etcd3::WatchCanceller& canceller_;
  sigset_t signals_{};
  std::atomic<bool> done_{false};
  std::atomic<bool> stopped_{false};
  std::thread thread_;
};

struct KnownKey {
  std::int64_t mod_revision = 0;
  std::string value;
};

// Follows the prefix: the keys as last seen, and the revision the next watch starts after.
class PrefixFollower {
 public:
  PrefixFollower(dcs::etcd3::Etcd3& dcs, std::string prefix, bool all_groups, std::string scope)
      : dcs_(dcs), prefix_(std::move(prefix)), all_groups_(all_groups), scope_(std::move(scope)) {}

  /// Lists the prefix; on a re-list prints what changed since the keys last seen.
  void list(const std::string& why) {
    dcs::etcd3::RangeRequest request;
    request.key = prefix_;
    request.range_end = dcs::etcd3::prefix_range_end(prefix_);
    const auto listed = dcs_.client().range(request);
    std::map<std::string, KnownKey> now;
    for (const auto& kv : listed.kvs) now[kv.key] = {kv.mod_revision, kv.value};
    if (!listed_) {
      print(timestamp() + " watching " + prefix_ + " from revision " + std::to_string(listed.header.revision) + " (" +
            std::to_string(now.size()) + " keys)\n");
    } else {
      print(timestamp() + " re-listed at revision " + std::to_string(listed.header.revision) + " after " + why + "\n");
      for (const auto& [key, seen] : now) {
        const auto it = known_.find(key);
        if (it == known_.end() || it->second.mod_revision != seen.mod_revision) {
          event_line("PUT", key, seen.mod_revision, seen.value, " (missed)");
        }
      }
      for (const auto& [key, seen] : known_) {
        if (!now.count(key)) event_line("DELETE", key, listed.header.revision, {}, " (missed)");
      }
    }
    known_ = std::move(now);
    revision_ = listed.header.revision;
    listed_ = true;
    summarize();
  }

  /// Watches from the last revision until the stream ends; rethrows what ended it.
  void watch(dcs::etcd3::WatchCanceller& canceller) {
    dcs::etcd3::WatchCreateRequest request;
    request.key = prefix_;
    request.range_end = dcs::etcd3::prefix_range_end(prefix_);
    request.start_revision = revision_ + 1;
    last_message_ = SteadyClock::now();
    dcs_.client().watch(
        request,
        [&](const dcs::etcd3::WatchResponse& response) {
          last_message_ = SteadyClock::now();
          for (const auto& event : response.events) {
            const bool put = event.type == dcs::etcd3::Event::Type::put;
            event_line(put ? "PUT" : "DELETE", event.kv.key, event.kv.mod_revision, event.kv.value, "");
            if (put) {
              known_[event.kv.key] = {event.kv.mod_revision, event.kv.value};
            } else {
              known_.erase(event.kv.key);
            }
            revision_ = std::max(revision_, event.kv.mod_revision);
          }
          if (!response.events.empty()) summarize();
        },
        canceller, kQuietPeriod);
  }

  bool quiet() const { return SteadyClock::now() - last_message_ >= kQuietPeriod * 9 / 10; }

 private:
  void event_line(const char* type, const std::string& key, std::int64_t revision, const std::string& value,
                  const char* note) {
    std::string line = timestamp() + " " + type + " " + relative(key) + " rev=" + std::to_string(revision);
    if (std::string(type) == "PUT") line += " " + summary_of(value);
    print(line + note + "\n");
  }

  std::string relative(const std::string& key) const {
    return key.compare(0, prefix_.size(), prefix_) == 0 ? key.substr(prefix_.size()) : key;
  }

  // The value on one line: newlines escaped, long values cut with their size.
  static std::string summary_of(const std::string& value) {
    constexpr std::size_t kShown = 80;
    std::string shown;
    for (const char c : value.substr(0, kShown)) {
      if (c == '\n') {
        shown += "\\n";
      } else if (static_cast<unsigned char>(c) < 0x20) {
        shown += '?';
      } else {
        shown += c;
      }
    }
    if (value.size() > kShown) shown += "... (" + std::to_string(value.size()) + " bytes)";
    return value.empty() ? "(empty)" : shown;
  }

  // What the changes mean for the cluster, as the summary lines of `list` users know.
  void summarize() {
    try {
      json current = cluster_to_json(scope_, *dcs_.get_cluster(), all_groups_);
      for (const auto& line : describe_changes(cluster_, current)) print(timestamp() + " " + line + "\n");
      cluster_ = std::move(current);
    } catch (const dcs::Error& e) {
      print(timestamp() + " could not read the cluster: " + e.what() + "\n");
    }
  }

  dcs::etcd3::Etcd3& dcs_;
  const std::string prefix_;
  const bool all_groups_;
  const std::string scope_;
  std::map<std::string, KnownKey> known_;
  std::int64_t revision_ = 0;
  bool listed_ = false;
  json cluster_ = nullptr;
  SteadyClock::time_point last_message_{};
};

}  // namespace

int cmd_watch(const Context& ctx) {
  const auto duration = ctx.args.get_int("duration");
  if (duration && *duration <= 0) throw CommandError(kUsage, "--duration must be positive");
  const auto deadline =
      duration ? SteadyClock::now() + std::chrono::seconds(*duration) : SteadyClock::time_point::max();
  dcs::etcd3::WatchCanceller canceller;
  const StopControl stop(canceller, deadline);  // before any library thread exists

  const bool all_groups = ctx.citus && !ctx.group;
  std::optional<int> group = ctx.group;
  if (!group && ctx.citus) group = 0;  // the coordinator's prefix covers every group
  auto dcs = ctx.connect(group);
  PrefixFollower follower(*dcs, dcs->cluster_prefix(), all_groups, ctx.options.scope);

  bool unreachable = false;
  std::string why = "start";
  while (!stop.stopped()) {
    try {
      follower.list(why);
      if (unreachable) print(timestamp() + " etcd is reachable again\n");
      unreachable = false;
      follower.watch(canceller);  // returns only when cancelled: stopping
    } catch (const dcs::etcd3::Etcd3WatchCanceled& e) {
      why = std::string("etcd cancelled the watch: ") + e.what();
    } catch (const dcs::etcd3::EtcdConnectionFailed& e) {
      if (follower.quiet()) {
        why = "a quiet period";
        continue;
      }
      why = std::string("the stream broke: ") + e.what();
      if (!unreachable) print(timestamp() + " watch interrupted: " + e.what() + "\n");
      unreachable = true;
      stop.pause(kRetryPause);
    } catch (const dcs::Error& e) {
      why = std::string("an error: ") + e.what();
      if (!unreachable) print(timestamp() + " etcd unreachable: " + e.what() + "\n");
      unreachable = true;
      stop.pause(kRetryPause);
    }
  }
  return kOk;
}

}  // namespace dcs_examples
