// KV service against a real etcd: range, put, delete range and compaction.
#include <typeinfo>

#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using KvTest = EtcdTest;

std::vector<std::string> keys_of(const RangeResponse& response) {
  std::vector<std::string> keys;
  for (const auto& kv : response.kvs) keys.push_back(kv.key);
  return keys;
}

std::vector<std::string> values_of(const RangeResponse& response) {
  std::vector<std::string> values;
  for (const auto& kv : response.kvs) values.push_back(kv.value);
  return values;
}

TEST_F(KvTest, PutThenRangeReturnsTheKey) {
  const PutResponse written = put(key("k"), "v1");
  EXPECT_GT(written.header.revision, 0);
  EXPECT_NE(written.header.cluster_id, 0u);
  EXPECT_NE(written.header.member_id, 0u);
  EXPECT_FALSE(written.prev_kv.has_value());

  const RangeResponse read = get(key("k"));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.count, 1);
  EXPECT_FALSE(read.more);
  EXPECT_EQ(read.kvs[0].key, key("k"));
  EXPECT_EQ(read.kvs[0].value, "v1");
  EXPECT_EQ(read.kvs[0].version, 1);
  EXPECT_EQ(read.kvs[0].create_revision, written.header.revision);
  EXPECT_EQ(read.kvs[0].mod_revision, written.header.revision);
  EXPECT_EQ(read.kvs[0].lease, 0);
  EXPECT_GE(read.header.revision, written.header.revision);
}

TEST_F(KvTest, RangeOfMissingKeyIsEmptyNotAnError) {
  const RangeResponse read = get(key("missing"));
  EXPECT_TRUE(read.kvs.empty());
  EXPECT_EQ(read.count, 0);
  EXPECT_FALSE(read.more);
  EXPECT_GT(read.header.revision, 0);
}

TEST_F(KvTest, BinaryKeysAndValuesRoundTrip) {
  const std::string binary_key = key(std::string("b\0\xff\x01", 4));
  const std::string binary_value = std::string("\0\x80\xfe value \n\"{}", 14);
  put(binary_key, binary_value);
  const RangeResponse read = get(binary_key);
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].key, binary_key);
  EXPECT_EQ(read.kvs[0].value, binary_value);
}

TEST_F(KvTest, EmptyValueIsStoredAndReadBackEmpty) {
  put(key("empty"), "");
  const RangeResponse read = get(key("empty"));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "");
  EXPECT_EQ(read.kvs[0].version, 1);
}

TEST_F(KvTest, RangeWithPrefixSelectsOnlyThatPrefix) {
  put(key("a/1"), "1");
  put(key("a/2"), "2");
  put(key("a/3"), "3");
  put(key("a0"), "outside");  // the prefix end itself is excluded
  put(key("a"), "outside");

  const RangeResponse read = client().range(RangeRequest::with_prefix(key("a/")));
  EXPECT_EQ(keys_of(read), (std::vector<std::string>{key("a/1"), key("a/2"), key("a/3")}));
  EXPECT_EQ(read.count, 3);
  EXPECT_FALSE(read.more);

  RangeRequest explicit_end;
  explicit_end.key = key("a/");
  explicit_end.range_end = prefix_range_end(key("a/"));
  EXPECT_EQ(keys_of(client().range(explicit_end)), keys_of(read));
}

TEST_F(KvTest, RangeLimitReportsMoreAndTotalCount) {
  for (const char* name : {"p/1", "p/2", "p/3"}) put(key(name), name);
  RangeRequest request = RangeRequest::with_prefix(key("p/"));
  request.limit = 2;
  const RangeResponse page = client().range(request);
  EXPECT_EQ(keys_of(page), (std::vector<std::string>{key("p/1"), key("p/2")}));
  EXPECT_TRUE(page.more);
  EXPECT_EQ(page.count, 3);  // the total, not the page size

  request.limit = 3;
  const RangeResponse all = client().range(request);
  EXPECT_EQ(all.kvs.size(), 3u);
  EXPECT_FALSE(all.more);
  EXPECT_EQ(all.count, 3);
}

