// What the client actually puts on the wire, as the mock received it: etcd silently ignores a
// misspelled field (a lower-case "ttl" grants the minimum TTL), so every body is checked.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "dcs/etcd3/client.hpp"
#include "unit/mock_etcd_server.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::etcd3 {
namespace {

using dcs::test::MockEtcdServer;
using dcs::test::options_for;
using nlohmann::json;
namespace rec = dcs::test::recorded;

class RequestBodies : public ::testing::Test {
 protected:
  RequestBodies() {
    server.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
    server.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
    server.answer("/v3/kv/deleterange", 200, std::string(rec::kDeleteMissing));
    server.answer("/v3/kv/txn", 200, std::string(rec::kTxnSucceededPut));
    server.answer("/v3/kv/compaction", 200, std::string(rec::kCompaction));
    server.answer("/v3/lease/grant", 200, std::string(rec::kLeaseGrant));
    server.answer("/v3/lease/keepalive", 200, std::string(rec::kLeaseKeepAlive));
    server.answer("/v3/lease/revoke", 200, std::string(rec::kLeaseRevoke));
    server.answer("/v3/lease/timetolive", 200, std::string(rec::kLeaseTimeToLiveKeys));
    server.answer("/v3/cluster/member/list", 200, std::string(rec::kMemberListWithLearner));
    server.answer("/v3/maintenance/status", 200, std::string(rec::kStatus));
  }

  // The body of the last request to `path`, parsed (never compared as text).
  json sent(const std::string& path) const { return json::parse(server.last_request_to(path).body); }

