// A real three-member etcd cluster: membership as every member sees it, and the EtcdProcess
// controls (signal, restart) the failover tests build on.
#include <csignal>
#include <map>
#include <set>

#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

class EtcdClusterTest : public EtcdTest {
 protected:
  static void SetUpTestSuite() {
    EtcdProcess::Options options;
    options.members = 3;
    start_etcd(std::move(options));
  }

  void TearDown() override {
    // Leave every member running for the next test.
    if (!etcd_) return;
    for (std::size_t i = 0; i < etcd().size(); ++i) {
      if (etcd().running(i)) {
        etcd().signal(i, SIGCONT);
      } else {
        etcd().restart(i);
      }
    }
  }

  std::unique_ptr<Etcd3Client> client_for(std::size_t member,
                                          std::chrono::seconds retry_timeout = std::chrono::seconds{10}) {
    return std::make_unique<Etcd3Client>(client_options({etcd().endpoint(member)}, retry_timeout));
  }

  /// A member other than member 0 (the one the fixture's client talks to) that is not the leader.
  std::size_t follower() {
    const std::uint64_t leader = client().status().leader;
    EXPECT_NE(leader, 0u);
    std::map<std::string, std::uint64_t> ids;
    for (const auto& member : client().member_list().members) ids[member.name] = member.id;
    for (std::size_t i = 1; i < etcd().size(); ++i) {
      if (ids.at(etcd().name(i)) != leader) return i;
    }
    ADD_FAILURE() << "no follower found";
    return 1;
  }
};

TEST_F(EtcdClusterTest, EveryMemberSeesTheSameThreeMemberCluster) {
  ASSERT_EQ(etcd().size(), 3u);
  std::set<std::uint64_t> cluster_ids;
  std::set<std::uint64_t> leaders;
  for (std::size_t i = 0; i < etcd().size(); ++i) {
    auto member_client = client_for(i);
    const MemberListResponse list = member_client->member_list();
    ASSERT_EQ(list.members.size(), 3u);
    std::map<std::string, std::vector<std::string>> urls;
    for (const auto& member : list.members) urls[member.name] = member.client_urls;
    for (std::size_t j = 0; j < etcd().size(); ++j) {
      EXPECT_EQ(urls[etcd().name(j)], (std::vector<std::string>{etcd().endpoint(j)})) << etcd().name(j);
    }
    cluster_ids.insert(list.header.cluster_id);
    const StatusResponse status = member_client->status();
    leaders.insert(status.leader);
    EXPECT_TRUE(status.errors.empty());
  }
  EXPECT_EQ(cluster_ids.size(), 1u);
  ASSERT_EQ(leaders.size(), 1u);
  EXPECT_NE(*leaders.begin(), 0u);
}

TEST_F(EtcdClusterTest, WritesThroughOneMemberAreReadThroughAnother) {
  put(key("k"), "v");
  auto other = client_for(2);
  RangeRequest request;
  request.key = key("k");
  const RangeResponse read = other->range(request);
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "v");
}

TEST_F(EtcdClusterTest, KilledFollowerIsRefusedAndRejoinsAfterRestart) {
  const std::size_t victim = follower();
  put(key("before"), "1");

  etcd().signal(victim, SIGKILL);
  EXPECT_FALSE(etcd().running(victim));
  EXPECT_EQ(etcd().pid(victim), -1);

  put(key("during"), "2");  // two of three members: still a quorum
  auto victim_client = client_for(victim, std::chrono::seconds{2});
  try {
    victim_client->member_list();
    FAIL() << "a killed member answered";
  } catch (const EtcdConnectionFailed& e) {
    EXPECT_FALSE(e.request_sent());
  }

  etcd().restart(victim);
  EXPECT_TRUE(etcd().running(victim));
  auto rejoined = client_for(victim);
  RangeRequest request;
  request.key = key("during");
  const bool caught_up = eventually([&] {
    try {
      const RangeResponse read = rejoined->range(request);
      return read.kvs.size() == 1 && read.kvs[0].value == "2";
    } catch (const EtcdException&) {
      return false;
    }
  });
  EXPECT_TRUE(caught_up) << "the restarted member never served the write made while it was down";
  EXPECT_EQ(client().member_list().members.size(), 3u);
}

TEST_F(EtcdClusterTest, StoppedFollowerDoesNotBlockTheOthers) {
  const std::size_t victim = follower();
  etcd().signal(victim, SIGSTOP);
  EXPECT_TRUE(etcd().running(victim));  // stopped, not gone

  put(key("while-stopped"), "1");
  EXPECT_EQ(get(key("while-stopped")).kvs.size(), 1u);

  etcd().signal(victim, SIGCONT);
  auto resumed = client_for(victim);
  const bool writable = eventually([&] {
    try {
      resumed->put(PutRequest{key("after"), "2", 0, false, false, false});
      return true;
    } catch (const EtcdException&) {
      return false;
    }
  });
  EXPECT_TRUE(writable) << "the resumed member never accepted a write";
  EXPECT_EQ(get(key("after")).kvs.size(), 1u);
}

TEST_F(EtcdClusterTest, ClusterSurvivesAFullRestartOfOneMemberWithSigterm) {
  const std::size_t victim = follower();
  etcd().signal(victim, SIGTERM);
  EXPECT_FALSE(etcd().running(victim));
  etcd().restart(victim);
  auto restarted = client_for(victim);
  EXPECT_EQ(restarted->member_list().members.size(), 3u);
}

}  // namespace
}  // namespace dcs::itest
