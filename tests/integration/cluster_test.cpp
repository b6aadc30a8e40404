// Cluster, maintenance and version calls against a real single-node etcd, plus the transport:
// refused connections and connection reuse.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using ClusterTest = EtcdTest;

TEST_F(ClusterTest, MemberListOfASingleNode) {
  const MemberListResponse list = client().member_list();
  ASSERT_EQ(list.members.size(), 1u);
  const EtcdMember& member = list.members[0];
  EXPECT_EQ(member.name, "n1");
  EXPECT_EQ(member.id, list.header.member_id);
  EXPECT_NE(list.header.cluster_id, 0u);
  EXPECT_EQ(member.client_urls, (std::vector<std::string>{etcd().endpoint()}));
  ASSERT_EQ(member.peer_urls.size(), 1u);
  EXPECT_EQ(member.peer_urls[0].rfind("http://127.0.0.1:", 0), 0u) << member.peer_urls[0];
  EXPECT_FALSE(member.is_learner);
}

TEST_F(ClusterTest, StatusOfASingleNode) {
  put(key("k"), "v");
  const StatusResponse status = client().status();
  const VersionInfo version = client().detect_version();
  EXPECT_EQ(status.version, version.server);
  EXPECT_EQ(status.leader, status.header.member_id);  // a single node leads itself
  EXPECT_GT(status.raft_index, 0u);
  EXPECT_GT(status.raft_term, 0u);
  EXPECT_GT(status.raft_applied_index, 0u);
  EXPECT_GT(status.db_size, 0);
  EXPECT_GT(status.db_size_in_use, 0);
  EXPECT_TRUE(status.errors.empty());
  EXPECT_FALSE(status.is_learner);
  EXPECT_GT(status.header.revision, 0);
}

TEST_F(ClusterTest, DetectVersionSelectsTheApiPrefix) {
  const VersionInfo version = client().detect_version();
  EXPECT_EQ(version.server.rfind("3.", 0), 0u) << version.server;
  EXPECT_EQ(version.cluster.rfind("3.", 0), 0u) << version.cluster;

  int major = 0;
  int minor = 0;
  char dot = 0;
  std::istringstream(version.cluster) >> major >> dot >> minor;
  const std::string expected = minor >= 4 ? "/v3" : minor == 3 ? "/v3beta" : "/v3alpha";
  EXPECT_EQ(client().api_prefix(), expected) << "cluster version " << version.cluster;
  if (version.server.rfind("3.4.", 0) == 0) {
    EXPECT_EQ(client().api_prefix(), "/v3");
  }
}

TEST_F(ClusterTest, ApiPrefixWithoutExplicitDetection) {
  Etcd3Client fresh(client_options({etcd().endpoint()}));
  EXPECT_EQ(fresh.api_prefix().rfind("/v3", 0), 0u);
  EXPECT_EQ(fresh.current_endpoint(), etcd().endpoint());
}

TEST_F(ClusterTest, RefusedConnectionIsConnectionFailedWithoutSending) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(dcs::testing::pick_free_port());
  Etcd3Client refused(client_options({dead}, std::chrono::seconds{2}));
  RangeRequest request;
  request.key = key("k");
  try {
    refused.range(request);
    FAIL() << "a request to a closed port succeeded";
  } catch (const EtcdConnectionFailed& e) {
    EXPECT_FALSE(e.request_sent());
    EXPECT_FALSE(e.outcome_unknown());
    EXPECT_TRUE(e.retry_on_other_endpoint());
    EXPECT_EQ(e.endpoint().rfind(dead, 0), 0u) << e.endpoint();
  }
}

// Sockets of this process that are connected to 127.0.0.1:<port>, as "inode" strings. Read from
// /proc, so the check needs no hook in the library.
std::set<std::string> connections_to(int port) {
  std::set<std::string> own_inodes;
  if (DIR* fds = ::opendir("/proc/self/fd")) {
    while (const dirent* entry = ::readdir(fds)) {
      char target[256] = {};
      const std::string path = std::string("/proc/self/fd/") + entry->d_name;
      const ssize_t length = ::readlink(path.c_str(), target, sizeof(target) - 1);
      if (length <= 0) continue;
      const std::string link(target, static_cast<std::size_t>(length));
      if (link.rfind("socket:[", 0) == 0) own_inodes.insert(link.substr(8, link.size() - 9));
    }
    ::closedir(fds);
  }
  std::set<std::string> connected;
  std::ifstream table("/proc/self/net/tcp");
  std::string line;
  std::getline(table, line);  // header
  char wanted[16];
  std::snprintf(wanted, sizeof(wanted), "0100007F:%04X", port);
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
    if (remote == wanted && state == "01" && own_inodes.count(inode) != 0) connected.insert(inode);
  }
  return connected;
}

TEST_F(ClusterTest, SequentialRequestsReuseOneConnection) {
  const std::string& endpoint = etcd().endpoint();
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  Etcd3Client reused(client_options({endpoint}));
  reused.put(PutRequest{key("k"), "v", 0, false, false, false});

  const std::set<std::string> after_first = connections_to(port);
  ASSERT_EQ(after_first.size(), 1u) << "expected one kept-alive connection after the first request";
  RangeRequest request;
  request.key = key("k");
  for (int i = 0; i < 30; ++i) ASSERT_EQ(reused.range(request).kvs.size(), 1u);
  EXPECT_EQ(connections_to(port), after_first) << "the client opened new connections instead of reusing one";
}

}  // namespace
}  // namespace dcs::itest