TEST_F(KvTest, RangeAtRevisionReadsHistory) {
  const std::int64_t first = put(key("r"), "v1").header.revision;
  const std::int64_t second = put(key("r"), "v2").header.revision;
  ASSERT_GT(second, first);

  RangeRequest request;
  request.key = key("r");
  request.revision = first;
  const RangeResponse old_read = client().range(request);
  ASSERT_EQ(old_read.kvs.size(), 1u);
  EXPECT_EQ(old_read.kvs[0].value, "v1");
  EXPECT_EQ(old_read.kvs[0].version, 1);

  const RangeResponse now = get(key("r"));
  ASSERT_EQ(now.kvs.size(), 1u);
  EXPECT_EQ(now.kvs[0].value, "v2");
  EXPECT_EQ(now.kvs[0].version, 2);
  EXPECT_EQ(now.kvs[0].create_revision, first);
  EXPECT_EQ(now.kvs[0].mod_revision, second);
}

TEST_F(KvTest, RangeAtFutureRevisionIsOutOfRange) {
  const std::int64_t current = put(key("f"), "v").header.revision;
  RangeRequest request;
  request.key = key("f");
  request.revision = current + 1000;
  try {
    client().range(request);
    FAIL() << "a future revision was accepted";
  } catch (const Etcd3ClientError& e) {
    EXPECT_EQ(e.code(), GRPCCode::OutOfRange);
    EXPECT_NE(e.error().find("future revision"), std::string::npos) << e.error();
  }
}

TEST_F(KvTest, SerializableRangeAnswers) {
  put(key("s"), "v");
  RangeRequest request;
  request.key = key("s");
  request.serializable = true;
  const RangeResponse read = client().range(request);
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "v");
}

TEST_F(KvTest, KeysOnlyOmitsValues) {
  put(key("k/1"), "one");
  put(key("k/2"), "two");
  RangeRequest request = RangeRequest::with_prefix(key("k/"));
  request.keys_only = true;
  const RangeResponse read = client().range(request);
  EXPECT_EQ(keys_of(read), (std::vector<std::string>{key("k/1"), key("k/2")}));
  EXPECT_EQ(values_of(read), (std::vector<std::string>{"", ""}));
  EXPECT_GT(read.kvs[0].mod_revision, 0);
}

TEST_F(KvTest, CountOnlyReturnsNoKvs) {
  for (const char* name : {"c/1", "c/2", "c/3"}) put(key(name), name);
  RangeRequest request = RangeRequest::with_prefix(key("c/"));
  request.count_only = true;
  const RangeResponse read = client().range(request);
  EXPECT_TRUE(read.kvs.empty());
  EXPECT_EQ(read.count, 3);
}

TEST_F(KvTest, SortOrderAndTarget) {
  put(key("o/a"), "3");
  put(key("o/b"), "1");
  put(key("o/c"), "2");

  RangeRequest request = RangeRequest::with_prefix(key("o/"));
  request.sort_order = SortOrder::descend;
  request.sort_target = SortTarget::key;
  EXPECT_EQ(keys_of(client().range(request)), (std::vector<std::string>{key("o/c"), key("o/b"), key("o/a")}));

  request.sort_order = SortOrder::ascend;
  request.sort_target = SortTarget::value;
  EXPECT_EQ(values_of(client().range(request)), (std::vector<std::string>{"1", "2", "3"}));

  request.sort_order = SortOrder::descend;
  request.sort_target = SortTarget::create;
  EXPECT_EQ(keys_of(client().range(request)), (std::vector<std::string>{key("o/c"), key("o/b"), key("o/a")}));

  put(key("o/a"), "4");  // now the most recently modified
  request.sort_order = SortOrder::descend;
  request.sort_target = SortTarget::mod;
  EXPECT_EQ(keys_of(client().range(request)).front(), key("o/a"));

  request.sort_order = SortOrder::descend;
  request.sort_target = SortTarget::version;
  EXPECT_EQ(keys_of(client().range(request)).front(), key("o/a"));  // version 2, the others 1
}

