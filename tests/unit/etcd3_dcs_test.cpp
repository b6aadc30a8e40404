// Etcd3 (the DCS) against the in-process mock: the exact request each operation sends (compared
// with the bodies of spec 3.3 after JSON parsing), and Patroni's test_etcd3.py scenarios 16-27
// adapted: the lease paths, the leader transactions and their answer shapes, and how errors
// reach the HA loop (false for an etcd answer, Etcd3Error for an unreachable etcd).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec/base64.hpp"
#include "dcs/etcd3/etcd3.hpp"
#include "unit/mock_etcd_server.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::etcd3 {
namespace {

using dcs::test::CannedResponse;
using dcs::test::MockEtcdServer;
using dcs::test::RecordedRequest;
using dcs::test::RecordingLog;
using nlohmann::json;
using namespace std::chrono_literals;
namespace rec = dcs::test::recorded;

constexpr std::int64_t kLease = 5189732357884290374;  // the ID of rec::kLeaseGrant
constexpr std::int64_t kOtherLease = 4242;
constexpr std::string_view kHeader =
    R"({"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"40","raft_term":"2"})";

std::string b64(std::string_view text) {
  return codec::base64_encode(text);
}

std::string keepalive_alive(std::int64_t id) {
  return json{{"result", {{"header", json::parse(kHeader)}, {"ID", std::to_string(id)}, {"TTL", "30"}}}}.dump();
}

std::string lease_grant(std::int64_t id, int ttl) {
  return json{{"header", json::parse(kHeader)}, {"ID", std::to_string(id)}, {"TTL", std::to_string(ttl)}}.dump();
}

json kv(std::string_view key, std::string_view value, std::int64_t mod_revision, std::int64_t lease = 0) {
  json out = {
      {"key", b64(key)}, {"create_revision", "2"}, {"mod_revision", std::to_string(mod_revision)}, {"version", "1"}};
  if (!value.empty()) out["value"] = b64(value);
  if (lease != 0) out["lease"] = std::to_string(lease);
  return out;
}

std::string range_of(const std::vector<json>& kvs) {
  json body = {{"header", json::parse(kHeader)}};
  if (!kvs.empty()) {
    body["kvs"] = kvs;
    body["count"] = std::to_string(kvs.size());
  }
  return body.dump();
}

// A txn answer with the given fields next to the header.
std::string txn_answer(json fields) {
  fields["header"] = json::parse(kHeader);
  return fields.dump();
}

std::string error_body(int code, std::string_view message) {
  return json{{"error", message}, {"message", message}, {"code", code}}.dump();
}

// A cluster view in which `leader_name` holds the leader key under `session`.
Cluster cluster_with_leader(const std::string& leader_name, std::int64_t session) {
  Cluster cluster;
  Member member;
  member.version = 3;
  member.name = leader_name;
  member.session = session;
  cluster.members.push_back(std::make_shared<const Member>(member));
  Leader leader;
  leader.version = 5;
  leader.session = session;
  leader.member = member;
  cluster.leader = leader;
  return cluster;
}

class Etcd3DcsTest : public ::testing::Test {
 protected:
  Etcd3DcsTest() {
    server.answer("/v3/lease/grant", 200, std::string(rec::kLeaseGrant));
    server.answer("/v3/lease/keepalive", 200, keepalive_alive(kLease));
    server.answer("/v3/kv/range", 200, range_of({}));
    server.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
    server.answer("/v3/kv/txn", 200, std::string(rec::kTxnSucceededPut));
    server.answer("/v3/kv/deleterange", 200, std::string(rec::kDeleteMissing));
  }

  Etcd3Options options() {
    Etcd3Options o = dcs::test::options_for(server);
    o.namespace_ = "/patroni/";
    o.scope = "test";
    o.name = "foo";
    o.ttl = 30s;
    o.retry_timeout = 2s;
    // The request path on its own; the watcher cache has tests of its own (kv_cache_test).
    o.watcher_cache = false;
    o.startup_timeout = 0s;
    o.log_sink = log.sink();
    return o;
  }
  std::unique_ptr<Etcd3> make(Etcd3Options o) { return std::make_unique<Etcd3>(std::move(o)); }
  std::unique_ptr<Etcd3> make() { return make(options()); }

  json sent(const std::string& path) const { return json::parse(server.last_request_to(path).body); }
  std::size_t count(const std::string& path) const { return server.requests_to(path).size(); }
  bool logged(std::string_view text) const {
    for (const auto& line : log.lines()) {
      if (line.message.find(text) != std::string::npos) return true;
    }
    return false;
  }

  const std::string leader_key = b64("/patroni/test/leader");
  RecordingLog log;
  MockEtcdServer server;
};

// ---- constructor and lease ---------------------------------------------------------------------

TEST_F(Etcd3DcsTest, ConstructorGrantsTheProcessLeaseWithTheTtl) {
  auto dcs = make();
  EXPECT_EQ(dcs->lease(), kLease);
  EXPECT_EQ(sent("/v3/lease/grant"), json::parse(R"({"TTL":"30"})"));
  EXPECT_EQ(count("/v3/lease/keepalive"), 0u);
  EXPECT_EQ(dcs->base_path(), "/patroni/test");
}

TEST_F(Etcd3DcsTest, FromPatroniConfigCopiesTheTopLevelKeysAndTheCitusGroup) {
  const json config = {{"scope", "test"},
                       {"name", "foo"},
                       {"namespace", "/patroni/"},
                       {"ttl", 25},
                       {"retry_timeout", 3},
                       {"citus", {{"group", 1}, {"database", "citus"}}},
                       {"etcd3", {{"host", "127.0.0.1:" + std::to_string(server.port())}, {"use_proxies", true}}}};
  const auto dcs = Etcd3::from_patroni_config(config);
  EXPECT_EQ(dcs->leader_path(), "/patroni/test/1/leader");
  EXPECT_EQ(dcs->ttl(), 25s);
  EXPECT_EQ(dcs->retry_timeout(), 3s);
  EXPECT_EQ(dcs->client().retry_timeout(), 3s);
  EXPECT_EQ(sent("/v3/lease/grant"), json::parse(R"({"TTL":"25"})"));
  EXPECT_THROW(Etcd3::from_patroni_config(json{{"scope", "test"}, {"name", "foo"}}), ConfigError);
}

