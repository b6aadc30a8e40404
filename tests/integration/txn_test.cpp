// Transactions against a real etcd: compare-and-set in every flavour, both branches, nesting.
#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using TxnTest = EtcdTest;

RequestOp put_op(std::string key, std::string value, bool prev_kv = false) {
  PutRequest request;
  request.key = std::move(key);
  request.value = std::move(value);
  request.prev_kv = prev_kv;
  return RequestOp{request};
}

RequestOp range_op(std::string key) {
  RangeRequest request;
  request.key = std::move(key);
  return RequestOp{request};
}

RequestOp delete_op(std::string key, bool prev_kv = false) {
  DeleteRangeRequest request;
  request.key = std::move(key);
  request.prev_kv = prev_kv;
  return RequestOp{request};
}

template <typename T>
const T& as(const ResponseOp& op) {
  const T* response = std::get_if<T>(&op.response);
  if (response == nullptr) throw std::runtime_error("unexpected response type in txn answer");
  return *response;
}

TEST_F(TxnTest, CreateIfAbsentSucceedsOnceThenRunsTheFailureBranch) {
  TxnRequest request;
  request.compare = {Compare::create_revision(key("lock"), CompareResult::equal, 0)};
  request.success = {put_op(key("lock"), "owner-1")};
  request.failure = {range_op(key("lock"))};

  const TxnResponse first = client().txn(request);
  EXPECT_TRUE(first.succeeded);
  ASSERT_EQ(first.responses.size(), 1u);
  EXPECT_EQ(as<PutResponse>(first.responses[0]).header.revision, first.header.revision);

  request.success = {put_op(key("lock"), "owner-2")};
  const TxnResponse second = client().txn(request);
  EXPECT_FALSE(second.succeeded);
  ASSERT_EQ(second.responses.size(), 1u);
  const RangeResponse& current = as<RangeResponse>(second.responses[0]);
  ASSERT_EQ(current.kvs.size(), 1u);
  EXPECT_EQ(current.kvs[0].value, "owner-1");
  EXPECT_EQ(current.kvs[0].create_revision, first.header.revision);
  EXPECT_EQ(get(key("lock")).kvs.at(0).value, "owner-1");
}

TEST_F(TxnTest, ModRevisionCompareIsACompareAndSet) {
  const std::int64_t revision = put(key("cas"), "v1").header.revision;

  TxnRequest request;
  request.compare = {Compare::mod_revision(key("cas"), CompareResult::equal, revision)};
  request.success = {put_op(key("cas"), "v2")};
  const TxnResponse won = client().txn(request);
  EXPECT_TRUE(won.succeeded);

  request.success = {put_op(key("cas"), "v3")};  // same expected revision: now stale
  const TxnResponse lost = client().txn(request);
  EXPECT_FALSE(lost.succeeded);
  EXPECT_TRUE(lost.responses.empty());
  EXPECT_EQ(get(key("cas")).kvs.at(0).value, "v2");
}

TEST_F(TxnTest, ValueCompareWithThreeOperations) {
  put(key("val"), "v1");

  TxnRequest request;
  request.compare = {Compare::value_of(key("val"), CompareResult::equal, "v1")};
  request.success = {put_op(key("val"), "v2", /*prev_kv=*/true), range_op(key("val")), delete_op(key("nothing"))};
  const TxnResponse response = client().txn(request);
  ASSERT_TRUE(response.succeeded);
  ASSERT_EQ(response.responses.size(), 3u);

  const PutResponse& put_response = as<PutResponse>(response.responses[0]);
  ASSERT_TRUE(put_response.prev_kv.has_value());
  EXPECT_EQ(put_response.prev_kv->value, "v1");
  const RangeResponse& range_response = as<RangeResponse>(response.responses[1]);
  ASSERT_EQ(range_response.kvs.size(), 1u);
  EXPECT_EQ(range_response.kvs[0].value, "v2");
  EXPECT_EQ(as<DeleteRangeResponse>(response.responses[2]).deleted, 0);

  request.compare = {Compare::value_of(key("val"), CompareResult::equal, "v1")};  // no longer true
  EXPECT_FALSE(client().txn(request).succeeded);
  request.compare = {Compare::value_of(key("val"), CompareResult::not_equal, "v1")};
  request.success = {};
  EXPECT_TRUE(client().txn(request).succeeded);
}

TEST_F(TxnTest, FailedCompareWithoutFailureOpsReportsNotSucceeded) {
  const std::int64_t revision = put(key("f"), "v").header.revision;
  TxnRequest request;
  request.compare = {Compare::mod_revision(key("f"), CompareResult::not_equal, revision)};
  request.success = {put_op(key("f"), "changed")};
  const TxnResponse response = client().txn(request);
  EXPECT_FALSE(response.succeeded);
  EXPECT_TRUE(response.responses.empty());
  EXPECT_GT(response.header.revision, 0);
  EXPECT_EQ(get(key("f")).kvs.at(0).value, "v");
}

