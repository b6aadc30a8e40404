// get_cluster and the cached view: what is read, how long the view lives, what an unreachable
// store does to it, Citus coordinator and worker reads.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "dcs/errors.hpp"
#include "recording_dcs.hpp"

namespace dcs {
namespace {

using namespace std::chrono_literals;
using testing::RecordingDCS;
using testing::RecordingSetup;

TEST(AbstractDcsCluster, ReadsTheClusterPrefixWithKeysMadeRelative) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings());
  dcs.set_keys({
      {"/service/demo/leader", "node1", 5, 7},
      {"/service/demo/members/node1", R"({"role":"primary"})", 4, 7},
      {"/service/demo2/leader", "intruder", 6, 0},  // outside the prefix: ignored
  });
  const auto cluster = dcs.get_cluster();
  EXPECT_EQ(dcs.load_prefixes(), std::vector<std::string>{"/service/demo/"});
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->leader_name(), "node1");
  EXPECT_EQ(cluster->leader->member->version, 4);
  EXPECT_EQ(cluster->members.size(), 1u);
}

TEST(AbstractDcsCluster, ViewLivesForTtlOnTheInjectedClock) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings());
  EXPECT_FALSE(dcs.cluster());
  const auto cluster = dcs.get_cluster();
  EXPECT_EQ(dcs.cluster(), cluster);
  setup.clock->advance(29s);
  EXPECT_EQ(dcs.cluster(), cluster);
  setup.clock->advance(1s);
  EXPECT_FALSE(dcs.cluster());
  // The snapshot itself stays valid for whoever holds it.
  EXPECT_TRUE(cluster->is_empty());
}

TEST(AbstractDcsCluster, ResetDropsTheView) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings());
  dcs.get_cluster();
  dcs.reset_cluster();
  EXPECT_FALSE(dcs.cluster());
}

TEST(AbstractDcsCluster, UnreachableStoreDropsTheViewAndThrowsDcsError) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings());
  dcs.get_cluster();
  ASSERT_TRUE(dcs.cluster());
  dcs.fail_loads_with(std::make_exception_ptr(DCSError("Etcd is not responding properly")));
  try {
    dcs.get_cluster();
    FAIL() << "get_cluster should throw";
  } catch (const DCSError& e) {
    EXPECT_STREQ(e.what(), "Etcd is not responding properly");
  }
  EXPECT_FALSE(dcs.cluster());
}

TEST(AbstractDcsCluster, UnexpectedExceptionBecomesDcsError) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings());
  dcs.get_cluster();
  dcs.fail_loads_with(std::make_exception_ptr(std::runtime_error("boom")));
  EXPECT_THROW(dcs.get_cluster(), DCSError);
  EXPECT_FALSE(dcs.cluster());
  // Other dcs::Error kinds (e.g. an unsupported etcd version) pass through unchanged.
  dcs.fail_loads_with(std::make_exception_ptr(ConfigError("etcd3.hosts", "bad")));
  EXPECT_THROW(dcs.get_cluster(), ConfigError);
}

TEST(AbstractDcsCluster, CitusCoordinatorReadsAllGroupsAndAttachesWorkers) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings(0));
  dcs.set_keys({
      {"/service/demo/0/leader", "coord", 3, 1},
      {"/service/demo/1/leader", "worker1", 4, 2},
      {"/service/demo/2/members/w2", "{}", 5, 3},
      {"/service/demo/config", "{}", 6, 0},  // no group component: ignored
  });
  const auto cluster = dcs.get_cluster();
  EXPECT_EQ(dcs.load_prefixes(), std::vector<std::string>{"/service/demo/"});
  EXPECT_EQ(cluster->leader_name(), "coord");
  EXPECT_FALSE(cluster->config);
  ASSERT_EQ(cluster->workers.size(), 2u);
  EXPECT_EQ(cluster->workers.at(1)->leader_name(), "worker1");
  EXPECT_EQ(cluster->workers.at(2)->members.at(0)->name, "w2");
}

TEST(AbstractDcsCluster, CitusWorkerReadsOnlyItsGroup) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings(2));
  dcs.set_keys({{"/service/demo/2/leader", "w", 1, 1}});
  EXPECT_EQ(dcs.get_cluster()->leader_name(), "w");
  EXPECT_EQ(dcs.load_prefixes(), std::vector<std::string>{"/service/demo/2/"});
}

TEST(AbstractDcsCluster, CitusWorkerReadsTheCoordinatorGroup) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings(2));
  dcs.set_keys({{"/service/demo/0/leader", "coord", 1, 1}, {"/service/demo/0/members/coord", "{}", 1, 1}});
  const auto coordinator = dcs.get_citus_coordinator();
  ASSERT_TRUE(coordinator);
  EXPECT_EQ(coordinator->leader_name(), "coord");
  EXPECT_EQ(coordinator->members.size(), 1u);
  EXPECT_EQ(dcs.load_prefixes(), std::vector<std::string>{"/service/demo/0/"});
  EXPECT_FALSE(dcs.cluster());  // not the worker's own view
}

TEST(AbstractDcsCluster, CoordinatorReadFailureIsLoggedAndNull) {
  RecordingSetup setup;
  auto settings = setup.settings(1);
  std::vector<std::pair<LogLevel, std::string>> logged;
  settings.log_sink = [&logged](LogLevel level, std::string_view, std::string_view message) {
    logged.emplace_back(level, std::string(message));
  };
  RecordingDCS dcs(settings);
  dcs.fail_loads_with(std::make_exception_ptr(DCSError("down")));
  EXPECT_FALSE(dcs.get_citus_coordinator());
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].first, LogLevel::error);
  EXPECT_NE(logged[0].second.find("down"), std::string::npos);
}

TEST(AbstractDcsCluster, TouchMemberSeesTheCachedViewWhileValid) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings());
  dcs.touch_member({{"state", "running"}});
  const auto cluster = dcs.get_cluster();
  dcs.touch_member({{"state", "running"}});
  setup.clock->advance(31s);
  dcs.touch_member({{"state", "running"}});
  EXPECT_EQ(dcs.touch_member_views, (std::vector<const Cluster*>{nullptr, cluster.get(), nullptr}));
}

TEST(AbstractDcsCluster, ConcurrentReadsAndWritesShareTheView) {
  // For ThreadSanitizer: readers, writers and get_cluster on several threads at once.
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings());
  dcs.set_keys({{"/service/demo/status", R"({"optime":1})", 1, 0}, {"/service/demo/leader", "node1", 2, 1}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&dcs, t] {
      for (int i = 0; i < 200; ++i) {
        if (t == 0) dcs.get_cluster();
        if (t == 1) dcs.write_status({{"optime", i}});
        if (t == 2) {
          if (const auto view = dcs.cluster()) {
            EXPECT_EQ(view->leader_name(), "node1");
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(dcs.cluster()->leader_name(), "node1");
}

}  // namespace
}  // namespace dcs
