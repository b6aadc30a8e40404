// The watcher cache under load and churn, against real etcd (meant to run under the sanitizers):
// - three writer clients issuing puts and deletes as fast as they can over the member, config,
//   leader and status keys while the HA thread hammers get_cluster() and watch(): once the cache
//   has caught up with etcd's revision its snapshot equals a direct read of the prefix, so no
//   update was lost or applied out of order (ThreadSanitizer: the reader and the watcher share
//   the store);
// - an Etcd3 (and its watcher thread) started and destroyed 500 times against one etcd: every
//   destruction returns, no thread outlives its Etcd3 (AddressSanitizer: nothing leaks).
#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <variant>

#include "dcs/etcd3/etcd3.hpp"
#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Etcd3Options cache_options(const std::string& endpoint, const std::string& scope, const std::string& name) {
  Etcd3Options options;
  options.endpoints = {endpoint};
  options.namespace_ = "/itest-cache-stress/";
  options.scope = scope;
  options.name = name;
  options.ttl = 6s;
  options.loop_wait = 2s;
  options.retry_timeout = 4s;
  options.startup_timeout = 10s;
  return options;
}

std::string test_name() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// Threads of this process right now.
std::size_t thread_count() {
  std::size_t count = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
  }
  return count;
}

// The cluster as etcd holds it now, built the way the cache builds it (keys relative to the
// cluster path).
Cluster direct_read(Etcd3Client& client, const std::string& cluster_path, std::int64_t* revision) {
  const auto listed = client.range(RangeRequest::with_prefix(cluster_path));
  std::vector<StoredKey> keys;
  for (const auto& kv : listed.kvs) {
    keys.push_back({kv.key.substr(cluster_path.size()), kv.value, kv.mod_revision, kv.lease});
  }
  *revision = listed.header.revision;
  return Cluster::from_keys(keys);
}

using KVCacheStress = EtcdTest;

