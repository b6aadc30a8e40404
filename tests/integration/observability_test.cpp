// The metrics observer and Etcd3::health() against a real etcd: the cache turning ready (after its
// list) and its watch stream opening, the lease granted at start-up and, once etcd forgets it, lost
// and replaced; health() showing the endpoint, the ready cache and its age, the lease and its time
// to expiry, and the last error.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dcs/etcd3/etcd3.hpp"
#include "dcs/etcd3/metrics.hpp"
#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::seconds kTtl{3};

struct SeenState {
  StateChange change;
  std::string detail;
  std::int64_t value;
};

class RecordingObserver : public MetricsObserver {
 public:
  void on_request(const RequestEvent& e) override {
    std::lock_guard lock(mutex_);
    requests_.push_back({e.operation, e.outcome});
  }
  void on_state_change(const StateEvent& e) override {
    std::lock_guard lock(mutex_);
    states_.push_back({e.change, std::string(e.detail), e.value});
  }
  std::vector<SeenState> states() const {
    std::lock_guard lock(mutex_);
    return states_;
  }
  std::vector<SeenState> states(StateChange change) const {
    std::vector<SeenState> found;
    for (const auto& s : states()) {
      if (s.change == change) found.push_back(s);
    }
    return found;
  }
  bool saw_ok(Operation operation) const {
    std::lock_guard lock(mutex_);
    return std::any_of(requests_.begin(), requests_.end(),
                       [&](const auto& r) { return r.first == operation && r.second == RequestOutcome::ok; });
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<Operation, RequestOutcome>> requests_;
  std::vector<SeenState> states_;
};

class ObservabilityTest : public EtcdTest {
 protected:
  Etcd3Options member_options(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    Etcd3Options options;
    options.endpoints = {etcd().endpoint()};
    options.namespace_ = "/itest-observe/";
    options.scope = info->name();
    options.name = name;
    options.ttl = kTtl;
    options.loop_wait = 1s;
    options.retry_timeout = 2s;
    options.startup_timeout = 10s;
    options.use_proxies = true;  // the endpoint as given: the health check compares it
    options.metrics = observer;
    return options;
  }

  std::shared_ptr<RecordingObserver> observer = std::make_shared<RecordingObserver>();
};

TEST_F(ObservabilityTest, StartupGrantsALeaseAndTheCacheTurnsReadyAndHealthShowsBoth) {
  Etcd3 dcs(member_options("a"));
  const auto granted = observer->states(StateChange::lease_granted);
  ASSERT_EQ(granted.size(), 1u);
  EXPECT_EQ(granted[0].value, dcs.lease());
  EXPECT_NE(dcs.lease(), 0);
  EXPECT_TRUE(observer->saw_ok(Operation::lease_grant));

  ASSERT_TRUE(eventually([&] { return !observer->states(StateChange::cache_ready).empty(); }));
  const auto ready = observer->states(StateChange::cache_ready).front();
  EXPECT_EQ(ready.detail, etcd().endpoint());
  EXPECT_GT(ready.value, 0) << "the listed revision";
  const auto rebuilt = observer->states(StateChange::cache_rebuilt);
  ASSERT_FALSE(rebuilt.empty());
  EXPECT_EQ(rebuilt.front().value, ready.value);
  EXPECT_TRUE(observer->saw_ok(Operation::range)) << "the cache's list";
  ASSERT_TRUE(eventually([&] { return observer->saw_ok(Operation::watch_open); }));

  dcs.touch_member({{"state", "running"}});
  ASSERT_NE(dcs.get_cluster(), nullptr);
  const auto health = dcs.health();
  EXPECT_EQ(health.endpoint, etcd().endpoint());
  EXPECT_EQ(health.endpoints, std::vector<std::string>{etcd().endpoint()});
  ASSERT_TRUE(health.cache.has_value());
  EXPECT_TRUE(health.cache->ready);
  EXPECT_GE(health.cache->rebuilds, 1u);
  ASSERT_TRUE(health.cache_age.has_value());
  EXPECT_GE(health.cache_age->count(), 0);
  EXPECT_LT(*health.cache_age, std::chrono::milliseconds(kWaitBound));
  EXPECT_EQ(health.lease_id, dcs.lease());
  ASSERT_TRUE(health.lease_expires_in.has_value());
  EXPECT_GT(health.lease_expires_in->count(), 0);
  EXPECT_LE(*health.lease_expires_in, std::chrono::milliseconds(kTtl));
  EXPECT_FALSE(health.last_error.has_value());
  EXPECT_TRUE(observer->states(StateChange::lease_lost).empty());
  EXPECT_TRUE(observer->states(StateChange::endpoint_switched).empty());
}

TEST_F(ObservabilityTest, ALeaseEtcdForgotIsReportedLostAndReplaced) {
  Etcd3 dcs(member_options("a"));
  const std::int64_t first = dcs.lease();
  ASSERT_NE(first, 0);
  client().lease_revoke(first);  // as if it had expired while we were away

  EXPECT_TRUE(dcs.refresh_lease(/*force=*/true)) << "the keepalive finds it gone and a new one is granted";
  const std::int64_t second = dcs.lease();
  EXPECT_NE(second, 0);
  EXPECT_NE(second, first);
  const auto lost = observer->states(StateChange::lease_lost);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].value, first);
  const auto granted = observer->states(StateChange::lease_granted);
  ASSERT_EQ(granted.size(), 2u);
  EXPECT_EQ(granted[1].value, second);
  const auto health = dcs.health();
  EXPECT_EQ(health.lease_id, second);
  ASSERT_TRUE(health.lease_expires_in.has_value());
  EXPECT_GT(health.lease_expires_in->count(), 0);
}

TEST_F(ObservabilityTest, HealthWithoutCacheOrLeaseInPatronictlMode) {
  Etcd3Options options = member_options("");
  options.patronictl = true;
  Etcd3 dcs(options);
  ASSERT_NE(dcs.get_cluster(), nullptr);
  const auto health = dcs.health();
  EXPECT_EQ(health.endpoint, etcd().endpoint());
  EXPECT_FALSE(health.cache.has_value());
  EXPECT_FALSE(health.cache_age.has_value());
  EXPECT_EQ(health.lease_id, 0);
  EXPECT_FALSE(health.lease_expires_in.has_value());
  EXPECT_TRUE(observer->states(StateChange::lease_granted).empty());
  EXPECT_TRUE(observer->states(StateChange::cache_ready).empty());
  EXPECT_TRUE(observer->saw_ok(Operation::range));
}

TEST_F(ObservabilityTest, AStoppedEtcdShowsInTheLastErrorAndTheCacheTurnsNotReady) {
  // An etcd of this test's own: it is stopped.
  EtcdProcess own;
  Etcd3Options options = member_options("a");
  options.endpoints = {own.endpoint()};
  Etcd3 dcs(options);
  ASSERT_TRUE(eventually([&] { return !observer->states(StateChange::cache_ready).empty(); }));
  own.stop();
  // The stream breaks at once; a keepalive fails and becomes the last error.
  ASSERT_TRUE(eventually([&] { return !observer->states(StateChange::cache_not_ready).empty(); }));
  EXPECT_THROW(dcs.refresh_lease(true), Etcd3Error);
  const auto health = dcs.health();
  ASSERT_TRUE(health.last_error.has_value());
  EXPECT_EQ(health.last_error->endpoint, own.endpoint());
  ASSERT_TRUE(health.cache.has_value());
  EXPECT_FALSE(health.cache->ready);
}

}  // namespace
}  // namespace dcs::itest
