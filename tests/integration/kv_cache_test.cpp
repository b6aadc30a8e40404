// The watcher cache against real etcd: another client's writes reach get_cluster without any
// range request, a process reads its own writes at once, watch() wakes for exactly the changes of
// spec 5.4, and on a three-member cluster the cache survives the loss (SIGKILL) or freeze
// (SIGSTOP) of the member its stream is on — rebuilt on another member within its bound, never
// serving data older than that bound, and losing no key written (and compacted) meanwhile.
#include <signal.h>

#include <regex>

#include "dcs/etcd3/etcd3.hpp"
#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kTtl{6};  // probe interval 1 s, staleness bound 2 s

Etcd3Options member_options(std::vector<std::string> endpoints, const std::string& scope, const std::string& name) {
  Etcd3Options options;
  options.endpoints = std::move(endpoints);
  options.namespace_ = "/itest-cache/";
  options.scope = scope;
  options.name = name;
  options.ttl = kTtl;
  options.loop_wait = 2s;
  options.retry_timeout = 4s;
  options.startup_timeout = 10s;
  return options;
}

std::string scope_name() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// How many Range calls the member has served (etcd's gRPC server metrics; the JSON gateway goes
// through them too).
long ranges_served(const std::string& endpoint) {
  const auto metrics = dcs::testing::http_get(endpoint + "/metrics");
  static const std::regex line(R"re(grpc_server_started_total\{grpc_method="Range"[^}]*\} (\d+))re");
  std::smatch match;
  if (!std::regex_search(metrics.body, match, line)) return 0;
  return std::stol(match[1]);
}

class KVCacheSingle : public EtcdTest {
 protected:
  std::unique_ptr<Etcd3> member(const std::string& name) {
    return std::make_unique<Etcd3>(member_options({etcd().endpoint()}, scope_name(), name));
  }
  void put_raw(const std::string& key, const std::string& value, std::int64_t lease = 0) { put(key, value, lease); }
};

TEST_F(KVCacheSingle, AnotherClientsWritesReachGetClusterWithoutARangeRequest) {
  auto b = member("b");
  ASSERT_TRUE(eventually([&] { return b->kv_cache()->ready(); }));
  b->get_cluster();
  const long before = ranges_served(etcd().endpoint());

  put_raw(b->leader_path(), "a");
  put_raw(b->members_path() + "a", R"({"role":"primary","state":"running"})");
  ASSERT_TRUE(eventually([&] { return b->get_cluster()->leader_name() == "a"; }));
  EXPECT_TRUE(eventually([&] { return b->get_cluster()->has_member("a"); }));
  EXPECT_EQ(b->get_cluster()->leader->member->role(), "primary") << "the leader's member follows its key";
  EXPECT_EQ(ranges_served(etcd().endpoint()), before) << "no range request was sent";
  EXPECT_EQ(b->kv_cache()->health().rebuilds, 1u);
  EXPECT_GE(b->kv_cache()->health().events, 2u);
}

TEST_F(KVCacheSingle, AProcessReadsItsOwnWritesAtOnce) {
  auto a = member("a");
  ASSERT_TRUE(eventually([&] { return a->kv_cache()->ready(); }));
  for (int i = 0; i < 20; ++i) {
    const std::string config = R"({"ttl":)" + std::to_string(10 + i) + "}";
    ASSERT_TRUE(a->set_config_value(config));
    ASSERT_TRUE(a->get_cluster()->config);
    EXPECT_EQ(a->get_cluster()->config->data.value("ttl", 0), 10 + i) << "write " << i;
  }
  ASSERT_TRUE(a->touch_member({{"state", "running"}}));
  EXPECT_TRUE(a->get_cluster()->has_member("a"));
  ASSERT_TRUE(a->attempt_to_acquire_leader());
  EXPECT_EQ(a->get_cluster()->leader_name(), "a");
  // (Counters are not asserted: the stream's event may beat the response to the cache.)
}

