// The client's request path across several endpoints, against in-process mock members: which
// failures move a request to another endpoint, which do not, the stale-member guard, stickiness,
// the listener, racing a silent member, and what a plain write does when its outcome is unknown.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dcs/etcd3/client.hpp"
#include "unit/mock_etcd_server.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::test {
namespace {

using namespace dcs::etcd3;
using nlohmann::json;
namespace rec = dcs::test::recorded;

// A recorded range answer with the header's raft term replaced.
std::string range_with_term(int term) {
  json answer = json::parse(rec::kRangeFoo);
  answer["header"]["raft_term"] = std::to_string(term);
  return answer.dump();
}

std::string closed_port_url() {
  return "http://127.0.0.1:9";
}

class FailoverUnit : public ::testing::Test {
 protected:
  Etcd3Options options(std::vector<std::string> endpoints) {
    Etcd3Options o;
    o.endpoints = std::move(endpoints);
    o.use_proxies = true;  // a fixed list: the mocks' recorded member lists name other ports
    o.retry_timeout = std::chrono::seconds(2);
    return o;
  }
  void listen(Etcd3Client& client) {
    client.set_endpoint_listener([this](const std::string& endpoint) {
      std::lock_guard lock(mutex_);
      switches_.push_back(endpoint);
    });
  }
  std::vector<std::string> switches() {
    std::lock_guard lock(mutex_);
    return switches_;
  }

  MockEtcdServer a;
  MockEtcdServer b;
  std::mutex mutex_;
  std::vector<std::string> switches_;
};

TEST_F(FailoverUnit, UnreachableEndpointIsSkippedAndTheSwitchSticks) {
  b.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  Etcd3Client client(options({closed_port_url(), b.url()}));
  listen(client);
  EXPECT_EQ(client.range({.key = "foo"}).kvs.at(0).value, "bar2");
  EXPECT_EQ(client.current_endpoint(), b.url());
  EXPECT_EQ(switches(), std::vector<std::string>{b.url()});
  client.range({.key = "foo"});
  EXPECT_EQ(switches().size(), 1u) << "no switch back and forth";
}

TEST_F(FailoverUnit, UnavailableMovesToTheNextEndpoint) {
  a.answer("/v3/kv/range", 503, R"({"error":"etcdserver: request timed out","code":14})");
  b.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  Etcd3Client client(options({a.url(), b.url()}));
  EXPECT_EQ(client.range({.key = "foo"}).count, 1);
  EXPECT_EQ(client.current_endpoint(), b.url());
}

TEST_F(FailoverUnit, NotAPrimaryLessorMovesTheKeepaliveToTheNextEndpoint) {
  a.answer("/v3/lease/keepalive", 500, R"({"error":{"grpc_code":2,"http_code":500,"message":"not a primary lessor"}})");
  b.answer("/v3/lease/keepalive", 200, std::string(rec::kLeaseKeepAlive));
  Etcd3Client client(options({a.url(), b.url()}));
  EXPECT_TRUE(client.lease_keepalive(2000).alive());
  EXPECT_EQ(client.current_endpoint(), b.url());
}

TEST_F(FailoverUnit, PlainWriteRefusedForNoLeaderIsSentToTheNextMember) {
  // A member without a leader refuses a request that carries hasleader before proposing it, so
  // even a plain put or delete (never sent twice otherwise) goes on to the next member.
  a.answer("/v3/kv/put", 503, std::string(rec::kErrNoLeader));
  a.answer("/v3/kv/deleterange", 503, std::string(rec::kErrNoLeader));
  b.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  b.answer("/v3/kv/deleterange", 200, std::string(rec::kDeletePrevKvs));
  RecordingLog log;
  Etcd3Options o = options({a.url(), b.url()});
  o.log_sink = log.sink();
  Etcd3Client client(o);
  listen(client);
  EXPECT_EQ(client.put({.key = "k", .value = "v"}).header.revision, 2);
  EXPECT_EQ(a.requests_to("/v3/kv/put").size(), 1u);
  EXPECT_EQ(b.requests_to("/v3/kv/put").size(), 1u);
  EXPECT_EQ(client.current_endpoint(), b.url());
  EXPECT_EQ(switches(), std::vector<std::string>{b.url()});
  const auto lines = log.lines();
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const LogLine& line) {
    return line.message.find("Request to server " + a.url() + " failed") != std::string::npos &&
           line.message.find("etcdserver: no leader") != std::string::npos;
  }));

  // A plain delete from a client that starts on a again takes the same way.
  Etcd3Client fresh(options({a.url(), b.url()}));
  DeleteRangeRequest del;
  del.key = "b/1";
  EXPECT_EQ(fresh.delete_range(del).deleted, 1);
  EXPECT_EQ(b.requests_to("/v3/kv/deleterange").size(), 1u);
}