  MockEtcdServer server;
  Etcd3Client client{options_for(server)};
};

TEST_F(RequestBodies, PutBase64EncodesKeyAndValueAndSendsInt64AsStrings) {
  PutRequest put;
  put.key = std::string("\xff\x00\x01k", 4);
  put.value = std::string("\x00\xfe", 2);
  put.lease = 5189732357884290374;
  put.prev_kv = true;
  client.put(put);
  EXPECT_EQ(sent("/v3/kv/put"),
            json::parse(R"({"key":"/wABaw==","value":"AP4=","lease":"5189732357884290374","prev_kv":true})"));

  PutRequest keep;
  keep.key = "foo";
  keep.ignore_value = true;
  keep.ignore_lease = true;
  client.put(keep);
  EXPECT_EQ(sent("/v3/kv/put"), json::parse(R"({"key":"Zm9v","ignore_value":true,"ignore_lease":true})"));
}

TEST_F(RequestBodies, RangeWithPrefixAndOptions) {
  RangeRequest range = RangeRequest::with_prefix("a/");
  range.limit = 2;
  range.revision = 9;
  range.sort_order = SortOrder::descend;
  range.keys_only = true;
  range.serializable = true;
  client.range(range);
  EXPECT_EQ(sent("/v3/kv/range"), json::parse(R"({"key":"YS8=","range_end":"YTA=","limit":"2","revision":"9",
                                                  "sort_order":"DESCEND","keys_only":true,"serializable":true})"));
}

TEST_F(RequestBodies, DeleteRangeAndCompaction) {
  DeleteRangeRequest del;
  del.key = "a/";
  del.range_end = prefix_range_end("a/");
  del.prev_kv = true;
  client.delete_range(del);
  EXPECT_EQ(sent("/v3/kv/deleterange"), json::parse(R"({"key":"YS8=","range_end":"YTA=","prev_kv":true})"));

  client.compact(CompactionRequest{17, true});
  EXPECT_EQ(sent("/v3/kv/compaction"), json::parse(R"({"revision":"17","physical":true})"));
}

TEST_F(RequestBodies, TxnWithComparesBranchesAndANestedTxn) {
  TxnRequest inner;
  inner.compare.push_back(Compare::version("foo", CompareResult::greater, 0));
  RangeRequest count;
  count.key = "foo";
  count.count_only = true;
  inner.success.push_back(RequestOp{count});

  TxnRequest txn;
  txn.compare.push_back(Compare::create_revision("txk", CompareResult::equal, 0));
  txn.compare.push_back(Compare::value_of("txk", CompareResult::not_equal, "v1"));
  txn.compare.push_back(Compare::mod_revision("txk", CompareResult::less, 1000));
  txn.compare.push_back(Compare::lease("txk", CompareResult::equal, 5189732357884290374));
  PutRequest put;
  put.key = "txk";
  put.value = "v1";
  put.lease = 5189732357884290374;
  txn.success.push_back(RequestOp{put});
  txn.success.push_back(RequestOp{inner});
  DeleteRangeRequest del;
  del.key = "txk";
  txn.failure.push_back(RequestOp{del});
  RangeRequest get;
  get.key = "txk";
  txn.failure.push_back(RequestOp{get});
  client.txn(txn);

  EXPECT_EQ(sent("/v3/kv/txn"), json::parse(R"({
    "compare":[
      {"key":"dHhr","target":"CREATE","create_revision":"0"},
      {"key":"dHhr","target":"VALUE","result":"NOT_EQUAL","value":"djE="},
      {"key":"dHhr","target":"MOD","result":"LESS","mod_revision":"1000"},
      {"key":"dHhr","target":"LEASE","lease":"5189732357884290374"}],
    "success":[
      {"request_put":{"key":"dHhr","value":"djE=","lease":"5189732357884290374"}},
      {"request_txn":{"compare":[{"key":"Zm9v","target":"VERSION","result":"GREATER","version":"0"}],
                      "success":[{"request_range":{"key":"Zm9v","count_only":true}}]}}],
    "failure":[
      {"request_delete_range":{"key":"dHhr"}},
      {"request_range":{"key":"dHhr"}}]})"));
}

TEST_F(RequestBodies, LeaseGrantUsesUpperCaseTtl) {
  client.lease_grant(30);
  const json body = sent("/v3/lease/grant");
  EXPECT_EQ(body, json::parse(R"({"TTL":"30"})"));
  EXPECT_FALSE(body.contains("ttl"));

  client.lease_grant(5, 1000);
  EXPECT_EQ(sent("/v3/lease/grant"), json::parse(R"({"TTL":"5","ID":"1000"})"));
}

TEST_F(RequestBodies, LeaseIdCalls) {
  client.lease_keepalive(5189732357884290374);
  EXPECT_EQ(sent("/v3/lease/keepalive"), json::parse(R"({"ID":"5189732357884290374"})"));
  client.lease_revoke(2000);
  EXPECT_EQ(sent("/v3/lease/revoke"), json::parse(R"({"ID":"2000"})"));
  client.lease_time_to_live(1000, true);
  EXPECT_EQ(sent("/v3/lease/timetolive"), json::parse(R"({"ID":"1000","keys":true})"));
  client.lease_time_to_live(1000);
  EXPECT_EQ(sent("/v3/lease/timetolive"), json::parse(R"({"ID":"1000"})"));
}

TEST_F(RequestBodies, ClusterCallsSendAnEmptyObject) {
  client.member_list();
  EXPECT_EQ(sent("/v3/cluster/member/list"), json::object());
  client.status();
  EXPECT_EQ(sent("/v3/maintenance/status"), json::object());
}

TEST_F(RequestBodies, EveryUnaryCallIsAJsonPost) {
  client.range(RangeRequest::with_prefix("x"));
  client.put(PutRequest{"k", "v"});
  client.lease_grant(10);
  for (const auto& request : server.requests()) {
    if (request.path == "/version") {
      EXPECT_EQ(request.method, "GET");
      continue;
    }
    EXPECT_EQ(request.method, "POST") << request.path;
    EXPECT_EQ(request.header("Content-Type"), "application/json") << request.path;
    EXPECT_EQ(request.header("Expect"), std::nullopt) << "no 100-continue round trip";
  }
}

TEST_F(RequestBodies, WatchSendsOneCreateRequest) {
  server.stream("/v3/watch",
                dcs::test::StreamScript{200, {dcs::test::StreamStep::chunk(std::string(rec::kWatchCreated))}});
  WatchCreateRequest request;
  request.key = "wk";
  request.range_end = "wl";
  request.start_revision = 21;
  request.prev_kv = true;
  request.progress_notify = true;
  request.filters = {WatchFilter::no_delete};
  WatchCanceller canceller;
  EXPECT_THROW(client.watch(
                   request, [](const WatchResponse&) {}, canceller),
               EtcdConnectionFailed)
      << "the mock ends the stream after the created message";
  EXPECT_EQ(sent("/v3/watch"), json::parse(R"({"create_request":{"key":"d2s=","range_end":"d2w=",
      "start_revision":"21","progress_notify":true,"filters":["NODELETE"],"prev_kv":true}})"));
}

}  // namespace
}  // namespace dcs::etcd3
