// DnsCachingResolver against a scripted DNS and a hand-moved clock: what is cached for how long,
// what a failure keeps, what the background thread does, and that it goes away promptly.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/dns_cache.hpp"
#include "unit/mock_etcd_server.hpp"

namespace dcs::net {
namespace {

using namespace std::chrono_literals;
using Addresses = std::vector<std::string>;
using Clock = DnsCachingResolver::Clock;

// Bounds every wait for the background thread, so a bug fails the test instead of hanging it.
constexpr auto kLimit = std::chrono::milliseconds(10000);

class FakeClock {
 public:
  Clock::time_point now() const { return base_ + std::chrono::seconds(offset_.load()); }
  void advance(std::chrono::seconds by) { offset_ += by.count(); }

 private:
  Clock::time_point base_ = Clock::now();
  std::atomic<long long> offset_{0};
};

// A DNS whose answers the test sets; an unknown name fails like getaddrinfo does.
class FakeDns {
 public:
  void set(const std::string& host, Addresses addresses) {
    std::lock_guard lock(mutex_);
    answers_[host] = std::move(addresses);
  }
  void forget(const std::string& host) {
    std::lock_guard lock(mutex_);
    answers_.erase(host);
  }
  /// The next `n` lookups of `host` fail even when it has an answer.
  void fail_next(const std::string& host, int n) {
    std::lock_guard lock(mutex_);
    failures_[host] = n;
  }
  int calls(const std::string& host) const {
    std::lock_guard lock(mutex_);
    const auto it = calls_.find(host);
    return it == calls_.end() ? 0 : it->second;
  }
  int total_calls() const {
    std::lock_guard lock(mutex_);
    int total = 0;
    for (const auto& [host, n] : calls_) total += n;
    return total;
  }
  std::vector<int> ports() const {
    std::lock_guard lock(mutex_);
    return ports_;
  }

  DnsCachingResolver::LookupFn fn() {
    return [this](const std::string& host, int port) {
      std::lock_guard lock(mutex_);
      ++calls_[host];
      ports_.push_back(port);
      if (auto f = failures_.find(host); f != failures_.end() && f->second > 0) {
        --f->second;
        return Addresses{};
      }
      const auto it = answers_.find(host);
      if (it == answers_.end()) throw DnsError("Name or service not known");
      return it->second;
    };
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Addresses> answers_;
  std::map<std::string, int> failures_;
  std::map<std::string, int> calls_;
  std::vector<int> ports_;
};

// Polls `condition` until it holds or kLimit passes.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kLimit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

class DnsCacheTest : public ::testing::Test {
 protected:
  // The background thread only wakes for queued work unless a test asks for refreshes, so the
  // lookup counts below are exact.
  DnsCachingResolver::Options options() {
    DnsCachingResolver::Options o;
    o.lookup = dns.fn();
    o.now = [this] { return clock.now(); };
    o.check_interval = std::chrono::hours(1);
    o.retry_pause = 1ms;
    o.log_sink = log.sink();
    return o;
  }