TEST_F(KVCacheSingle, WatchWakesForALeaderChangeOnlyAndPromptly) {
  auto b = member("b");
  ASSERT_TRUE(eventually([&] { return b->kv_cache()->ready(); }));
  const auto lease1 = client().lease_grant(30).id;
  const auto lease2 = client().lease_grant(30).id;
  put_raw(b->leader_path(), "a", lease1);
  ASSERT_TRUE(eventually([&] { return b->get_cluster()->leader_name() == "a"; }));
  while (b->watch(std::nullopt, 50ms)) {
  }

  // Changes it must sleep through: the same leader under a new lease, ignored keys.
  put_raw(b->leader_path(), "a", lease2);
  put_raw(b->members_path() + "a", "{}");
  put_raw(b->sync_path(), R"({"leader":"a","sync_standby":null})");
  ASSERT_TRUE(
      eventually([&] { return b->get_cluster()->leader->session == lease2 && b->get_cluster()->has_member("a"); }));
  EXPECT_FALSE(b->watch(std::nullopt, 300ms));

  // Another holder: watch() returns long before its timeout.
  std::thread writer([&] {
    std::this_thread::sleep_for(200ms);
    put_raw(b->leader_path(), "c", lease1);
  });
  const auto started = Clock::now();
  EXPECT_TRUE(b->watch(std::nullopt, 10s));
  EXPECT_LT(Clock::now() - started, 5s) << "hang check only";
  writer.join();
  EXPECT_EQ(b->get_cluster()->leader_name(), "c");
}

TEST_F(KVCacheSingle, DestroyingAnEtcd3WhileItsStreamIsBlockedReturnsPromptly) {
  auto a = member("a");
  ASSERT_TRUE(eventually([&] { return a->kv_cache()->ready(); }));
  const auto started = Clock::now();
  a.reset();
  EXPECT_LT(Clock::now() - started, 1s) << "hang check only";
}

TEST_F(KVCacheSingle, TheProbeIntervalFollowsTheTtl) {
  auto b = member("b");
  ASSERT_TRUE(eventually([&] { return b->kv_cache()->ready(); }));
  EXPECT_EQ(b->kv_cache()->probe_interval(), 1s) << "a sixth of the ttl of 6 s";
  b->set_ttl(24s);
  EXPECT_EQ(b->kv_cache()->probe_interval(), 4s);
  EXPECT_EQ(b->kv_cache()->staleness_bound(), 8s);
  b->set_ttl(120s);
  EXPECT_EQ(b->kv_cache()->probe_interval(), 5s) << "at most 5 s";
  b->set_ttl(6s);
  EXPECT_EQ(b->kv_cache()->probe_interval(), 1s);
  // The running stream was re-opened on each change, the cache ready throughout.
  EXPECT_TRUE(eventually([&] { return b->kv_cache()->health().streams >= 4; }));
  EXPECT_TRUE(b->kv_cache()->ready());
  EXPECT_EQ(b->kv_cache()->health().rebuilds, 1u);
  put(b->leader_path(), "a");
  EXPECT_TRUE(eventually([&] { return b->get_cluster()->leader_name() == "a"; }));
}

TEST_F(KVCacheSingle, PatronictlModeHasNoCache) {
  auto options = member_options({etcd().endpoint()}, scope_name(), "");
  options.patronictl = true;
  Etcd3 ctl(options);
  EXPECT_EQ(ctl.kv_cache(), nullptr);
  put_raw(ctl.leader_path(), "a");
  EXPECT_EQ(ctl.get_cluster()->leader_name(), "a");
}

// --- three members ---------------------------------------------------------------------------

class KVCacheCluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dcs::testing::EtcdProcess::Options options;
    options.members = 3;
    etcd_ = std::make_unique<dcs::testing::EtcdProcess>(options);
  }
  static void TearDownTestSuite() { etcd_.reset(); }
  void TearDown() override { etcd_->restart_stopped(); }

  std::size_t member_index(const std::string& endpoint) const {
    for (std::size_t i = 0; i < etcd_->size(); ++i) {
      if (etcd_->endpoint(i) == endpoint) return i;
    }
    ADD_FAILURE() << "unknown endpoint " << endpoint;
    return 0;
  }

  // A writer on the members other than `avoid`.
  std::unique_ptr<Etcd3Client> writer_avoiding(std::size_t avoid) {
    std::vector<std::string> others;
    for (std::size_t i = 0; i < etcd_->size(); ++i) {
      if (i != avoid) others.push_back(etcd_->endpoint(i));
    }
    auto options = client_options(others);
    options.use_proxies = true;  // keep off the stopped member
    return std::make_unique<Etcd3Client>(options);
  }

  // Repeated while the cluster elects a new raft leader (a plain put is never re-sent by the
  // client itself when its outcome is unknown; these writes may be applied twice).
  template <typename Call>
  static auto persist(Call&& call) -> decltype(call()) {
    const auto give_up = Clock::now() + kWaitBound;
    for (;;) {
      try {
        return call();
      } catch (const EtcdException&) {
        if (Clock::now() > give_up) throw;
      }
    }
  }
  static std::int64_t put_with(Etcd3Client& client, const std::string& key, const std::string& value) {
    PutRequest request;
    request.key = key;
    request.value = value;
    return persist([&] { return client.put(request); }).header.revision;
  }

  // Loses one member the cache's stream is on (`signal`), writes and compacts meanwhile, and
  // checks the cache is back on another member within its bound with every key, never having
  // served a view older than the bound.
  void survive(int signal) {
    Etcd3 b(member_options(etcd_->endpoints(), scope_name(), "b"));
    ASSERT_TRUE(eventually([&] { return b.kv_cache()->ready(); }));
    const auto bound = b.kv_cache()->staleness_bound();
    const auto watched = member_index(b.kv_cache()->health().endpoint);
    auto writer = writer_avoiding(watched);
    for (int i = 0; i < 5; ++i) put_with(*writer, b.members_path() + "m" + std::to_string(i), "{}");
    ASSERT_TRUE(eventually([&] { return b.get_cluster()->members.size() == 5; }));

    etcd_->signal(watched, signal);
    // Changes the cache has not seen, then a compaction past them: the cache must relist.
    put_with(*writer, b.leader_path(), "new");
    const auto written = Clock::now();
    DeleteRangeRequest del;
    del.key = b.members_path() + "m0";
    persist([&] { return writer->delete_range(del); });
    for (int i = 5; i < 8; ++i) put_with(*writer, b.members_path() + "m" + std::to_string(i), "{}");
    CompactionRequest compact;
    compact.revision = put_with(*writer, b.config_path(), R"({"ttl":6})");
    persist([&] { return writer->compact(compact); });

    // Until the cache has the new leader, every view it serves must be from within the bound.
    std::shared_ptr<const Cluster> view;
    const auto give_up = Clock::now() + 30s;
    while (Clock::now() < give_up) {
      try {
        view = b.get_cluster();
      } catch (const DCSError&) {
        view.reset();  // not ready: refusing is fine
      }
      if (view && view->leader_name() == "new") break;
      if (view) {
        EXPECT_LE(Clock::now() - written, bound + 500ms) << "a view older than the staleness bound was served";
      }
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(view && view->leader_name() == "new") << b.kv_cache()->health().last_error;
    EXPECT_LT(Clock::now() - written, std::chrono::duration_cast<std::chrono::milliseconds>(kTtl) + 2s)
        << "rebuilt on another member within the ttl";
    EXPECT_NE(member_index(b.kv_cache()->health().endpoint), watched);
    EXPECT_FALSE(view->has_member("m0"));
    EXPECT_EQ(view->members.size(), 7u) << "m1..m7";
    ASSERT_TRUE(view->config);
    EXPECT_EQ(view->config->data.value("ttl", 0), 6);
    EXPECT_GE(b.kv_cache()->health().rebuilds, 2u);
    if (signal == SIGSTOP) {
      EXPECT_GE(b.kv_cache()->health().silent_endpoints, 1u) << "the frozen member was found by its silence";
    }

    // And it keeps following the cluster from there.
    put_with(*writer, b.leader_path(), "newer");
    EXPECT_TRUE(eventually([&] { return b.get_cluster()->leader_name() == "newer"; }));
  }

  inline static std::unique_ptr<dcs::testing::EtcdProcess> etcd_;
};

TEST_F(KVCacheCluster, SurvivesTheLossOfItsMember) {
  survive(SIGKILL);
}

TEST_F(KVCacheCluster, SurvivesAFrozenMember) {
  survive(SIGSTOP);
}

}  // namespace
}  // namespace dcs::itest