TEST_F(KvTest, RangeWithEmptyKeyIsInvalidArgument) {
  RangeRequest request;  // no key
  EXPECT_THROW(client().range(request), InvalidArgument);
}

TEST_F(KvTest, PutWithPrevKvReturnsThePreviousValue) {
  PutRequest request;
  request.key = key("pk");
  request.value = "v1";
  request.prev_kv = true;
  EXPECT_FALSE(client().put(request).prev_kv.has_value());  // the key did not exist

  request.value = "v2";
  const PutResponse second = client().put(request);
  ASSERT_TRUE(second.prev_kv.has_value());
  EXPECT_EQ(second.prev_kv->key, key("pk"));
  EXPECT_EQ(second.prev_kv->value, "v1");
  EXPECT_EQ(second.prev_kv->version, 1);
}

TEST_F(KvTest, PutWithLeaseAttachesTheKey) {
  const LeaseGrantResponse lease = client().lease_grant(60);
  ASSERT_GT(lease.id, 0);
  put(key("leased"), "v", lease.id);

  const RangeResponse read = get(key("leased"));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].lease, lease.id);
  const LeaseTimeToLiveResponse ttl = client().lease_time_to_live(lease.id, /*keys=*/true);
  EXPECT_EQ(ttl.keys, (std::vector<std::string>{key("leased")}));
  client().lease_revoke(lease.id);
}

TEST_F(KvTest, PutIgnoreValueKeepsTheValue) {
  put(key("iv"), "kept");
  PutRequest request;
  request.key = key("iv");
  request.ignore_value = true;
  client().put(request);
  const RangeResponse read = get(key("iv"));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "kept");
  EXPECT_EQ(read.kvs[0].version, 2);
}

TEST_F(KvTest, PutIgnoreValueDropsAGivenValue) {
  // The client does not send a value with ignore_value (etcd would reject both together with
  // "value is provided"): the stored value stays.
  put(key("iv"), "kept");
  PutRequest request;
  request.key = key("iv");
  request.value = "new";
  request.ignore_value = true;
  request.prev_kv = true;
  const PutResponse response = client().put(request);
  ASSERT_TRUE(response.prev_kv.has_value());
  EXPECT_EQ(response.prev_kv->value, "kept");
  EXPECT_EQ(get(key("iv")).kvs.at(0).value, "kept");
}

TEST_F(KvTest, PutIgnoreLeaseKeepsTheLease) {
  const LeaseGrantResponse lease = client().lease_grant(60);
  put(key("il"), "v1", lease.id);
  PutRequest request;
  request.key = key("il");
  request.value = "v2";
  request.ignore_lease = true;
  client().put(request);
  const RangeResponse read = get(key("il"));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "v2");
  EXPECT_EQ(read.kvs[0].lease, lease.id);

  request.key = key("il-missing");
  EXPECT_THROW(client().put(request), InvalidArgument);  // "key not found"
  client().lease_revoke(lease.id);
}

TEST_F(KvTest, PutIgnoreValueOnMissingKeyIsInvalidArgument) {
  PutRequest request;
  request.key = key("nokey");
  request.ignore_value = true;
  try {
    client().put(request);
    FAIL() << "ignore_value on a missing key was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.code(), GRPCCode::InvalidArgument);
    EXPECT_NE(e.error().find("key not found"), std::string::npos) << e.error();
  }
}