TEST_F(Etcd3DcsTest, PatronictlTakesNoLeaseAndReadsLinearizably) {
  auto o = options();
  o.patronictl = true;
  o.name.clear();
  auto dcs = make(o);
  EXPECT_EQ(dcs->lease(), 0);
  EXPECT_EQ(count("/v3/lease/grant"), 0u);
  dcs->get_cluster();
  EXPECT_EQ(sent("/v3/kv/range"), json({{"key", b64("/patroni/test/")}, {"range_end", b64("/patroni/test0")}}));
}

// A direct re-read takes the parsed config, failover, failsafe, status, sync and members of the
// previous view for keys whose revision (and lease) did not move, without even decoding their
// text: shown here by a server that changes the text under the same revisions.
TEST_F(Etcd3DcsTest, PatronictlReReadsKeepWhatTheRevisionsSayIsUnchanged) {
  auto o = options();
  o.patronictl = true;
  o.name.clear();
  auto dcs = make(o);
  const auto read = [&](std::int64_t member_revision, const std::string& config, std::int64_t config_revision) {
    server.answer("/v3/kv/range", 200,
                  range_of({kv("/patroni/test/config", config, config_revision),
                            kv("/patroni/test/failover", R"({"leader":"a"})", 4),
                            kv("/patroni/test/failsafe", R"({"a":"http://a:8008/patroni"})", 5),
                            kv("/patroni/test/leader", "a", 6, kLease),
                            kv("/patroni/test/members/a",
                               R"({"role":"primary","xlog_location":)" + std::to_string(member_revision) + "}",
                               member_revision, kLease),
                            kv("/patroni/test/status", R"({"optime":)" + std::to_string(member_revision * 100) + "}",
                               config_revision + 4),
                            kv("/patroni/test/sync", R"({"leader":"a","sync_standby":null})", 8)}));
    return dcs->get_cluster();
  };
  const auto first = read(10, R"({"ttl":30})", 3);
  ASSERT_TRUE(first->config);
  EXPECT_EQ(first->config->data["ttl"], 30);
  EXPECT_EQ(first->members.at(0)->lsn(), 10);
  EXPECT_EQ(first->last_lsn(), 1000);

  // The member moved (a new view is built); config and status texts changed under the same
  // revisions, which etcd never does: the parsed forms of the first read stay.
  const auto second = read(11, R"({"ttl":99})", 3);
  EXPECT_NE(second, first);
  EXPECT_EQ(second->members.at(0)->lsn(), 11);
  EXPECT_EQ(second->config->data["ttl"], 30);
  EXPECT_TRUE(second->config.shares_storage_with(first->config));
  EXPECT_TRUE(second->failsafe.shares_storage_with(first->failsafe));
  EXPECT_EQ(second->failover, first->failover);
  EXPECT_EQ(second->sync, first->sync);
  EXPECT_EQ(second->last_lsn(), 1000);
  EXPECT_EQ(second->leader->member->lsn(), 11) << "the leader follows its member key";

  // New revisions are read again.
  const auto third = read(11, R"({"ttl":20})", 12);
  EXPECT_EQ(third->config->data["ttl"], 20);
  EXPECT_EQ(third->last_lsn(), 1100);
  EXPECT_EQ(*third, Cluster::from_keys({{"config", R"({"ttl":20})", 12, 0},
                                        {"failover", R"({"leader":"a"})", 4, 0},
                                        {"failsafe", R"({"a":"http://a:8008/patroni"})", 5, 0},
                                        {"leader", "a", 6, kLease},
                                        {"members/a", R"({"role":"primary","xlog_location":11})", 11, kLease},
                                        {"status", R"({"optime":1100})", 16, 0},
                                        {"sync", R"({"leader":"a","sync_standby":null})", 8, 0}}));
}

TEST_F(Etcd3DcsTest, InvalidOptionsAreRefusedBeforeAnyRequest) {
  auto no_scope = options();
  no_scope.scope.clear();
  EXPECT_THROW(make(no_scope), ConfigError);
  auto no_name = options();
  no_name.name.clear();
  EXPECT_THROW(make(no_name), ConfigError);
  auto bad_ttl = options();
  bad_ttl.ttl = 0s;
  EXPECT_THROW(make(bad_ttl), ConfigError);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(Etcd3DcsTest, ConstructorWaitsOnEtcdUntilItGrantsALease) {
  std::atomic<int> grants{0};
  server.handle("/v3/lease/grant", [&](const RecordedRequest&) {
    if (grants++ == 0) return CannedResponse{500, error_body(13, "etcdserver: not ready")};
    return CannedResponse{200, std::string(rec::kLeaseGrant)};
  });
  auto o = options();
  o.startup_timeout = 1s;
  auto dcs = make(o);
  EXPECT_EQ(dcs->lease(), kLease);
  EXPECT_EQ(grants.load(), 2);
  EXPECT_TRUE(logged("waiting on etcd"));
}

TEST_F(Etcd3DcsTest, ConstructorGivesUpAfterStartupTimeoutWithEtcd3Error) {
  server.answer("/v3/lease/grant", 500, error_body(13, "etcdserver: not ready"));
  EXPECT_THROW(make(), Etcd3Error);  // startup_timeout 0: one try
  EXPECT_EQ(count("/v3/lease/grant"), 1u);
}

TEST_F(Etcd3DcsTest, ConstructorDoesNotWaitOnWrongCredentialsAndLogsNoPassword) {
  server.answer("/v3/lease/grant", 401, std::string(rec::kErrInvalidToken));
  server.answer("/v3/auth/authenticate", 400, std::string(rec::kErrAuthFailed));
  auto o = options();
  o.username = "patroni";
  o.password = "s3cr3t-pw";
  o.startup_timeout = 30s;
  try {
    make(o);
    FAIL() << "no exception";
  } catch (const AuthFailed& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cr3t-pw"), std::string::npos);
  }
  EXPECT_FALSE(logged("waiting on etcd"));
  EXPECT_FALSE(logged("s3cr3t-pw"));
}

TEST_F(Etcd3DcsTest, RefreshLeaseIsThrottledByLoopWaitUnlessForced) {
  auto dcs = make();
  EXPECT_FALSE(dcs->refresh_lease());
  EXPECT_EQ(count("/v3/lease/keepalive"), 0u);
  EXPECT_FALSE(dcs->refresh_lease(true));
  EXPECT_EQ(sent("/v3/lease/keepalive"), json({{"ID", std::to_string(kLease)}}));
}

TEST_F(Etcd3DcsTest, RefreshLeaseGrantsANewOneWhenTheKeepaliveHasNoTtl) {
  auto dcs = make();
  server.answer("/v3/lease/keepalive", 200, std::string(rec::kLeaseKeepAliveGone));
  server.answer("/v3/lease/grant", 200, lease_grant(kOtherLease, 30));
  EXPECT_TRUE(dcs->refresh_lease(true));
  EXPECT_EQ(dcs->lease(), kOtherLease);
  EXPECT_EQ(count("/v3/lease/grant"), 2u);
}

TEST_F(Etcd3DcsTest, RefreshLeaseThrowsEtcd3ErrorWhenEtcdRefuses) {
  auto dcs = make();
  server.answer("/v3/lease/keepalive", 500, error_body(2, "etcdserver: something odd"));
  EXPECT_THROW(dcs->refresh_lease(true), Etcd3Error);
  EXPECT_EQ(dcs->lease(), kLease);  // a failed keepalive does not prove the lease gone
}

// ---- reads ------------------------------------------------------------------------------------

TEST_F(Etcd3DcsTest, GetClusterReadsThePrefixSerializablyWithAbsoluteKeys) {
  server.answer(
      "/v3/kv/range", 200,
      range_of({kv("/patroni/test/initialize", "12345", 1), kv("/patroni/test/leader", "bar", 7, 77),
                kv("/patroni/test/members/bar", R"({"version":"1.6.5"})", 6, 77),
                kv("/patroni/test/members/foo", "{}", 5, kLease), kv("/patroni/test/failover", "{}", 2),
                kv("/patroni/test/failsafe", "{", 3),
                kv("/patroni/test/status", R"({"optime":1234567,"slots":{"ls":12345},"retain_slots":["foo"]})", 4)}));
  auto dcs = make();
  const auto cluster = dcs->get_cluster();
  EXPECT_EQ(sent("/v3/kv/range"),
            json({{"key", b64("/patroni/test/")}, {"range_end", b64("/patroni/test0")}, {"serializable", true}}));
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->initialize, "12345");
  ASSERT_TRUE(cluster->leader);
  EXPECT_EQ(cluster->leader->name(), "bar");
  EXPECT_EQ(cluster->leader->session, 77);
  EXPECT_EQ(cluster->leader->version, 7);
  EXPECT_EQ(cluster->members.size(), 2u);
  EXPECT_EQ(cluster->last_lsn(), 1234567);
  EXPECT_FALSE(cluster->failsafe);
  EXPECT_EQ(dcs->cluster(), cluster);
}

TEST_F(Etcd3DcsTest, GetClusterWithABrokenStatusStillReturnsACluster) {
  server.answer("/v3/kv/range", 200, range_of({kv("/patroni/test/status", "{", 4)}));
  auto dcs = make();
  const auto cluster = dcs->get_cluster();
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->last_lsn(), 0);
}

TEST_F(Etcd3DcsTest, GetClusterFailureIsEtcd3Error) {
  auto dcs = make();
  server.answer("/v3/kv/range", 500, error_body(13, "etcdserver: internal"));
  try {
    dcs->get_cluster();
    FAIL() << "no exception";
  } catch (const Etcd3Error& e) {
    EXPECT_STREQ(e.what(), "Etcd is not responding properly");
  }
  EXPECT_TRUE(logged("etcdserver: internal"));
}

TEST_F(Etcd3DcsTest, LeaderKeyOfOursUnderAnotherLeaseIsReported) {
  server.answer("/v3/kv/range", 200, range_of({kv("/patroni/test/leader", "foo", 7, kOtherLease)}));
  auto dcs = make();
  dcs->get_cluster();
  EXPECT_TRUE(logged("I am the leader but not owner of the lease"));
}

TEST_F(Etcd3DcsTest, CitusCoordinatorReadsEveryGroup) {
  server.answer("/v3/kv/range", 200,
                range_of({kv("/patroni/test/0/leader", "foo", 7, kLease), kv("/patroni/test/1/leader", "w1", 8, 77),
                          kv("/patroni/test/1/members/w1", "{}", 8, 77)}));
  auto o = options();
  o.citus_group = 0;
  auto dcs = make(o);
  const auto cluster = dcs->get_cluster();
  EXPECT_EQ(sent("/v3/kv/range"),
            json({{"key", b64("/patroni/test/")}, {"range_end", b64("/patroni/test0")}, {"serializable", true}}));
  ASSERT_TRUE(cluster->leader);
  EXPECT_EQ(cluster->leader->name(), "foo");
  ASSERT_EQ(cluster->workers.count(1), 1u);
  ASSERT_TRUE(cluster->workers.at(1)->leader);
  EXPECT_EQ(cluster->workers.at(1)->leader->name(), "w1");
}

TEST_F(Etcd3DcsTest, CitusWorkerReadsItsGroupAndTheCoordinator) {
  auto o = options();
  o.citus_group = 2;
  auto dcs = make(o);
  dcs->get_cluster();
  EXPECT_EQ(sent("/v3/kv/range"),
            json({{"key", b64("/patroni/test/2/")}, {"range_end", b64("/patroni/test/20")}, {"serializable", true}}));
  dcs->get_citus_coordinator();
  EXPECT_EQ(sent("/v3/kv/range"),
            json({{"key", b64("/patroni/test/0/")}, {"range_end", b64("/patroni/test/00")}, {"serializable", true}}));
}

// ---- leader -----------------------------------------------------------------------------------

TEST_F(Etcd3DcsTest, AttemptToAcquireLeaderSendsTheCreateRevisionZeroTxn) {
  auto dcs = make();
  EXPECT_TRUE(dcs->attempt_to_acquire_leader());
  EXPECT_EQ(sent("/v3/kv/txn"),
            json::parse(R"({"compare":[{"target":"CREATE","create_revision":"0","key":")" + leader_key +
                        R"("}],"success":[{"request_put":{"key":")" + leader_key + R"(","value":")" + b64("foo") +
                        R"(","lease":")" + std::to_string(kLease) + R"("}}]})"));
  EXPECT_EQ(count("/v3/lease/keepalive"), 0u);  // refreshed less than loop_wait ago
}