TEST_F(FailoverUnit, OtherUnavailableAnswersToAPlainWriteAreNotSentAgain) {
  // "request timed out" comes after the proposal: the write may still be applied.
  a.answer("/v3/kv/put", 503, std::string(rec::kErrRequestTimedOut));
  b.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  Etcd3Client client(options({a.url(), b.url()}));
  try {
    client.put({.key = "k", .value = "v"});
    FAIL() << "no exception";
  } catch (const Unavailable& e) {
    EXPECT_EQ(dynamic_cast<const NoLeader*>(&e), nullptr);
    EXPECT_TRUE(e.outcome_unknown());
  }
  EXPECT_TRUE(b.requests_to("/v3/kv/put").empty()) << "the write may have been applied by a";
}

TEST_F(FailoverUnit, PlainWriteWaitsOutAnElectionOnEveryMember) {
  // Every member answers "no leader" for a while (an election), then a answers again: the put is
  // repeated in rounds, after a back-off, until one takes it, and nothing is applied twice.
  std::atomic<int> refusals{0};
  const auto electing = [&](const RecordedRequest&) {
    return refusals++ < 2 ? CannedResponse{503, std::string(rec::kErrNoLeader)}
                          : CannedResponse{200, std::string(rec::kPutPlain)};
  };
  a.handle("/v3/kv/put", electing);
  b.handle("/v3/kv/put", electing);
  Etcd3Options o = options({a.url(), b.url()});
  o.retry_timeout = std::chrono::seconds(10);
  Etcd3Client client(o);
  EXPECT_EQ(client.put({.key = "k", .value = "v"}).header.revision, 2);
  EXPECT_EQ(a.requests_to("/v3/kv/put").size(), 2u) << "asked again in the second round";
  EXPECT_EQ(b.requests_to("/v3/kv/put").size(), 1u);
}

TEST_F(FailoverUnit, NoLeaderEverywhereUntilTheBudgetEndsIsReportedAsNoLeader) {
  a.answer("/v3/kv/put", 503, std::string(rec::kErrNoLeader));
  b.answer("/v3/kv/put", 503, std::string(rec::kErrNoLeader));
  Etcd3Options o = options({a.url(), b.url()});
  // The first pause between rounds is 100 ms plus up to 800 ms of jitter: a 1 s budget left too
  // little for a second round when the first one was slow (under TSan on a loaded machine).
  o.retry_timeout = std::chrono::seconds(3);
  Etcd3Client client(o);
  try {
    client.put({.key = "k", .value = "v"});
    FAIL() << "no exception";
  } catch (const NoLeader& e) {
    EXPECT_FALSE(e.outcome_unknown()) << "no member took the write";
  }
  EXPECT_GE(a.requests_to("/v3/kv/put").size(), 2u) << "more than one round";
}