TEST_F(KvTest, PutWithUnknownLeaseIsLeaseNotFound) {
  try {
    put(key("nolease"), "v", 0x0dc5dc5dc5LL);
    FAIL() << "a put with an unknown lease was accepted";
  } catch (const LeaseNotFound& e) {
    EXPECT_EQ(e.code(), GRPCCode::NotFound);
    EXPECT_EQ(e.http_status(), 404);
  }
  EXPECT_TRUE(get(key("nolease")).kvs.empty());
}

TEST_F(KvTest, DeleteSingleKey) {
  put(key("d"), "v");
  put(key("d2"), "other");
  DeleteRangeRequest request;
  request.key = key("d");
  const DeleteRangeResponse deleted = client().delete_range(request);
  EXPECT_EQ(deleted.deleted, 1);
  EXPECT_TRUE(deleted.prev_kvs.empty());  // not asked for
  EXPECT_TRUE(get(key("d")).kvs.empty());
  EXPECT_EQ(get(key("d2")).kvs.size(), 1u);
}

TEST_F(KvTest, DeleteMissingKeyDeletesNothing) {
  DeleteRangeRequest request;
  request.key = key("missing");
  const DeleteRangeResponse deleted = client().delete_range(request);
  EXPECT_EQ(deleted.deleted, 0);
  EXPECT_TRUE(deleted.prev_kvs.empty());
}

TEST_F(KvTest, DeletePrefixWithPrevKv) {
  put(key("dp/1"), "v1");
  put(key("dp/2"), "v2");
  put(key("dp/3"), "v3");
  put(key("dq"), "outside");

  DeleteRangeRequest request;
  request.key = key("dp/");
  request.range_end = prefix_range_end(key("dp/"));
  request.prev_kv = true;
  const DeleteRangeResponse deleted = client().delete_range(request);
  EXPECT_EQ(deleted.deleted, 3);
  ASSERT_EQ(deleted.prev_kvs.size(), 3u);
  EXPECT_EQ(deleted.prev_kvs[0].key, key("dp/1"));
  EXPECT_EQ(deleted.prev_kvs[0].value, "v1");
  EXPECT_EQ(deleted.prev_kvs[2].value, "v3");

  EXPECT_EQ(client().range(RangeRequest::with_prefix(key("dp/"))).count, 0);
  EXPECT_EQ(get(key("dq")).kvs.size(), 1u);
}

TEST_F(KvTest, RangeAtCompactedRevisionIsOutOfRange) {
  const std::int64_t first = put(key("cmp"), "v1").header.revision;
  const std::int64_t second = put(key("cmp"), "v2").header.revision;

  CompactionRequest compaction;
  compaction.revision = second;
  compaction.physical = true;
  const ResponseHeader header = client().compact(compaction);
  EXPECT_GE(header.revision, second);

  RangeRequest request;
  request.key = key("cmp");
  request.revision = first;
  try {
    client().range(request);
    FAIL() << "a range at a compacted revision was answered";
  } catch (const Etcd3ClientError& e) {
    // No class of its own: the generic client error carrying the code.
    EXPECT_EQ(typeid(e), typeid(Etcd3ClientError)) << typeid(e).name();
    EXPECT_EQ(e.code(), GRPCCode::OutOfRange);
    EXPECT_EQ(e.code_text(), "OutOfRange");
    EXPECT_NE(e.error().find("compacted"), std::string::npos) << e.error();
    EXPECT_FALSE(e.retry_on_other_endpoint());
  }

  // The compaction revision itself still reads.
  request.revision = second;
  const RangeResponse at_compaction = client().range(request);
  ASSERT_EQ(at_compaction.kvs.size(), 1u);
  EXPECT_EQ(at_compaction.kvs[0].value, "v2");

  // Compacting the same revision again is the same error.
  try {
    client().compact(compaction);
    FAIL() << "compacting twice was accepted";
  } catch (const Etcd3ClientError& e) {
    EXPECT_EQ(e.code(), GRPCCode::OutOfRange);
  }
}

}  // namespace
}  // namespace dcs::itest