  FakeDns dns;
  FakeClock clock;
  dcs::test::RecordingLog log;
};

TEST_F(DnsCacheTest, CacheHitDoesNotLookUpAgain) {
  dns.set("etcd1", {"10.0.0.1", "10.0.0.2"});
  DnsCachingResolver resolver(options());
  EXPECT_EQ(resolver.resolve("etcd1", 2379), (Addresses{"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(resolver.resolve("etcd1", 2379), (Addresses{"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(resolver.cached("etcd1", 2379), (Addresses{"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(dns.calls("etcd1"), 1);
  EXPECT_EQ(dns.ports(), std::vector<int>{2379});
}

TEST_F(DnsCacheTest, EntriesAreKeyedByHostAndPort) {
  dns.set("etcd1", {"10.0.0.1"});
  DnsCachingResolver resolver(options());
  resolver.resolve("etcd1", 2379);
  EXPECT_TRUE(resolver.cached("etcd1", 2380).empty());
  resolver.resolve("etcd1", 2380);
  EXPECT_EQ(dns.calls("etcd1"), 2);
}

TEST_F(DnsCacheTest, AnswerExpiresAfter600Seconds) {
  dns.set("etcd1", {"10.0.0.1"});
  DnsCachingResolver resolver(options());
  resolver.resolve("etcd1", 2379);
  dns.set("etcd1", {"10.0.0.9"});
  // The background refresher has had its first look: it does not race the moved clock.
  ASSERT_TRUE(resolver.wait_until_idle(kLimit));
  clock.advance(599s);
  EXPECT_EQ(resolver.resolve("etcd1", 2379), Addresses{"10.0.0.1"});
  EXPECT_EQ(dns.calls("etcd1"), 1);
  clock.advance(1s);
  EXPECT_EQ(resolver.resolve("etcd1", 2379), Addresses{"10.0.0.9"});
  EXPECT_EQ(dns.calls("etcd1"), 2);
}

TEST_F(DnsCacheTest, FailedLookupIsRetriedOnlyAfter30Seconds) {
  DnsCachingResolver resolver(options());
  EXPECT_TRUE(resolver.resolve("etcd1", 2379).empty());
  EXPECT_EQ(dns.calls("etcd1"), 1);
  clock.advance(29s);
  EXPECT_TRUE(resolver.resolve("etcd1", 2379).empty());
  EXPECT_EQ(dns.calls("etcd1"), 1);
  dns.set("etcd1", {"10.0.0.1"});
  clock.advance(1s);
  EXPECT_EQ(resolver.resolve("etcd1", 2379), Addresses{"10.0.0.1"});
  EXPECT_EQ(dns.calls("etcd1"), 2);
}

TEST_F(DnsCacheTest, FailedLookupIsLoggedWithTheResolverMessage) {
  DnsCachingResolver resolver(options());
  resolver.resolve("nowhere", 2379);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].level, LogLevel::warning);
  EXPECT_EQ(lines[0].message, "failed to resolve host nowhere: Name or service not known");
}

TEST_F(DnsCacheTest, FailedRefreshKeepsTheOldAnswerAndBacksOff) {
  dns.set("etcd1", {"10.0.0.1"});
  DnsCachingResolver resolver(options());
  resolver.resolve("etcd1", 2379);
  dns.forget("etcd1");
  ASSERT_TRUE(resolver.wait_until_idle(kLimit));
  clock.advance(601s);
  EXPECT_EQ(resolver.resolve("etcd1", 2379), Addresses{"10.0.0.1"});
  EXPECT_EQ(dns.calls("etcd1"), 2);
  clock.advance(29s);
  EXPECT_EQ(resolver.resolve("etcd1", 2379), Addresses{"10.0.0.1"});
  EXPECT_EQ(dns.calls("etcd1"), 2);
  clock.advance(1s);
  EXPECT_EQ(resolver.resolve("etcd1", 2379), Addresses{"10.0.0.1"});
  EXPECT_EQ(dns.calls("etcd1"), 3);
  EXPECT_EQ(resolver.cached("etcd1", 2379), Addresses{"10.0.0.1"});
}

TEST_F(DnsCacheTest, RemoveForgetsTheEntry) {
  dns.set("etcd1", {"10.0.0.1"});
  DnsCachingResolver resolver(options());
  resolver.resolve("etcd1", 2379);
  resolver.remove("etcd1", 2379);
  EXPECT_TRUE(resolver.cached("etcd1", 2379).empty());
  EXPECT_EQ(resolver.resolve("etcd1", 2379), Addresses{"10.0.0.1"});
  EXPECT_EQ(dns.calls("etcd1"), 2);
  resolver.remove("unknown", 1);  // nothing to forget is fine
  EXPECT_EQ(resolver.cached("etcd1", 2379), Addresses{"10.0.0.1"});
}

TEST_F(DnsCacheTest, NumericHostsAreNeverLookedUp) {
  DnsCachingResolver resolver(options());
  EXPECT_EQ(resolver.resolve("10.1.2.3", 2379), Addresses{"10.1.2.3"});
  EXPECT_EQ(resolver.resolve("::1", 2379), Addresses{"::1"});
  EXPECT_EQ(resolver.resolve("[fe80::1]", 2379), Addresses{"fe80::1"});
  EXPECT_EQ(resolver.cached("192.168.0.1", 2379), Addresses{"192.168.0.1"});
  EXPECT_EQ(resolver.cached("[::1]", 2379), Addresses{"::1"});
  resolver.resolve_async("10.1.2.3", 2379);
  resolver.resolve_async("[::1]", 2379);
  EXPECT_TRUE(resolver.wait_until_idle(kLimit));
  EXPECT_EQ(resolver.curl_resolve_entry("10.1.2.3", 2379), "");
  EXPECT_EQ(dns.total_calls(), 0);
}

TEST(DnsHelpersTest, NumericHostDetection) {
  EXPECT_TRUE(is_numeric_host("127.0.0.1"));
  EXPECT_TRUE(is_numeric_host("::1"));
  EXPECT_TRUE(is_numeric_host("[2001:db8::7]"));
  EXPECT_FALSE(is_numeric_host("localhost"));
  EXPECT_FALSE(is_numeric_host("etcd-1.example.org"));
  EXPECT_FALSE(is_numeric_host(""));
  EXPECT_FALSE(is_numeric_host("[]"));
  // Forms only getaddrinfo reads: an IPv4 shorthand, an IPv6 address with a zone.
  EXPECT_TRUE(is_numeric_host("127.1"));
  EXPECT_TRUE(is_numeric_host("fe80::1%lo"));
  EXPECT_FALSE(is_numeric_host("127.0.0.1.example"));
}

TEST(DnsHelpersTest, SplitsTheHostAndPortOfAUrl) {
  using HostPort = std::pair<std::string, int>;
  EXPECT_EQ(split_url_host_port("http://127.0.0.1:2379/v3/kv/range"), HostPort("127.0.0.1", 2379));
  EXPECT_EQ(split_url_host_port("https://etcd1.example.org/v3/kv/put"), HostPort("etcd1.example.org", 443));
  EXPECT_EQ(split_url_host_port("http://etcd1"), HostPort("etcd1", 80));
  EXPECT_EQ(split_url_host_port("http://user:secret@etcd1:2379?x#y"), HostPort("etcd1", 2379));
  EXPECT_EQ(split_url_host_port("http://[2001:db8::7]:2379/v3"), HostPort("2001:db8::7", 2379));
  EXPECT_EQ(split_url_host_port("http://[2001:db8::7]/v3"), HostPort("2001:db8::7", 80));
  EXPECT_FALSE(split_url_host_port("etcd1:2379"));
  EXPECT_FALSE(split_url_host_port("http:///v3"));
  EXPECT_FALSE(split_url_host_port("http://[::1:2379"));
  EXPECT_FALSE(split_url_host_port("http://etcd1:port/v3"));
  // The port is all digits and within 1-65535, or the URL is not split at all.
  EXPECT_FALSE(split_url_host_port("http://etcd1:2379x/v3"));
  EXPECT_FALSE(split_url_host_port("http://etcd1:+2379"));
  EXPECT_FALSE(split_url_host_port("http://etcd1:-1"));
  EXPECT_FALSE(split_url_host_port("http://etcd1:0"));
  EXPECT_FALSE(split_url_host_port("http://etcd1:65536"));
  EXPECT_FALSE(split_url_host_port("http://etcd1:99999999999"));
  EXPECT_EQ(split_url_host_port("http://etcd1:65535"), HostPort("etcd1", 65535));
  EXPECT_EQ(split_url_host_port("http://[::1]:1/v3"), HostPort("::1", 1));
}

TEST(DnsHelpersTest, CurlResolveEntryForIpv4AndIpv6) {
  EXPECT_EQ(curl_resolve_entry("etcd1", 2379, {"10.0.0.1"}), "etcd1:2379:10.0.0.1");
  EXPECT_EQ(curl_resolve_entry("etcd1", 2379, {"10.0.0.1", "10.0.0.2"}), "etcd1:2379:10.0.0.1,10.0.0.2");
  EXPECT_EQ(curl_resolve_entry("etcd1", 443, {"fd00::1", "10.0.0.1", "[fd00::2]"}),
            "etcd1:443:[fd00::1],10.0.0.1,[fd00::2]");
  EXPECT_EQ(curl_resolve_entry("etcd1", 2379, {}), "");
}

TEST_F(DnsCacheTest, CurlResolveEntryFromTheCache) {
  dns.set("etcd1", {"10.0.0.1", "2001:db8::1"});
  DnsCachingResolver resolver(options());
  EXPECT_EQ(resolver.curl_resolve_entry("etcd1", 2379), "");  // unknown: libcurl resolves it
  resolver.resolve("etcd1", 2379);
  EXPECT_EQ(resolver.curl_resolve_entry("etcd1", 2379), "etcd1:2379:10.0.0.1,[2001:db8::1]");
  EXPECT_EQ(dns.calls("etcd1"), 1);  // building the entry never looks up
}

TEST(DnsHelpersTest, SystemLookupOfLiteralsAndLocalhost) {
  EXPECT_EQ(system_lookup("127.0.0.1", 2379), Addresses{"127.0.0.1"});
  EXPECT_EQ(system_lookup("[::1]", 2379), Addresses{"::1"});
  // localhost comes from /etc/hosts, so this needs no DNS server.
  const Addresses local = system_lookup("localhost", 2379);
  ASSERT_FALSE(local.empty());
  for (const auto& address : local) EXPECT_TRUE(is_numeric_host(address)) << address;
  EXPECT_EQ(std::set<std::string>(local.begin(), local.end()).size(), local.size());
}

TEST_F(DnsCacheTest, AsyncResolutionFillsTheCache) {
  dns.set("etcd1", {"10.0.0.1"});
  DnsCachingResolver resolver(options());
  EXPECT_TRUE(resolver.cached("etcd1", 2379).empty());
  resolver.resolve_async("etcd1", 2379);
  ASSERT_TRUE(resolver.wait_until_idle(kLimit));
  EXPECT_EQ(resolver.cached("etcd1", 2379), Addresses{"10.0.0.1"});
  EXPECT_EQ(resolver.resolve("etcd1", 2379), Addresses{"10.0.0.1"});
  EXPECT_EQ(dns.calls("etcd1"), 1);
}

TEST_F(DnsCacheTest, AsyncResolutionRequeuesEmptyAnswersTenTimes) {
  DnsCachingResolver resolver(options());
  resolver.resolve_async("nowhere", 2379);
  ASSERT_TRUE(resolver.wait_until_idle(kLimit));
  EXPECT_EQ(dns.calls("nowhere"), 11);  // the first attempt and 10 more
  EXPECT_TRUE(resolver.cached("nowhere", 2379).empty());
}

TEST_F(DnsCacheTest, AsyncResolutionSucceedsAfterEmptyAnswers) {
  dns.set("etcd1", {"10.0.0.1"});
  dns.fail_next("etcd1", 3);
  DnsCachingResolver resolver(options());
  resolver.resolve_async("etcd1", 2379);
  ASSERT_TRUE(resolver.wait_until_idle(kLimit));
  EXPECT_EQ(dns.calls("etcd1"), 4);
  EXPECT_EQ(resolver.cached("etcd1", 2379), Addresses{"10.0.0.1"});
}

TEST_F(DnsCacheTest, AsyncFailureKeepsTheOldAnswer) {
  dns.set("etcd1", {"10.0.0.1"});
  DnsCachingResolver::Options o = options();
  o.max_retries = 2;
  DnsCachingResolver resolver(o);
  resolver.resolve("etcd1", 2379);
  dns.forget("etcd1");
  resolver.resolve_async("etcd1", 2379);
  ASSERT_TRUE(resolver.wait_until_idle(kLimit));
  EXPECT_EQ(dns.calls("etcd1"), 4);  // the sync lookup, then 1 + max_retries
  EXPECT_EQ(resolver.cached("etcd1", 2379), Addresses{"10.0.0.1"});
}

TEST_F(DnsCacheTest, BackgroundThreadRefreshesAnswersBeforeTheyExpire) {
  dns.set("etcd1", {"10.0.0.1"});
  DnsCachingResolver::Options o = options();
  o.check_interval = 2ms;
  DnsCachingResolver resolver(o);
  resolver.resolve("etcd1", 2379);
  dns.set("etcd1", {"10.0.0.2"});
  clock.advance(545s);  // within refresh_ahead (60 s) of the 600 s expiry
  ASSERT_TRUE(eventually([&] { return resolver.cached("etcd1", 2379) == Addresses{"10.0.0.2"}; }));
  ASSERT_TRUE(resolver.wait_until_idle(kLimit));
  EXPECT_EQ(dns.calls("etcd1"), 2);
  // Refreshed in the background at 545 s: still fresh at 601 s, so no lookup on the caller.
  clock.advance(56s);
  EXPECT_EQ(resolver.resolve("etcd1", 2379), Addresses{"10.0.0.2"});
  EXPECT_EQ(dns.calls("etcd1"), 2);
}

TEST_F(DnsCacheTest, BackgroundThreadLeavesFailedNamesAlone) {
  DnsCachingResolver::Options o = options();
  o.check_interval = 2ms;
  DnsCachingResolver resolver(o);
  resolver.resolve("nowhere", 2379);
  dns.set("etcd1", {"10.0.0.1"});
  resolver.resolve("etcd1", 2379);
  clock.advance(3600s);
  // Proof the thread ran a refresh pass after the clock moved: the good name was refreshed.
  ASSERT_TRUE(eventually([&] { return dns.calls("etcd1") >= 2; }));
  EXPECT_EQ(dns.calls("nowhere"), 1);
}

TEST_F(DnsCacheTest, BackgroundThreadSurvivesAThrowingLookup) {
  DnsCachingResolver::Options o = options();
  o.max_retries = 0;
  o.lookup = [inner = dns.fn()](const std::string& host, int port) -> Addresses {
    if (host == "bad") throw 42;  // not even a std::exception
    return inner(host, port);
  };
  dns.set("good", {"10.0.0.1"});
  DnsCachingResolver resolver(o);
  resolver.resolve_async("bad", 2379);
  resolver.resolve_async("good", 2379);
  ASSERT_TRUE(resolver.wait_until_idle(kLimit));
  EXPECT_TRUE(resolver.cached("bad", 2379).empty());
  EXPECT_EQ(resolver.cached("good", 2379), Addresses{"10.0.0.1"});
  EXPECT_TRUE(resolver.resolve("bad", 2379).empty());  // and resolve() reports it as a failure
}

TEST_F(DnsCacheTest, DestructionDoesNotWaitForQueuedRetries) {
  DnsCachingResolver::Options o = options();
  o.retry_pause = std::chrono::hours(1);
  auto resolver = std::make_unique<DnsCachingResolver>(o);
  resolver->resolve_async("nowhere", 2379);
  ASSERT_TRUE(eventually([&] { return dns.calls("nowhere") == 1; }));
  // The retry is an hour away; the destructor must not wait for it.
  auto done = std::async(std::launch::async, [&] { resolver.reset(); });
  EXPECT_EQ(done.wait_for(kLimit), std::future_status::ready);
  done.get();
  EXPECT_EQ(dns.calls("nowhere"), 1);
}

TEST_F(DnsCacheTest, DestructionWaitsForTheRunningLookupOnly) {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false;
  bool released = false;
  DnsCachingResolver::Options o = options();
  o.lookup = [&](const std::string&, int) {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, kLimit, [&] { return released; });
    return Addresses{"10.0.0.1"};
  };
  auto resolver = std::make_unique<DnsCachingResolver>(o);
  resolver->resolve_async("slow", 2379);
  resolver->resolve_async("queued-behind", 2379);
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, kLimit, [&] { return entered; }));
    entered = false;
  }
  auto done = std::async(std::launch::async, [&] { resolver.reset(); });
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  cv.notify_all();
  EXPECT_EQ(done.wait_for(kLimit), std::future_status::ready);
  done.get();
  std::lock_guard lock(mutex);
  // Whether the destructor got in before the second job started is up to the scheduler, but it
  // never gets stuck on it: the lookup above returns at once once released.
  EXPECT_TRUE(released);
}

TEST_F(DnsCacheTest, ConcurrentUseIsSafe) {
  dns.set("a", {"10.0.0.1"});
  dns.set("b", {"10.0.0.2", "fd00::2"});
  DnsCachingResolver::Options o = options();
  o.check_interval = 1ms;
  DnsCachingResolver resolver(o);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string host = (i + t) % 2 == 0 ? "a" : "b";
        const Addresses expected = host == "a" ? Addresses{"10.0.0.1"} : Addresses{"10.0.0.2", "fd00::2"};
        switch ((i + t) % 5) {
          case 0: {
            if (resolver.resolve(host, 2379) != expected) ++bad;
            break;
          }
          case 1: {
            const Addresses got = resolver.cached(host, 2379);
            if (!got.empty() && got != expected) ++bad;
            break;
          }
          case 2:
            resolver.resolve_async(host, 2379);
            break;
          case 3:
            resolver.remove(host, 2379);
            break;
          default:
            resolver.curl_resolve_entry(host, 2379);
            clock.advance(100s);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(resolver.wait_until_idle(kLimit));
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(dns.total_calls(), 0);
}

}  // namespace
}  // namespace dcs::net
