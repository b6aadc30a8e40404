// The API prefix follows the cluster version (GET /version): /v3alpha below 3.3, /v3beta for 3.3,
// /v3 from 3.4; servers older than 3.0.4 are refused. The client then uses that prefix in every
// request path.
#include <gtest/gtest.h>

#include <string>

#include "dcs/etcd3/client.hpp"
#include "etcd3/version_check.hpp"
#include "unit/mock_etcd_server.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::etcd3 {
namespace {

using dcs::test::MockEtcdServer;
using dcs::test::options_for;
namespace rec = dcs::test::recorded;

TEST(SelectApiPrefix, FollowsTheClusterVersion) {
  EXPECT_EQ(detail::select_api_prefix({"3.0.4", "3.0.0"}), "/v3alpha");
  EXPECT_EQ(detail::select_api_prefix({"3.2.32", "3.2.0"}), "/v3alpha");
  EXPECT_EQ(detail::select_api_prefix({"3.3.13", "3.3.0"}), "/v3beta");
  EXPECT_EQ(detail::select_api_prefix({"3.4.4", "3.4.0"}), "/v3");
  EXPECT_EQ(detail::select_api_prefix({"3.4.23", "3.4.0"}), "/v3");
  EXPECT_EQ(detail::select_api_prefix({"3.5.0-rc.1", "3.5.0"}), "/v3");
  EXPECT_EQ(detail::select_api_prefix({"3.6.10", "3.6.0"}), "/v3");
  // During a rolling upgrade the cluster version decides.
  EXPECT_EQ(detail::select_api_prefix({"3.4.23", "3.3.0"}), "/v3beta");
}

TEST(SelectApiPrefix, RefusesTooOldVersions) {
  EXPECT_THROW(detail::select_api_prefix({"3.0.3", "3.0.0"}), UnsupportedEtcdVersion);
  EXPECT_THROW(detail::select_api_prefix({"2.3.8", "2.3.0"}), UnsupportedEtcdVersion);
  EXPECT_THROW(detail::select_api_prefix({"3.0.4", "2.3.0"}), UnsupportedEtcdVersion);
  try {
    detail::select_api_prefix({"3.0.3", "3.0.0"});
  } catch (const UnsupportedEtcdVersion& e) {
    EXPECT_STREQ(e.what(), "Detected Etcd version 3.0.3 is lower than 3.0.4");
  }
}

TEST(SelectApiPrefix, UnreadableVersionIsMalformed) {
  EXPECT_THROW(detail::select_api_prefix({"not-a-version", "3.4.0"}), MalformedResponse);
  EXPECT_THROW(detail::select_api_prefix({"3.4.23", ""}), MalformedResponse);
}

struct VersionCase {
  const char* server;
  const char* cluster;
  const char* prefix;
};

class VersionDetection : public ::testing::TestWithParam<VersionCase> {};

TEST_P(VersionDetection, TheClientUsesTheDetectedPrefixInItsPaths) {
  const VersionCase c = GetParam();
  MockEtcdServer server;
  server.set_version(c.server, c.cluster);
  const std::string prefix = c.prefix;
  server.answer(prefix + "/kv/range", 200, std::string(rec::kRangeFoo));
  server.answer(prefix + "/kv/put", 200, std::string(rec::kPutPlain));
  Etcd3Client client(options_for(server));

  EXPECT_EQ(client.range(RangeRequest::with_prefix("foo")).kvs.size(), 1u);
  client.put(PutRequest{"foo", "bar"});
  EXPECT_EQ(client.api_prefix(), prefix);
  EXPECT_EQ(server.requests_to(prefix + "/kv/range").size(), 1u);
  EXPECT_EQ(server.requests_to(prefix + "/kv/put").size(), 1u);
  const auto version_probes = server.requests_to("/version");
  ASSERT_EQ(version_probes.size(), 1u) << "detected once, on the first call";
  EXPECT_EQ(version_probes[0].method, "GET");

  const VersionInfo info = client.detect_version();
  EXPECT_EQ(info.server, c.server);
  EXPECT_EQ(info.cluster, c.cluster);
}

INSTANTIATE_TEST_SUITE_P(Versions, VersionDetection,
                         ::testing::Values(VersionCase{"3.0.4", "3.0.0", "/v3alpha"},
                                           VersionCase{"3.3.13", "3.3.0", "/v3beta"},
                                           VersionCase{"3.4.23", "3.4.0", "/v3"},
                                           VersionCase{"3.6.10", "3.6.0", "/v3"}));

TEST(VersionDetectionClient, TooOldServerIsRefusedBeforeAnyRequest) {
  MockEtcdServer server;
  server.set_version("3.0.3", "3.0.0");
  Etcd3Client client(options_for(server));
  EXPECT_THROW(client.range(RangeRequest::with_prefix("foo")), UnsupportedEtcdVersion);
  EXPECT_THROW(client.api_prefix(), UnsupportedEtcdVersion);
  for (const auto& request : server.requests()) EXPECT_EQ(request.path, "/version");
}

TEST(VersionDetectionClient, OldPrefixesUseTheKvLeaseAliases) {
  // /lease/revoke and /lease/timetolive exist from 3.4; 3.3 serves only the /kv/lease/ alias.
  MockEtcdServer server;
  server.set_version("3.3.13", "3.3.0");
  server.answer("/v3beta/kv/lease/revoke", 200, std::string(rec::kLeaseRevoke));
  server.answer("/v3beta/kv/lease/timetolive", 200, std::string(rec::kLeaseTimeToLiveMissing));
  server.answer("/v3beta/lease/grant", 200, std::string(rec::kLeaseGrant));
  Etcd3Client client(options_for(server));
  EXPECT_EQ(client.lease_grant(30).id, 5189732357884290374);
  EXPECT_EQ(client.lease_revoke(1000).header.revision, 20);
  EXPECT_EQ(client.lease_time_to_live(4242).ttl, -1);
  EXPECT_EQ(server.requests_to("/v3beta/kv/lease/revoke").size(), 1u);
  EXPECT_EQ(server.requests_to("/v3beta/kv/lease/timetolive").size(), 1u);
}

TEST(VersionDetectionClient, CurrentPrefixUsesTheLeasePaths) {
  MockEtcdServer server;
  server.answer("/v3/lease/revoke", 200, std::string(rec::kLeaseRevoke));
  server.answer("/v3/lease/timetolive", 200, std::string(rec::kLeaseTimeToLiveMissing));
  Etcd3Client client(options_for(server));
  client.lease_revoke(1000);
  client.lease_time_to_live(4242);
  EXPECT_EQ(server.requests_to("/v3/lease/revoke").size(), 1u);
  EXPECT_EQ(server.requests_to("/v3/lease/timetolive").size(), 1u);
}

TEST(VersionDetectionClient, TheWatchUsesThePrefixToo) {
  MockEtcdServer server;
  server.set_version("3.3.13", "3.3.0");
  server.stream("/v3beta/watch",
                dcs::test::StreamScript{200, {dcs::test::StreamStep::chunk(std::string(rec::kWatchCreated))}});
  Etcd3Client client(options_for(server));
  WatchCanceller canceller;
  int messages = 0;
  WatchCreateRequest request;
  request.key = "wk";
  EXPECT_THROW(client.watch(
                   request, [&](const WatchResponse&) { ++messages; }, canceller),
               EtcdConnectionFailed);
  EXPECT_EQ(messages, 1);
  EXPECT_EQ(server.requests_to("/v3beta/watch").size(), 1u);
}

TEST(VersionDetectionClient, BrokenVersionAnswers) {
  MockEtcdServer server;
  server.answer("/version", 200, R"({"etcdserver":"3.4.23"})");
  Etcd3Client client(options_for(server));
  EXPECT_THROW(client.detect_version(), MalformedResponse);

  server.answer("/version", 200, R"({"etcdserver":"banana","etcdcluster":"3.4.0"})");
  EXPECT_THROW(client.detect_version(), MalformedResponse);

  server.answer("/version", 200, "etcd 3.4.23");
  EXPECT_THROW(client.detect_version(), MalformedResponse);

  server.answer("/version", 404, "404 page not found\n", "text/plain");
  EXPECT_THROW(client.detect_version(), Unknown);
}

}  // namespace
}  // namespace dcs::etcd3