TEST_F(FailoverUnit, ARacedCopyThatAnswersWithAnErrorIsBlamedOnItsOwnMember) {
  // a is silent; the copy raced to b comes back "no leader"; c answers. The log and the failure
  // marks must name b for the error, and a only for its silence.
  MockEtcdServer c;
  a.stream("/v3/kv/range", StreamScript{200, {StreamStep::hold_open()}});
  b.answer("/v3/kv/range", 503, std::string(rec::kErrNoLeader));
  c.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  RecordingLog log;
  Etcd3Options o = options({a.url(), b.url(), c.url()});
  o.retry_timeout = std::chrono::seconds(10);
  o.log_sink = log.sink();
  Etcd3Client client(o);
  EXPECT_EQ(client.range({.key = "foo"}).count, 1);
  EXPECT_EQ(client.current_endpoint(), c.url());
  EXPECT_EQ(b.requests_to("/v3/kv/range").size(), 1u) << "b already answered in this round";

  std::vector<std::string> warnings;
  for (const auto& line : log.lines()) {
    if (line.level == LogLevel::warning) warnings.push_back(line.message);
  }
  const auto logged = [&](const std::string& start, const std::string& part) {
    return std::any_of(warnings.begin(), warnings.end(), [&](const std::string& w) {
      return w.rfind(start, 0) == 0 && w.find(part) != std::string::npos;
    });
  };
  std::string all;
  for (const auto& w : warnings) all += "\n  " + w;
  EXPECT_TRUE(logged("Request to server " + b.url() + " failed", "etcdserver: no leader")) << all;
  EXPECT_FALSE(logged("Request to server " + a.url(), "")) << "a produced no error" << all;
  EXPECT_TRUE(logged("etcd server " + a.url() + " did not answer in time", "")) << all;

  // Both are suspects now: the next call goes to c first and asks nobody else.
  client.range({.key = "foo"});
  EXPECT_EQ(b.requests_to("/v3/kv/range").size(), 1u);
  EXPECT_EQ(a.requests_to("/v3/kv/range").size(), 1u);
}

TEST_F(FailoverUnit, OtherEtcdErrorsGoStraightToTheCaller) {
  a.answer("/v3/kv/put", 404, R"({"error":"etcdserver: requested lease not found","code":5})");
  b.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  Etcd3Client client(options({a.url(), b.url()}));
  EXPECT_THROW(client.put({.key = "k", .value = "v", .lease = 7}), LeaseNotFound);
  EXPECT_TRUE(b.requests_to("/v3/kv/put").empty()) << "an answer from etcd is not an endpoint failure";
  EXPECT_EQ(client.current_endpoint(), a.url());
}

TEST_F(FailoverUnit, MemberWithAnOlderRaftTermIsStaleAndLeftForAnother) {
  a.answer("/v3/kv/range", 200, range_with_term(5));
  Etcd3Client client(options({a.url(), b.url()}));
  client.range({.key = "foo"});  // learns term 5 from a
  // a now answers as if it had been cut off from the cluster for a while.
  a.answer("/v3/kv/range", 200, range_with_term(3));
  b.answer("/v3/kv/range", 200, range_with_term(6));
  EXPECT_EQ(client.range({.key = "foo"}).header.raft_term, 6u);
  EXPECT_EQ(client.current_endpoint(), b.url());
}

TEST_F(FailoverUnit, NewClusterIdResetsTheRememberedTerm) {
  a.answer("/v3/kv/range", 200, range_with_term(9));
  Etcd3Client client(options({a.url()}));
  client.range({.key = "foo"});
  json other = json::parse(range_with_term(1));
  other["header"]["cluster_id"] = "42";
  a.answer("/v3/kv/range", 200, other.dump());
  EXPECT_EQ(client.range({.key = "foo"}).header.cluster_id, 42u) << "another cluster is not a stale member";
}

TEST_F(FailoverUnit, SilentEndpointIsRacedByTheNextOne) {
  // a accepts the request and never answers (a frozen member); b answers at once.
  a.stream("/v3/lease/keepalive", StreamScript{200, {StreamStep::hold_open()}});
  b.answer("/v3/lease/keepalive", 200, std::string(rec::kLeaseKeepAlive));
  Etcd3Options o = options({a.url(), b.url()});
  o.retry_timeout = std::chrono::seconds(10);
  Etcd3Client client(o);
  EXPECT_TRUE(client.lease_keepalive(2000).alive());
  EXPECT_EQ(client.current_endpoint(), b.url());
  EXPECT_EQ(a.requests_to("/v3/lease/keepalive").size(), 1u);
  // The frozen member is now tried last, so the next call does not wait on it again.
  client.lease_keepalive(2000);
  EXPECT_EQ(a.requests_to("/v3/lease/keepalive").size(), 1u);
}

TEST_F(FailoverUnit, PlainWriteWithUnknownOutcomeIsNotSentAgain) {
  a.stream("/v3/kv/put", StreamScript{200, {StreamStep::hold_open()}});
  b.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  Etcd3Options o = options({a.url(), b.url()});
  o.retry_timeout = std::chrono::seconds(2);
  Etcd3Client client(o);
  try {
    client.put({.key = "k", .value = "v"});
    FAIL() << "no exception";
  } catch (const EtcdConnectionFailed& e) {
    EXPECT_TRUE(e.outcome_unknown()) << e.what();
  }
  EXPECT_TRUE(b.requests_to("/v3/kv/put").empty()) << "the write may have been applied by a";
}

