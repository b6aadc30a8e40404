// A DNS cache with a background refresher, so a request to a known etcd host never waits on
// DNS (Patroni's DnsCachingResolver, spec 4.9.1). Internal: the caller turns what it knows into
// a CURLOPT_RESOLVE entry and keeps libcurl's own resolver out of the request path.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dcs/observer.hpp"
#include "log.hpp"

namespace dcs::net {

/// Why a name did not resolve (the getaddrinfo message).
class DnsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Resolves `host` (a name or an IP literal, IPv6 with or without brackets) to numeric
/// addresses with getaddrinfo(AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP), de-duplicated, in the
/// resolver's order. Throws DnsError when getaddrinfo fails; blocks for as long as it takes.
std::vector<std::string> system_lookup(const std::string& host, int port);

/// Whether `host` is an IPv4 or IPv6 literal (brackets allowed): such hosts need no lookup.
bool is_numeric_host(const std::string& host);

/// `host` without the brackets of an IPv6 literal.
std::string strip_brackets(const std::string& host);

/// Host (without brackets) and port of "scheme://host[:port][/...]"; the scheme's default port
/// when none is written. nullopt when `url` has no authority.
std::optional<std::pair<std::string, int>> split_url_host_port(const std::string& url);

/// A libcurl CURLOPT_RESOLVE entry "host:port:addr1,addr2" (IPv6 addresses bracketed); empty
/// when `addresses` is empty.
std::string curl_resolve_entry(const std::string& host, int port, const std::vector<std::string>& addresses);

class DnsCachingResolver {
 public:
  using Clock = std::chrono::steady_clock;
  /// Returns the addresses of (host, port); empty or an exception means "did not resolve".
  using LookupFn = std::function<std::vector<std::string>(const std::string& host, int port)>;

  struct Options {
    LookupFn lookup = system_lookup;
    /// Ages of cache entries are measured with this clock (tests move it by hand). The pauses of
    /// the background thread are real time regardless.
    std::function<Clock::time_point()> now = [] { return Clock::now(); };
    /// How long an answer is used before it is resolved again.
    std::chrono::seconds ttl{600};
    /// How long a failed lookup (or a failed refresh) is trusted before the next attempt.
    std::chrono::seconds failure_ttl{30};
    /// The background thread refreshes an answer this long before it expires, so resolve()
    /// rarely has to.
    std::chrono::seconds refresh_ahead{60};
    /// Real time between two looks of the background thread at the cache's ages.
    std::chrono::milliseconds check_interval{5000};
    /// Real-time pause before an asynchronous lookup that found nothing is tried again.
    std::chrono::milliseconds retry_pause{1000};
    /// Attempts after the first one for resolve_async.
    int max_retries = 10;
    LogSink log_sink;
  };

  DnsCachingResolver();
  explicit DnsCachingResolver(Options options);
  /// Stops the background thread without waiting for queued work; a lookup that is running
  /// (getaddrinfo cannot be interrupted) is waited for.
  ~DnsCachingResolver();
  DnsCachingResolver(const DnsCachingResolver&) = delete;
  DnsCachingResolver& operator=(const DnsCachingResolver&) = delete;

  /// What is known about (host, port), however old, without blocking on DNS; empty when nothing
  /// is. An IP literal is its own answer.
  std::vector<std::string> cached(const std::string& host, int port) const;

  /// The cached answer while it is fresh; otherwise looks the name up now (blocking). A failed
  /// lookup keeps the previous answer and is not retried for failure_ttl.
  std::vector<std::string> resolve(const std::string& host, int port);

  /// Queues (host, port) for the background thread; an empty answer is retried up to
  /// max_retries times, retry_pause apart. Never blocks on DNS.
  void resolve_async(const std::string& host, int port);

  /// Forgets (host, port), so the next resolve() looks it up afresh.
  void remove(const std::string& host, int port);

  /// curl_resolve_entry() of the cached answer; empty for an IP literal or an unknown host
  /// (libcurl needs no help with either).
  std::string curl_resolve_entry(const std::string& host, int port) const;

  /// Waits (at most `limit`) until no asynchronous lookup is queued or running and the
  /// background thread has gone back to sleep (so it has looked at the cache's ages as they are
  /// now: a test may move its clock without racing a first look); true when so.
  bool wait_until_idle(std::chrono::milliseconds limit) const;

 private:
  using Key = std::pair<std::string, int>;
  struct Entry {
    std::vector<std::string> addresses;
    Clock::time_point expires;  // resolve() looks the name up again from here on
    Clock::time_point refresh;  // the background thread looks it up again from here on
  };
  struct Job {
    Key key;
    int attempt = 0;
    Clock::time_point not_before;  // real time
  };

  /// Looks the name up (no lock held); empty on failure, which is logged.
  std::vector<std::string> lookup(const Key& key) const;
  /// Stores the outcome of a lookup started at `started`.
  void store(const Key& key, std::vector<std::string> addresses, Clock::time_point started);
  void run() noexcept;
  void run_once(std::unique_lock<std::mutex>& lock);

  Options options_;
  detail::Logger log_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<Key, Entry> cache_;
  std::deque<Job> queue_;
  bool busy_ = false;    // the background thread is looking a name up
  bool parked_ = false;  // the background thread sleeps until its next look
  bool stopping_ = false;
  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace dcs::net
