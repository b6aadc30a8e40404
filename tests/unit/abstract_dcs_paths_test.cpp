// Key paths (spec 2.1): the same keys Patroni uses for a namespace, scope and Citus group.
#include <gtest/gtest.h>

#include "recording_dcs.hpp"

namespace dcs {
namespace {

using testing::RecordingDCS;
using testing::RecordingSetup;

TEST(AbstractDcsPaths, DefaultNamespace) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings());
  EXPECT_EQ(dcs.base_path(), "/service/demo");
  EXPECT_EQ(dcs.client_path(""), "/service/demo/");
  EXPECT_EQ(dcs.initialize_path(), "/service/demo/initialize");
  EXPECT_EQ(dcs.config_path(), "/service/demo/config");
  EXPECT_EQ(dcs.members_path(), "/service/demo/members/");
  EXPECT_EQ(dcs.member_path(), "/service/demo/members/node1");
  EXPECT_EQ(dcs.leader_path(), "/service/demo/leader");
  EXPECT_EQ(dcs.failover_path(), "/service/demo/failover");
  EXPECT_EQ(dcs.history_path(), "/service/demo/history");
  EXPECT_EQ(dcs.status_path(), "/service/demo/status");
  EXPECT_EQ(dcs.leader_optime_path(), "/service/demo/optime/leader");
  EXPECT_EQ(dcs.sync_path(), "/service/demo/sync");
  EXPECT_EQ(dcs.failsafe_path(), "/service/demo/failsafe");
  EXPECT_EQ(dcs.cluster_prefix(), "/service/demo/");
  EXPECT_EQ(dcs.name(), "node1");
  EXPECT_EQ(dcs.scope(), "demo");
  EXPECT_FALSE(dcs.citus_group());
  EXPECT_FALSE(dcs.is_citus_coordinator());
}

TEST(AbstractDcsPaths, NamespaceSlashesCollapse) {
  RecordingSetup setup;
  for (const auto& [ns, base] : std::vector<std::pair<std::string, std::string>>{
           {"/patroni/", "/patroni/test"}, {"patroni", "/patroni/test"}, {"//a//b//", "/a/b/test"}, {"", "/test"}}) {
    auto settings = setup.settings();
    settings.namespace_ = ns;
    settings.scope = "test";
    RecordingDCS dcs(settings);
    EXPECT_EQ(dcs.base_path(), base) << ns;
    EXPECT_EQ(dcs.leader_path(), base + "/leader") << ns;
  }
}

TEST(AbstractDcsPaths, ClientPathStripsLeadingSlashesOnly) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings());
  EXPECT_EQ(dcs.client_path("///members/x"), "/service/demo/members/x");
  EXPECT_EQ(dcs.client_path("a//b/"), "/service/demo/a//b/");
}

TEST(AbstractDcsPaths, CitusWorkerGroupIsAPathComponent) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings(1));
  EXPECT_EQ(dcs.leader_path(), "/service/demo/1/leader");
  EXPECT_EQ(dcs.member_path(), "/service/demo/1/members/node1");
  EXPECT_EQ(dcs.cluster_prefix(), "/service/demo/1/");
  EXPECT_FALSE(dcs.is_citus_coordinator());
}

TEST(AbstractDcsPaths, CitusCoordinatorWatchesEveryGroup) {
  RecordingSetup setup;
  RecordingDCS dcs(setup.settings(0));
  EXPECT_TRUE(dcs.is_citus_coordinator());
  EXPECT_EQ(dcs.leader_path(), "/service/demo/0/leader");
  EXPECT_EQ(dcs.cluster_prefix(), "/service/demo/");
}

}  // namespace
}  // namespace dcs