TEST_F(TxnTest, FailureBranchResultsInOrder) {
  put(key("a"), "1");
  put(key("b"), "2");
  TxnRequest request;
  request.compare = {Compare::version(key("a"), CompareResult::greater, 5)};
  request.success = {put_op(key("a"), "unused")};
  request.failure = {range_op(key("a")), put_op(key("b"), "3", /*prev_kv=*/true), delete_op(key("a"), true)};
  const TxnResponse response = client().txn(request);
  EXPECT_FALSE(response.succeeded);
  ASSERT_EQ(response.responses.size(), 3u);
  EXPECT_EQ(as<RangeResponse>(response.responses[0]).kvs.at(0).value, "1");
  ASSERT_TRUE(as<PutResponse>(response.responses[1]).prev_kv.has_value());
  EXPECT_EQ(as<PutResponse>(response.responses[1]).prev_kv->value, "2");
  const DeleteRangeResponse& deleted = as<DeleteRangeResponse>(response.responses[2]);
  EXPECT_EQ(deleted.deleted, 1);
  ASSERT_EQ(deleted.prev_kvs.size(), 1u);
  EXPECT_EQ(deleted.prev_kvs[0].value, "1");
  EXPECT_TRUE(get(key("a")).kvs.empty());
  EXPECT_EQ(get(key("b")).kvs.at(0).value, "3");
}

TEST_F(TxnTest, NestedTransaction) {
  put(key("n"), "v");
  TxnRequest inner;
  inner.compare = {Compare::version(key("n"), CompareResult::greater, 0)};
  RangeRequest count;
  count.key = key("n");
  count.count_only = true;
  inner.success = {RequestOp{count}};
  inner.failure = {put_op(key("n"), "unexpected")};

  TxnRequest outer;
  outer.compare = {Compare::create_revision(key("n"), CompareResult::greater, 0)};
  outer.success = {RequestOp{inner}};
  const TxnResponse response = client().txn(outer);
  ASSERT_TRUE(response.succeeded);
  ASSERT_EQ(response.responses.size(), 1u);
  const TxnResponse& nested = as<TxnResponse>(response.responses[0]);
  EXPECT_TRUE(nested.succeeded);
  ASSERT_EQ(nested.responses.size(), 1u);
  const RangeResponse& counted = as<RangeResponse>(nested.responses[0]);
  EXPECT_EQ(counted.count, 1);
  EXPECT_TRUE(counted.kvs.empty());
}

TEST_F(TxnTest, VersionLeaseAndRangeCompares) {
  const LeaseGrantResponse lease = client().lease_grant(60);
  put(key("r/1"), "x", lease.id);
  put(key("r/2"), "x");
  put(key("r/2"), "y");

  TxnRequest request;
  request.compare = {Compare::version(key("r/2"), CompareResult::equal, 2),
                     Compare::lease(key("r/1"), CompareResult::equal, lease.id)};
  EXPECT_TRUE(client().txn(request).succeeded);

  request.compare = {Compare::version(key("r/2"), CompareResult::less, 2)};
  EXPECT_FALSE(client().txn(request).succeeded);

  // A compare over a range applies to every key in it.
  Compare every = Compare::create_revision(key("r/"), CompareResult::greater, 0);
  every.range_end = prefix_range_end(key("r/"));
  request.compare = {every};
  EXPECT_TRUE(client().txn(request).succeeded);
  Compare all_version_two = Compare::version(key("r/"), CompareResult::equal, 2);
  all_version_two.range_end = prefix_range_end(key("r/"));
  request.compare = {all_version_two};
  EXPECT_FALSE(client().txn(request).succeeded);  // r/1 has version 1
  client().lease_revoke(lease.id);
}

TEST_F(TxnTest, EmptyTransactionSucceeds) {
  const TxnResponse response = client().txn(TxnRequest{});
  EXPECT_TRUE(response.succeeded);
  EXPECT_TRUE(response.responses.empty());
}

TEST_F(TxnTest, DuplicateKeyInOneBranchIsInvalidArgument) {
  TxnRequest request;
  request.success = {put_op(key("dup"), "1"), put_op(key("dup"), "2")};
  try {
    client().txn(request);
    FAIL() << "two puts to one key were accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.code(), GRPCCode::InvalidArgument);
    EXPECT_NE(e.error().find("duplicate key"), std::string::npos) << e.error();
  }
  EXPECT_TRUE(get(key("dup")).kvs.empty());  // atomically nothing
}

TEST_F(TxnTest, PutWithUnknownLeaseInsideTxnIsLeaseNotFound) {
  PutRequest put_request;
  put_request.key = key("l");
  put_request.value = "v";
  put_request.lease = 0x0dc5dc5dc6LL;
  TxnRequest request;
  request.success = {RequestOp{put_request}};
  EXPECT_THROW(client().txn(request), LeaseNotFound);
}

}  // namespace
}  // namespace dcs::itest