TEST_F(FailoverUnit, CompareGuardedWriteIsSentToTheNextEndpoint) {
  a.answer("/v3/kv/txn", 503, R"({"error":"etcdserver: request timed out","code":14})");
  b.answer("/v3/kv/txn", 200, R"({"header":{"revision":"12"},"succeeded":true})");
  Etcd3Client client(options({a.url(), b.url()}));
  TxnRequest txn;
  txn.compare.push_back(Compare::create_revision("k", CompareResult::equal, 0));
  txn.success.push_back({PutRequest{.key = "k", .value = "v"}});
  EXPECT_TRUE(client.txn(txn).succeeded);
}

TEST_F(FailoverUnit, EveryEndpointDownEndsWithinTheBudget) {
  Etcd3Client client(options({closed_port_url(), "http://127.0.0.1:7"}));
  try {
    client.range({.key = "foo"});
    FAIL() << "no exception";
  } catch (const EtcdConnectionFailed& e) {
    EXPECT_NE(std::string(e.what()).find("No more machines"), std::string::npos) << e.what();
    EXPECT_TRUE(e.retry_on_other_endpoint());
  }
}

TEST_F(FailoverUnit, DeadlineExceededIsRetriedUntilTheBudgetEnds) {
  a.answer("/v3/kv/range", 504, R"({"error":"context deadline exceeded","code":4})");
  Etcd3Client client(options({a.url()}));
  EXPECT_THROW(client.range({.key = "foo"}), RetryFailedError);
  EXPECT_GE(a.requests_to("/v3/kv/range").size(), 2u);
}

TEST_F(FailoverUnit, MemberThatCannotFinishInTimeIsLeftForAnother) {
  // What a member cut off from its quorum answers once the request's Grpc-Timeout expires.
  a.answer("/v3/kv/range", 504, R"({"error":"context deadline exceeded","code":4})");
  b.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  Etcd3Client client(options({a.url(), b.url()}));
  EXPECT_EQ(client.range({.key = "foo"}).count, 1);
  EXPECT_EQ(client.current_endpoint(), b.url());
}

TEST_F(FailoverUnit, PlainWriteThatRanOutOfTimeIsNotSentAgain) {
  a.answer("/v3/kv/put", 504, R"({"error":"context deadline exceeded","code":4})");
  b.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  Etcd3Client client(options({a.url(), b.url()}));
  try {
    client.put({.key = "k", .value = "v"});
    FAIL() << "no exception";
  } catch (const DeadlineExceeded& e) {
    EXPECT_TRUE(e.outcome_unknown());
  }
  EXPECT_TRUE(b.requests_to("/v3/kv/put").empty()) << "the write may have been applied by a";
}

TEST_F(FailoverUnit, LearnerRefusalMovesToAnotherMember) {
  a.answer("/v3/kv/range", 400, R"({"code":9,"message":"etcdserver: rpc not supported for learner"})");
  b.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  Etcd3Client client(options({a.url(), b.url()}));
  EXPECT_EQ(client.range({.key = "foo"}).count, 1);
  EXPECT_EQ(client.current_endpoint(), b.url());
}

TEST_F(FailoverUnit, MemberListReplacesTheSeedsWithoutLearnersOrUnstartedMembers) {
  json list = json::parse(rec::kMemberListWithLearner);
  list["members"] = json::array({{{"ID", "1"}, {"name", "m1"}, {"clientURLs", {a.url()}}},
                                 {{"ID", "2"}, {"isLearner", true}, {"clientURLs", {"http://127.0.0.1:1"}}},
                                 {{"ID", "3"}},
                                 {{"ID", "4"}, {"name", "m2"}, {"clientURLs", {b.url() + "/"}}}});
  a.answer("/v3/cluster/member/list", 200, list.dump());
  a.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  Etcd3Options o = options({a.url()});
  o.use_proxies = false;
  Etcd3Client client(o);
  client.range({.key = "foo"});
  auto known = client.endpoints();
  std::sort(known.begin(), known.end());
  auto expected = std::vector<std::string>{a.url(), b.url()};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(known, expected);
}

}  // namespace
}  // namespace dcs::test