TEST_F(Etcd3DcsTest, AttemptToAcquireLeaderReturnsFalseWhenTheKeyExists) {
  auto dcs = make();
  server.answer("/v3/kv/txn", 200, std::string(rec::kTxnFailedEmpty));
  EXPECT_FALSE(dcs->attempt_to_acquire_leader());
  EXPECT_TRUE(logged("Could not take out TTL lock"));
}

TEST_F(Etcd3DcsTest, AttemptToAcquireLeaderRetriesOnceWithANewLease) {
  auto dcs = make();
  std::atomic<int> txns{0};
  server.handle("/v3/kv/txn", [&](const RecordedRequest&) {
    if (txns++ == 0) return CannedResponse{404, std::string(rec::kErrLeaseNotFound)};
    return CannedResponse{200, std::string(rec::kTxnSucceededPut)};
  });
  server.answer("/v3/lease/grant", 200, lease_grant(kOtherLease, 30));
  EXPECT_TRUE(dcs->attempt_to_acquire_leader());
  EXPECT_EQ(dcs->lease(), kOtherLease);
  EXPECT_EQ(sent("/v3/kv/txn")["success"][0]["request_put"]["lease"], std::to_string(kOtherLease));
  EXPECT_TRUE(logged("Our lease disappeared from Etcd. Will try to get a new one and retry attempt"));
}