TEST_F(KVCacheStress, HammeredCacheEndsEqualToEtcdWithNoUpdateLostOrReordered) {
  Etcd3 ha(cache_options(etcd().endpoint(), test_name(), "ha"));
  ASSERT_TRUE(eventually([&] { return ha.kv_cache()->ready(); }));
  const std::string cluster_path = ha.client_path("");

  // The writers: each its own client and a fixed seed, a mix of puts and deletes over the keys
  // the HA loop reads (and wakes for). Most requests are transactions of several operations on
  // distinct keys: many events per request (several per revision, in one watch message), and a
  // few writers at once (etcd commits their requests together) make thousands of events per
  // second even under the sanitizers on a busy machine.
  constexpr int kWriters = 3;
  std::atomic<int> writing{kWriters};
  std::atomic<long> operations{0};
  std::atomic<std::int64_t> last_revision{0};
  std::vector<std::exception_ptr> writer_errors(kWriters);
  const auto write = [&](int writer) {
    try {
      Etcd3Client own(client_options({etcd().endpoint()}));
      std::mt19937 random(20261126 + writer);
      std::vector<std::string> keys = {"leader",    "config",    "status",    "optime/leader", "failover",
                                       "members/a", "members/b", "members/c", "members/d",     "members/e",
                                       "members/f", "members/g", "members/h"};
      const auto value_for = [&](const std::string& key, long i) -> std::string {
        if (key == "leader") return "m" + std::to_string(i % 7);
        if (key == "config") return R"({"ttl":)" + std::to_string(10 + i % 50) + "}";
        if (key == "status" || key == "optime/leader") return R"({"optime":)" + std::to_string(i) + "}";
        if (key == "failover") return R"({"leader":"m)" + std::to_string(i % 7) + R"("})";
        return R"({"state":"running","role":"replica","xlog_location":)" + std::to_string(i) + "}";
      };
      const auto stop_at = Clock::now() + 3s;
      for (long i = 0; Clock::now() < stop_at; ++i) {
        std::shuffle(keys.begin(), keys.end(), random);
        const std::size_t ops = i % 4 == 0 ? 1 : 4 + random() % 7;
        std::vector<RequestOp> batch;
        for (std::size_t k = 0; k < ops; ++k) {
          const std::string key = cluster_path + keys[k];
          if (random() % 5 == 0) {
            DeleteRangeRequest del;
            del.key = key;
            batch.push_back({del});
          } else {
            PutRequest put;
            put.key = key;
            put.value = value_for(keys[k], i);
            batch.push_back({put});
          }
        }
        std::int64_t revision = 0;
        if (batch.size() == 1) {
          if (const auto* put = std::get_if<PutRequest>(&batch[0].request)) {
            revision = own.put(*put).header.revision;
          } else {
            revision = own.delete_range(std::get<DeleteRangeRequest>(batch[0].request)).header.revision;
          }
        } else {
          TxnRequest txn;
          txn.success = std::move(batch);
          revision = own.txn(txn).header.revision;
        }
        for (auto seen = last_revision.load();
             seen < revision && !last_revision.compare_exchange_weak(seen, revision);) {
        }
        operations += static_cast<long>(ops);
      }
    } catch (...) {
      writer_errors[static_cast<std::size_t>(writer)] = std::current_exception();
    }
    --writing;
  };
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) writers.emplace_back(write, w);

  // The HA thread: reads and short watches, and checks what it sees never goes back in time.
  long reads = 0;
  std::int64_t seen_revision = 0;
  while (writing > 0) {
    const auto cluster = ha.get_cluster();
    ASSERT_NE(cluster, nullptr);
    ++reads;
    const auto health = ha.kv_cache()->health();
    EXPECT_GE(health.revision, seen_revision) << "the cache's revision went backwards";
    seen_revision = health.revision;
    if (reads % 16 == 0) ha.watch(std::nullopt, 1ms);
  }
  for (auto& w : writers) w.join();
  for (const auto& error : writer_errors) {
    if (error) std::rethrow_exception(error);
  }
  ASSERT_GT(operations.load(), 1000) << "the writers barely ran";

  // Caught up: the cache holds exactly what etcd holds.
  ASSERT_TRUE(eventually([&] { return ha.kv_cache()->health().revision >= last_revision.load(); }))
      << "cache at " << ha.kv_cache()->health().revision << ", etcd at " << last_revision.load()
      << "; last error: " << ha.kv_cache()->health().last_error;
  std::int64_t etcd_revision = 0;
  const Cluster expected = direct_read(client(), cluster_path, &etcd_revision);
  ASSERT_EQ(etcd_revision, last_revision.load()) << "nobody else writes";
  const auto cached = ha.get_cluster();
  EXPECT_TRUE(*cached == expected) << "the cached snapshot differs from etcd after " << operations.load()
                                   << " operations";
  EXPECT_TRUE(*ha.kv_cache()->snapshot() == expected);
  EXPECT_EQ(cached->leader_name(), expected.leader_name());
  EXPECT_EQ(cached->members.size(), expected.members.size());
  EXPECT_EQ(ha.kv_cache()->health().rebuilds, 1u)
      << "kept up without relisting: " << ha.kv_cache()->health().last_error;
  RecordProperty("operations", static_cast<int>(operations.load()));
  RecordProperty("reads", static_cast<int>(reads));
}

TEST_F(KVCacheStress, StartingAndStoppingAnEtcd3FiveHundredTimesLeavesNothingBehind) {
  auto options = cache_options(etcd().endpoint(), test_name(), "churn");
  options.ttl = 2s;  // the smallest lease etcd keeps; leases are left to expire
  options.loop_wait = 1s;
  options.retry_timeout = 2s;
  // One round first: whatever a process sets up once (curl's global state, resolver) is there.
  {
    Etcd3 warm(options);
    ASSERT_TRUE(eventually([&] { return warm.kv_cache()->ready(); }));
  }
  const std::size_t threads_before = thread_count();
  const auto started = Clock::now();
  for (int i = 0; i < 500; ++i) {
    auto dcs = std::make_unique<Etcd3>(options);
    // get_cluster waits for the first list (no polling): odd rounds stop before it, even ones
    // once the stream is being set up.
    if (i % 2 == 0) {
      ASSERT_NE(dcs->get_cluster(), nullptr) << "round " << i;
    }
    const auto stopping = Clock::now();
    dcs.reset();
    ASSERT_LT(Clock::now() - stopping, 2s) << "round " << i << ": destruction hangs (hang check only)";
  }
  // Threads end right after their join; a resolver thread of curl may still be winding down.
  EXPECT_TRUE(eventually([&] { return thread_count() <= threads_before; }, 5s))
      << thread_count() << " threads now, " << threads_before << " before";
  RecordProperty("seconds",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count()));
}

}  // namespace
}  // namespace dcs::itest