TEST_F(Etcd3DcsTest, AttemptToAcquireLeaderLeaseVanishingTwiceIsFalse) {
  auto dcs = make();
  server.answer("/v3/kv/txn", 404, std::string(rec::kErrLeaseNotFound));
  EXPECT_FALSE(dcs->attempt_to_acquire_leader());
  EXPECT_EQ(count("/v3/kv/txn"), 2u);
  EXPECT_EQ(count("/v3/lease/grant"), 2u);
}

TEST_F(Etcd3DcsTest, AttemptToAcquireLeaderLeaseVanishingAfterTheDeadlineIsFalse) {
  auto dcs = make();
  // The txn step's budget (retry_timeout) runs out while the client, with a longer budget of its
  // own, still waits for etcd's answer.
  dcs->client().set_retry_timeout(8s);  // each HTTP attempt may then take 2.67 s
  server.handle("/v3/kv/txn", [](const RecordedRequest&) {
    std::this_thread::sleep_for(2100ms);
    return CannedResponse{404, std::string(rec::kErrLeaseNotFound)};
  });
  EXPECT_FALSE(dcs->attempt_to_acquire_leader());
  EXPECT_EQ(count("/v3/kv/txn"), 1u);
  EXPECT_EQ(dcs->lease(), 0);
  EXPECT_EQ(count("/v3/lease/grant"), 1u);
}

TEST_F(Etcd3DcsTest, AttemptToAcquireLeaderWithLessThanASecondLeftIsEtcd3Error) {
  auto dcs = make();
  dcs->set_retry_timeout(1s);  // after any step less than 1 s of the budget is left
  dcs->client().set_retry_timeout(2s);
  EXPECT_THROW(dcs->attempt_to_acquire_leader(), Etcd3Error);
  EXPECT_EQ(count("/v3/kv/txn"), 0u);
}

TEST_F(Etcd3DcsTest, AttemptToAcquireLeaderOnUnreachableEtcdIsEtcd3Error) {
  auto dcs = make();
  dcs->client().set_retry_timeout(300ms);
  server.answer("/v3/kv/txn", 503, std::string(rec::kErrRequestTimedOut));  // Unavailable everywhere
  EXPECT_THROW(dcs->attempt_to_acquire_leader(), Etcd3Error);
}

TEST_F(Etcd3DcsTest, TakeLeaderPutsTheLeaderKeyWithTheLease) {
  auto dcs = make();
  EXPECT_TRUE(dcs->take_leader());
  EXPECT_EQ(sent("/v3/kv/put"), json({{"key", leader_key}, {"value", b64("foo")}, {"lease", std::to_string(kLease)}}));
  server.answer("/v3/kv/put", 404, std::string(rec::kErrLeaseNotFound));
  EXPECT_FALSE(dcs->take_leader());
}

TEST_F(Etcd3DcsTest, UpdateLeaderInTheSteadyStateSendsOnlyAKeepalive) {
  auto dcs = make();
  EXPECT_TRUE(dcs->update_leader(cluster_with_leader("foo", kLease), std::nullopt));
  EXPECT_EQ(count("/v3/lease/keepalive"), 1u);  // forced: one every cycle
  EXPECT_EQ(count("/v3/kv/txn"), 0u);
  EXPECT_EQ(count("/v3/kv/put"), 0u);
}

TEST_F(Etcd3DcsTest, UpdateLeaderRebindsTheKeyToANewLeaseWithTheNestedTxn) {
  auto dcs = make();
  server.answer("/v3/lease/keepalive", 200, std::string(rec::kLeaseKeepAliveGone));
  server.answer("/v3/lease/grant", 200, lease_grant(kOtherLease, 30));
  EXPECT_TRUE(dcs->update_leader(cluster_with_leader("foo", kLease), std::nullopt));
  const std::string put = R"({"request_put":{"key":")" + leader_key + R"(","value":")" + b64("foo") + R"(","lease":")" +
                          std::to_string(kOtherLease) + R"("}})";
  EXPECT_EQ(sent("/v3/kv/txn"),
            json::parse(R"({"compare":[{"key":")" + leader_key + R"(","target":"VALUE","value":")" + b64("foo") +
                        R"("}],"success":[)" + put + R"(],"failure":[{"request_txn":{"compare":[{"key":")" +
                        leader_key + R"(","target":"CREATE","create_revision":"0"}],"success":[)" + put + "]}}]}"));
}

TEST_F(Etcd3DcsTest, UpdateLeaderReadsTheThreeAnswerShapesOfTheNestedTxn) {
  auto dcs = make();
  const Cluster stale = cluster_with_leader("foo", kOtherLease);  // the key is under another lease
  server.answer("/v3/kv/txn", 200,
                txn_answer(json::parse(R"({"succeeded":true,"responses":[{"response_put":{"header":{}}}]})")));
  EXPECT_TRUE(dcs->update_leader(stale, std::nullopt));
  server.answer(
      "/v3/kv/txn", 200,
      txn_answer(json::parse(
          R"({"responses":[{"response_txn":{"header":{},"succeeded":true,"responses":[{"response_put":{"header":{}}}]}}]})")));
  EXPECT_TRUE(dcs->update_leader(stale, std::nullopt));
  server.answer("/v3/kv/txn", 200, txn_answer(json::parse(R"({"responses":[{"response_txn":{"header":{}}}]})")));
  EXPECT_FALSE(dcs->update_leader(stale, std::nullopt));
  EXPECT_EQ(count("/v3/kv/txn"), 3u);
}

TEST_F(Etcd3DcsTest, UpdateLeaderWithoutALeaderInTheViewAlsoUsesTheNestedTxn) {
  auto dcs = make();
  EXPECT_TRUE(dcs->update_leader(Cluster{}, std::nullopt));
  EXPECT_EQ(count("/v3/kv/txn"), 1u);
}

TEST_F(Etcd3DcsTest, UpdateLeaderRejectedTxnIsFalse) {
  auto dcs = make();
  server.answer("/v3/kv/txn", 404, std::string(rec::kErrLeaseNotFound));
  EXPECT_FALSE(dcs->update_leader(cluster_with_leader("foo", kOtherLease), std::nullopt));
}

TEST_F(Etcd3DcsTest, UpdateLeaderKeepaliveRefusedIsFalse) {
  auto dcs = make();
  server.answer("/v3/lease/keepalive", 500, error_body(2, "etcdserver: unknown trouble"));
  EXPECT_FALSE(dcs->update_leader(cluster_with_leader("foo", kLease), std::nullopt));
}

TEST_F(Etcd3DcsTest, UpdateLeaderWithLessThanASecondLeftForTheTxnIsEtcd3Error) {
  auto dcs = make();
  dcs->set_retry_timeout(1s);
  dcs->client().set_retry_timeout(2s);
  EXPECT_THROW(dcs->update_leader(cluster_with_leader("foo", kOtherLease), std::nullopt), Etcd3Error);
  EXPECT_EQ(count("/v3/kv/txn"), 0u);
}

TEST_F(Etcd3DcsTest, DeleteLeaderComparesOnTheValue) {
  auto dcs = make();
  const auto cluster = cluster_with_leader("foo", kLease);
  EXPECT_TRUE(dcs->delete_leader(cluster.leader));
  EXPECT_EQ(sent("/v3/kv/txn"),
            json::parse(R"({"compare":[{"key":")" + leader_key + R"(","target":"VALUE","value":")" + b64("foo") +
                        R"("}],"success":[{"request_delete_range":{"key":")" + leader_key + R"("}}]})"));
  server.answer("/v3/kv/txn", 200, std::string(rec::kTxnFailedEmpty));
  EXPECT_FALSE(dcs->delete_leader(cluster_with_leader("bar", 77).leader));
  EXPECT_FALSE(dcs->delete_leader(std::nullopt));  // no leader given: nothing is sent
  EXPECT_EQ(count("/v3/kv/txn"), 2u);
}

// ---- cluster lifecycle and values -------------------------------------------------------------

TEST_F(Etcd3DcsTest, InitializeRacesWithCreateRevisionZeroOrPutsPlainly) {
  auto dcs = make();
  const std::string key = b64("/patroni/test/initialize");
  EXPECT_TRUE(dcs->initialize(true, "6789"));
  EXPECT_EQ(sent("/v3/kv/txn"), json::parse(R"({"compare":[{"target":"CREATE","create_revision":"0","key":")" + key +
                                            R"("}],"success":[{"request_put":{"key":")" + key + R"(","value":")" +
                                            b64("6789") + R"("}}]})"));
  server.answer("/v3/kv/txn", 200, std::string(rec::kTxnFailedEmpty));
  EXPECT_FALSE(dcs->initialize());
  EXPECT_TRUE(dcs->initialize(false, "6789"));
  EXPECT_EQ(sent("/v3/kv/put"), json({{"key", key}, {"value", b64("6789")}}));
}

TEST_F(Etcd3DcsTest, CancelInitializationAndDeleteCluster) {
  auto dcs = make();
  EXPECT_TRUE(dcs->cancel_initialization());
  EXPECT_EQ(sent("/v3/kv/deleterange"), json({{"key", b64("/patroni/test/initialize")}}));
  EXPECT_TRUE(dcs->delete_cluster());
  EXPECT_EQ(sent("/v3/kv/deleterange"), json({{"key", b64("/patroni/test/")}, {"range_end", b64("/patroni/test0")}}));
}

TEST_F(Etcd3DcsTest, ConfigAndFailoverAreComparedOnTheModRevision) {
  auto dcs = make();
  EXPECT_TRUE(dcs->set_config_value(R"({"ttl":30})"));
  EXPECT_EQ(sent("/v3/kv/put"), json({{"key", b64("/patroni/test/config")}, {"value", b64(R"({"ttl":30})")}}));
  EXPECT_TRUE(dcs->set_config_value("{}", 17));
  const std::string config = b64("/patroni/test/config");
  EXPECT_EQ(sent("/v3/kv/txn"), json::parse(R"({"compare":[{"target":"MOD","mod_revision":"17","key":")" + config +
                                            R"("}],"success":[{"request_put":{"key":")" + config + R"(","value":")" +
                                            b64("{}") + R"("}}]})"));
  EXPECT_TRUE(dcs->set_failover_value("{}", 18));
  EXPECT_EQ(sent("/v3/kv/txn")["compare"][0]["key"], b64("/patroni/test/failover"));
  server.answer("/v3/kv/txn", 200, std::string(rec::kTxnFailedEmpty));
  EXPECT_FALSE(dcs->set_config_value("{}", 17));
  EXPECT_FALSE(dcs->set_failover_value("", 1));
  EXPECT_TRUE(dcs->set_failover_value("{}"));
  EXPECT_EQ(sent("/v3/kv/put"), json({{"key", b64("/patroni/test/failover")}, {"value", b64("{}")}}));
}

TEST_F(Etcd3DcsTest, SyncStateReturnsTheNewRevisionOrNothing) {
  auto dcs = make();
  EXPECT_EQ(dcs->set_sync_state_value(R"({"leader":"foo"})"), 2);  // rec::kPutPlain's revision
  EXPECT_EQ(sent("/v3/kv/put"), json({{"key", b64("/patroni/test/sync")}, {"value", b64(R"({"leader":"foo"})")}}));
  EXPECT_EQ(dcs->set_sync_state_value("{}", 11), 12);  // rec::kTxnSucceededPut's revision
  EXPECT_EQ(sent("/v3/kv/txn")["compare"][0],
            json({{"target", "MOD"}, {"mod_revision", "11"}, {"key", b64("/patroni/test/sync")}}));
  server.answer("/v3/kv/txn", 200, std::string(rec::kTxnFailedEmpty));
  EXPECT_EQ(dcs->set_sync_state_value("{}", 11), std::nullopt);
}

TEST_F(Etcd3DcsTest, DeleteSyncStatePlainOrComparedOnTheModRevision) {
  auto dcs = make();
  const std::string sync = b64("/patroni/test/sync");
  EXPECT_TRUE(dcs->delete_sync_state());
  EXPECT_EQ(sent("/v3/kv/deleterange"), json({{"key", sync}}));
  EXPECT_TRUE(dcs->delete_sync_state(9));
  EXPECT_EQ(sent("/v3/kv/txn"), json::parse(R"({"compare":[{"target":"MOD","mod_revision":"9","key":")" + sync +
                                            R"("}],"success":[{"request_delete_range":{"key":")" + sync + R"("}}]})"));
  server.answer("/v3/kv/txn", 200, std::string(rec::kTxnFailedEmpty));
  EXPECT_FALSE(dcs->delete_sync_state(9));
}

TEST_F(Etcd3DcsTest, HistoryStatusFailsafeAndOptimeArePlainPutsWithoutLease) {
  auto dcs = make();
  EXPECT_TRUE(dcs->set_history_value("[]"));
  EXPECT_EQ(sent("/v3/kv/put"), json({{"key", b64("/patroni/test/history")}, {"value", b64("[]")}}));
  dcs->write_status(json{{"optime", 100}});
  EXPECT_EQ(sent("/v3/kv/put"), json({{"key", b64("/patroni/test/status")}, {"value", b64(R"({"optime":100})")}}));
  dcs->write_failsafe(json{{"foo", "http://foo/patroni"}});
  EXPECT_EQ(sent("/v3/kv/put"),
            json({{"key", b64("/patroni/test/failsafe")}, {"value", b64(R"({"foo":"http://foo/patroni"})")}}));
}

TEST_F(Etcd3DcsTest, TheLegacyOptimeKeyIsWrittenWhileAnOldMemberIsAround) {
  server.answer("/v3/kv/range", 200, range_of({kv("/patroni/test/members/bar", R"({"version":"1.6.5"})", 6, 77)}));
  auto dcs = make();
  dcs->get_cluster();
  dcs->write_leader_optime(12345);
  const auto puts = server.requests_to("/v3/kv/put");
  ASSERT_EQ(puts.size(), 2u);
  EXPECT_EQ(json::parse(puts[0].body),
            json({{"key", b64("/patroni/test/status")}, {"value", b64(R"({"optime":12345})")}}));
  EXPECT_EQ(json::parse(puts[1].body), json({{"key", b64("/patroni/test/optime/leader")}, {"value", b64("12345")}}));
}

TEST_F(Etcd3DcsTest, SettersTurnEtcdRefusalsIntoFalse) {
  auto dcs = make();
  server.answer("/v3/kv/put", 404, std::string(rec::kErrLeaseNotFound));
  server.answer("/v3/kv/txn", 404, std::string(rec::kErrLeaseNotFound));
  server.answer("/v3/kv/deleterange", 500, error_body(13, "etcdserver: internal"));
  EXPECT_FALSE(dcs->set_failover_value("", 1));
  EXPECT_FALSE(dcs->set_config_value(""));
  EXPECT_FALSE(dcs->initialize());
  EXPECT_FALSE(dcs->cancel_initialization());
  EXPECT_FALSE(dcs->delete_cluster());
  EXPECT_FALSE(dcs->set_history_value(""));
  EXPECT_EQ(dcs->set_sync_state_value("", 1), std::nullopt);
  EXPECT_FALSE(dcs->delete_sync_state(1));
  // The first failure of a row is logged with its detail, the later ones briefly.
  const auto lines = log.lines();
  std::size_t detailed = 0;
  for (const auto& line : lines) {
    if (line.message.find("repeated failures are logged briefly") != std::string::npos) ++detailed;
  }
  EXPECT_EQ(detailed, 1u);
}

// ---- touch_member -----------------------------------------------------------------------------

TEST_F(Etcd3DcsTest, TouchMemberPutsCompactJsonUnderTheLease) {
  auto dcs = make();
  EXPECT_TRUE(dcs->touch_member(json{{"state", "running"}, {"api_url", "http://h:8008/patroni"}}));
  EXPECT_EQ(sent("/v3/kv/put"), json({{"key", b64("/patroni/test/members/foo")},
                                      {"value", b64(R"({"api_url":"http://h:8008/patroni","state":"running"})")},
                                      {"lease", std::to_string(kLease)}}));
}

TEST_F(Etcd3DcsTest, TouchMemberSkipsTheWriteWhenTheViewHoldsEqualDataUnderOurLease) {
  server.answer("/v3/kv/range", 200,
                range_of({kv("/patroni/test/members/foo", R"({"a":1,"b":{"c":"x"}})", 5, kLease)}));
  auto dcs = make();
  dcs->get_cluster();
  EXPECT_TRUE(dcs->touch_member(json{{"a", "1"}, {"b", {{"c", "x"}}}}));  // 1 and "1" compare equal
  EXPECT_EQ(count("/v3/kv/put"), 0u);
  EXPECT_TRUE(dcs->touch_member(json{{"a", 2}, {"b", {{"c", "x"}}}}));
  EXPECT_EQ(count("/v3/kv/put"), 1u);
}

TEST_F(Etcd3DcsTest, TouchMemberWithALostLeaseForgetsItAndReturnsFalse) {
  server.answer("/v3/kv/range", 200, range_of({kv("/patroni/test/members/foo", "{}", 5, kOtherLease)}));
  auto dcs = make();
  dcs->get_cluster();
  server.answer("/v3/kv/put", 404, std::string(rec::kErrLeaseNotFound));
  EXPECT_FALSE(dcs->touch_member(json::object()));  // the view's lease is not ours: written, refused
  EXPECT_EQ(dcs->lease(), 0);
  EXPECT_TRUE(logged(R"(Our lease disappeared from Etcd, can not "touch_member")"));

  server.answer("/v3/lease/grant", 500, error_body(13, "etcdserver: internal"));
  EXPECT_FALSE(dcs->touch_member(json::object()));  // no lease and none to be had: false, no throw
  EXPECT_EQ(count("/v3/kv/put"), 1u);

  server.answer("/v3/lease/grant", 200, lease_grant(777, 30));
  server.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  EXPECT_TRUE(dcs->touch_member(json::object()));
  EXPECT_EQ(sent("/v3/kv/put")["lease"], "777");
}

// ---- watch and ttl ----------------------------------------------------------------------------

TEST_F(Etcd3DcsTest, WatchWaitsTheTimeoutOrUntilWoken) {
  auto dcs = make();
  EXPECT_FALSE(dcs->watch(std::nullopt, 10ms));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(dcs->watch(7, 0ms));  // a follower waits 0.5 s longer
  EXPECT_GE(std::chrono::steady_clock::now() - started, 500ms);
  dcs->wake();
  EXPECT_TRUE(dcs->watch(std::nullopt, 10s));
  EXPECT_FALSE(dcs->watch(std::nullopt, 0ms));  // the wake-up was consumed
}

TEST_F(Etcd3DcsTest, WatchMakesTheNextLeaseRefreshSendAKeepalive) {
  auto dcs = make();
  EXPECT_TRUE(dcs->touch_member(json::object()));
  EXPECT_EQ(count("/v3/lease/keepalive"), 0u);  // refreshed less than loop_wait ago
  dcs->watch(std::nullopt, 0ms);
  EXPECT_TRUE(dcs->touch_member(json{{"x", 1}}));
  EXPECT_EQ(count("/v3/lease/keepalive"), 1u);
}

TEST_F(Etcd3DcsTest, SetTtlForgetsTheLeaseAndSkipsOneWatch) {
  auto dcs = make();
  dcs->set_ttl(20s);
  EXPECT_EQ(dcs->lease(), 0);
  EXPECT_TRUE(dcs->watch(std::nullopt, 10s));  // returns at once
  EXPECT_FALSE(dcs->watch(std::nullopt, 0ms));
  server.answer("/v3/lease/grant", 200, lease_grant(kOtherLease, 20));
  EXPECT_TRUE(dcs->update_leader(cluster_with_leader("foo", kLease), std::nullopt));
  EXPECT_EQ(sent("/v3/lease/grant"), json::parse(R"({"TTL":"20"})"));
  EXPECT_EQ(sent("/v3/kv/txn")["success"][0]["request_put"]["lease"], std::to_string(kOtherLease));
  dcs->set_ttl(20s);  // unchanged: nothing happens
  EXPECT_EQ(dcs->lease(), kOtherLease);
  EXPECT_FALSE(dcs->watch(std::nullopt, 0ms));
}

TEST_F(Etcd3DcsTest, SetRetryTimeoutReachesTheClient) {
  auto dcs = make();
  dcs->set_retry_timeout(7s);
  EXPECT_EQ(dcs->client().retry_timeout(), 7s);
}

// ---- direct reads reuse the previous view ---------------------------------------------------------

// The error a read of `body` raises in `dcs` ("" when it raises none), with its type.
std::string read_error(Etcd3& dcs) {
  try {
    dcs.get_cluster();
    return "";
  } catch (const Etcd3Error& e) {
    return std::string("Etcd3Error: ") + e.what();
  } catch (const DCSError& e) {
    return std::string("DCSError: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
}

TEST_F(Etcd3DcsTest, DirectReadReusesAnUnchangedMemberAndDecodesAChangedOne) {
  server.answer("/v3/kv/range", 200,
                range_of({kv("/patroni/test/leader", "bar", 7, 77),
                          kv("/patroni/test/members/bar", R"({"version":"1.6.5"})", 6, 77),
                          kv("/patroni/test/members/foo", R"({"version":"2.0.0"})", 5, kLease)}));
  auto dcs = make();
  const auto first = dcs->get_cluster();
  ASSERT_EQ(first->members.size(), 2u);
  // foo is written again (new mod_revision), bar is not, baz is new.
  server.answer("/v3/kv/range", 200,
                range_of({kv("/patroni/test/leader", "bar", 7, 77),
                          kv("/patroni/test/members/bar", R"({"version":"1.6.5"})", 6, 77),
                          kv("/patroni/test/members/baz", R"({"version":"3.0.0"})", 12, 77),
                          kv("/patroni/test/members/foo", R"({"version":"2.0.1"})", 11, kLease)}));
  const auto second = dcs->get_cluster();
  ASSERT_EQ(second->members.size(), 3u);
  EXPECT_EQ(second->members[0], first->members[0]) << "bar: the same Member object";
  EXPECT_EQ(second->members[1]->data, json({{"version", "3.0.0"}}));
  EXPECT_NE(second->members[2], first->members[1]);
  EXPECT_EQ(second->members[2]->data, json({{"version", "2.0.1"}}));
  EXPECT_EQ(second->members[2]->version, 11);
  EXPECT_EQ(second->leader->member->data, json({{"version", "1.6.5"}}));
  // The same answer read by a DCS without a previous view gives the same cluster.
  auto fresh = make();
  EXPECT_EQ(*fresh->get_cluster(), *second);
}

TEST_F(Etcd3DcsTest, DirectReadDecodesAMemberWhoseLeaseMoved) {
  server.answer("/v3/kv/range", 200, range_of({kv("/patroni/test/members/bar", R"({"a":1})", 6, 77)}));
  auto dcs = make();
  const auto first = dcs->get_cluster();
  server.answer("/v3/kv/range", 200, range_of({kv("/patroni/test/members/bar", R"({"a":2})", 6, 78)}));
  const auto second = dcs->get_cluster();
  ASSERT_EQ(second->members.size(), 1u);
  EXPECT_NE(second->members[0], first->members[0]);
  EXPECT_EQ(second->members[0]->data, json({{"a", 2}}));
  EXPECT_EQ(second->members[0]->session, 78);
}

TEST_F(Etcd3DcsTest, DirectReadOfBadBase64InANewOrChangedMemberFailsAsWithoutAPreviousView) {
  const json bar = kv("/patroni/test/members/bar", "{}", 6, 77);
  server.answer("/v3/kv/range", 200, range_of({bar}));
  auto dcs = make();
  ASSERT_EQ(dcs->get_cluster()->members.size(), 1u);
  json changed = kv("/patroni/test/members/bar", "", 9, 77);
  changed["value"] = "not base64!";
  json added = kv("/patroni/test/members/baz", "", 9, 77);
  added["value"] = "not base64!";
  for (const auto& body : {range_of({changed}), range_of({bar, added})}) {
    server.answer("/v3/kv/range", 200, body);
    auto fresh = make();
    const auto expected = read_error(*fresh);
    ASSERT_NE(expected, "") << body;
    EXPECT_EQ(read_error(*dcs), expected) << body;
    EXPECT_EQ(dcs->cluster(), nullptr);
    // The view it failed to refresh is still the one reused afterwards.
    server.answer("/v3/kv/range", 200, range_of({bar}));
    ASSERT_EQ(read_error(*dcs), "");
  }
}

TEST_F(Etcd3DcsTest, DirectReadOfBadJsonInAChangedMemberReadsAsWithoutAPreviousView) {
  server.answer("/v3/kv/range", 200, range_of({kv("/patroni/test/members/bar", R"({"a":1})", 6, 77)}));
  auto dcs = make();
  ASSERT_EQ(dcs->get_cluster()->members.at(0)->data, json({{"a", 1}}));
  server.answer("/v3/kv/range", 200, range_of({kv("/patroni/test/members/bar", R"({"a":)", 9, 77)}));
  const auto changed = dcs->get_cluster();
  auto fresh = make();
  EXPECT_EQ(*changed, *fresh->get_cluster());
  EXPECT_NE(changed->members.at(0)->data, json({{"a", 1}}));
}

TEST_F(Etcd3DcsTest, DirectReadDoesNotDecodeAMemberAgainAtTheSameRevisionAndLease) {
  // etcd cannot send another value for a key at the same mod_revision: a value that was decoded
  // and accepted once is not looked at again, so not even text that is not base64 matters.
  server.answer("/v3/kv/range", 200, range_of({kv("/patroni/test/members/bar", R"({"a":1})", 6, 77)}));
  auto dcs = make();
  const auto first = dcs->get_cluster();
  json same = kv("/patroni/test/members/bar", "", 6, 77);
  same["value"] = "not base64!";
  server.answer("/v3/kv/range", 200, range_of({same}));
  const auto second = dcs->get_cluster();
  ASSERT_EQ(second->members.size(), 1u);
  EXPECT_EQ(second->members[0], first->members[0]);
}

TEST_F(Etcd3DcsTest, ADirectReadThatFindsEveryKeyAsBeforeHandsBackTheSameView) {
  const auto answer = [](std::int64_t config_revision, std::int64_t leader_lease) {
    return range_of({kv("/patroni/test/config", R"({"ttl":30})", config_revision, 0),
                     kv("/patroni/test/leader", "bar", 7, leader_lease),
                     kv("/patroni/test/members/bar", R"({"version":"1.6.5"})", 6, 77),
                     kv("/patroni/test/status", R"({"optime":67108864})", 8, 0)});
  };
  server.answer("/v3/kv/range", 200, answer(3, 77));
  auto dcs = make();
  const auto first = dcs->get_cluster();
  EXPECT_EQ(dcs->get_cluster(), first) << "nothing moved: the view already built";
  EXPECT_EQ(dcs->cluster(), first);

  server.answer("/v3/kv/range", 200, answer(9, 77));  // config rewritten
  const auto second = dcs->get_cluster();
  EXPECT_NE(second, first);
  EXPECT_EQ(second->config->version, 9);
  server.answer("/v3/kv/range", 200, answer(9, 78));  // the leader key bound to another lease
  const auto third = dcs->get_cluster();
  EXPECT_NE(third, second);
  EXPECT_EQ(third->leader->session, 78);
  server.answer("/v3/kv/range", 200,
                range_of({kv("/patroni/test/config", R"({"ttl":30})", 9, 0), kv("/patroni/test/leader", "bar", 7, 78),
                          kv("/patroni/test/members/bar", R"({"version":"1.6.5"})", 6, 77)}));
  const auto fourth = dcs->get_cluster();  // status deleted
  EXPECT_NE(fourth, third);
  EXPECT_TRUE(fourth->status.is_empty());
  auto fresh = make();
  EXPECT_EQ(*fresh->get_cluster(), *fourth);
}

}  // namespace
}  // namespace dcs::etcd3
