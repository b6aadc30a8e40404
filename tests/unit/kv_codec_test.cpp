// The KV and Txn codecs: the request bodies the gateway needs (a typo in a field name is silently
// ignored by etcd) and the decoding of recorded answers, where absent fields mean zero.
#include "codec/kv_codec.hpp"

#include <gtest/gtest.h>

#include <string>

#include "unit/recorded_traffic.hpp"

namespace dcs::codec {
namespace {

using namespace dcs::etcd3;
namespace rec = dcs::test::recorded;

json decode_json(std::string_view text) {
  return json::parse(text);
}

TEST(KvCodecEncode, PutSendsBase64KeyAndValueAndInt64AsStrings) {
  PutRequest put;
  put.key = "foo";
  put.value = "bar";
  EXPECT_EQ(encode(put), decode_json(R"({"key":"Zm9v","value":"YmFy"})"));

  put.lease = 5189732357884290374;
  put.prev_kv = true;
  EXPECT_EQ(encode(put), decode_json(R"({"key":"Zm9v","value":"YmFy","lease":"5189732357884290374","prev_kv":true})"));
}

TEST(KvCodecEncode, PutOfAnEmptyValueStillSendsTheValue) {
  PutRequest put;
  put.key = "emptyval";
  EXPECT_EQ(encode(put), decode_json(R"({"key":"ZW1wdHl2YWw=","value":""})"));
}

TEST(KvCodecEncode, PutWithIgnoreValueSendsNoValue) {
  // kv1.txt: ignore_value together with a value is rejected by etcd ("value is provided").
  PutRequest put;
  put.key = "foo";
  put.value = "ignored";
  put.ignore_value = true;
  put.ignore_lease = true;
  EXPECT_EQ(encode(put), decode_json(R"({"key":"Zm9v","ignore_value":true,"ignore_lease":true})"));
}

TEST(KvCodecEncode, RangeSendsOnlyNonDefaultFields) {
  RangeRequest range;
  range.key = "foo";
  EXPECT_EQ(encode(range), decode_json(R"({"key":"Zm9v"})"));

  RangeRequest prefix = RangeRequest::with_prefix("a/");
  prefix.limit = 2;
  prefix.revision = 9;
  prefix.sort_order = SortOrder::descend;
  prefix.sort_target = SortTarget::mod;
  prefix.serializable = true;
  prefix.keys_only = true;
  prefix.count_only = true;
  EXPECT_EQ(encode(prefix),
            decode_json(R"({"key":"YS8=","range_end":"YTA=","limit":"2","revision":"9","sort_order":"DESCEND",
                            "sort_target":"MOD","serializable":true,"keys_only":true,"count_only":true})"));
}

TEST(KvCodecEncode, RangeEncodesEverySortName) {
  RangeRequest range;
  range.key = "k";
  const std::pair<SortOrder, const char*> orders[] = {{SortOrder::ascend, "ASCEND"}, {SortOrder::descend, "DESCEND"}};
  for (const auto& [order, name] : orders) {
    range.sort_order = order;
    EXPECT_EQ(encode(range)["sort_order"], name);
  }
  const std::pair<SortTarget, const char*> targets[] = {{SortTarget::version, "VERSION"},
                                                        {SortTarget::create, "CREATE"},
                                                        {SortTarget::mod, "MOD"},
                                                        {SortTarget::value, "VALUE"}};
  for (const auto& [target, name] : targets) {
    range.sort_target = target;
    EXPECT_EQ(encode(range)["sort_target"], name);
  }
}

TEST(KvCodecEncode, WholeKeyspaceRangeUsesNulBytes) {
  RangeRequest all;
  all.key = std::string(1, '\0');
  all.range_end = std::string(1, '\0');
  EXPECT_EQ(encode(all), decode_json(R"({"key":"AA==","range_end":"AA=="})"));
}

TEST(KvCodecEncode, DeleteRangeAndCompaction) {
  DeleteRangeRequest del;
  del.key = "a/";
  del.range_end = "a0";
  del.prev_kv = true;
  EXPECT_EQ(encode(del), decode_json(R"({"key":"YS8=","range_end":"YTA=","prev_kv":true})"));

  EXPECT_EQ(encode(CompactionRequest{16, false}), decode_json(R"({"revision":"16"})"));
  EXPECT_EQ(encode(CompactionRequest{17, true}), decode_json(R"({"revision":"17","physical":true})"));
}

TEST(KvCodecEncode, ComparesSendTheOperandMatchingTheirTarget) {
  EXPECT_EQ(encode(Compare::create_revision("txk", CompareResult::equal, 0)),
            decode_json(R"({"key":"dHhr","target":"CREATE","create_revision":"0"})"));
  EXPECT_EQ(encode(Compare::version("txk", CompareResult::greater, 1)),
            decode_json(R"({"key":"dHhr","target":"VERSION","result":"GREATER","version":"1"})"));
  EXPECT_EQ(encode(Compare::mod_revision("txk", CompareResult::less, 1000)),
            decode_json(R"({"key":"dHhr","target":"MOD","result":"LESS","mod_revision":"1000"})"));
  EXPECT_EQ(encode(Compare::value_of("txk", CompareResult::not_equal, "v1")),
            decode_json(R"({"key":"dHhr","target":"VALUE","result":"NOT_EQUAL","value":"djE="})"));
  EXPECT_EQ(encode(Compare::lease("foo", CompareResult::not_equal, 0)),
            decode_json(R"({"key":"Zm9v","target":"LEASE","result":"NOT_EQUAL","lease":"0"})"));

  Compare ranged = Compare::version("a", CompareResult::greater, 0);
  ranged.range_end = "z";
  EXPECT_EQ(encode(ranged),
            decode_json(R"({"key":"YQ==","range_end":"eg==","target":"VERSION","result":"GREATER","version":"0"})"));
}

TEST(KvCodecEncode, TxnWithCompareSuccessAndFailure) {
  // txn1.txt: create-if-absent.
  TxnRequest txn;
  txn.compare.push_back(Compare::create_revision("txk", CompareResult::equal, 0));
  PutRequest put;
  put.key = "txk";
  put.value = "v1";
  txn.success.push_back(RequestOp{put});
  RangeRequest range;
  range.key = "txk";
  txn.failure.push_back(RequestOp{range});
  EXPECT_EQ(encode(txn), decode_json(R"({"compare":[{"key":"dHhr","target":"CREATE","create_revision":"0"}],
                                          "success":[{"request_put":{"key":"dHhr","value":"djE="}}],
                                          "failure":[{"request_range":{"key":"dHhr"}}]})"));
}

TEST(KvCodecEncode, TxnWithEveryOperationKindAndANestedTxn) {
  TxnRequest inner;
  inner.compare.push_back(Compare::version("foo", CompareResult::greater, 0));
  RangeRequest count;
  count.key = "foo";
  count.count_only = true;
  inner.success.push_back(RequestOp{count});

  TxnRequest outer;
  DeleteRangeRequest del;
  del.key = "nokey";
  del.prev_kv = true;
  outer.success.push_back(RequestOp{inner});
  outer.failure.push_back(RequestOp{del});
  EXPECT_EQ(encode(outer), decode_json(R"({
      "success":[{"request_txn":{"compare":[{"key":"Zm9v","target":"VERSION","result":"GREATER","version":"0"}],
                                 "success":[{"request_range":{"key":"Zm9v","count_only":true}}]}}],
      "failure":[{"request_delete_range":{"key":"bm9rZXk=","prev_kv":true}}]})"));
}

TEST(KvCodecEncode, EmptyTxnIsAnEmptyObject) {
  EXPECT_EQ(encode(TxnRequest{}), json::object());
}

TEST(KvCodecDecode, PutWithAndWithoutPrevKv) {
  const auto plain = decode_put_response(decode_json(rec::kPutPlain));
  EXPECT_EQ(plain.header.revision, 2);
  EXPECT_EQ(plain.header.member_id, 17184946936886216709ULL);
  EXPECT_FALSE(plain.prev_kv.has_value());

  const auto prev = decode_put_response(decode_json(rec::kPutPrevKv));
  ASSERT_TRUE(prev.prev_kv.has_value());
  EXPECT_EQ(*prev.prev_kv, (KeyValue{"foo", "bar", 2, 2, 1, 0}));
}

TEST(KvCodecDecode, RangeWithValuesMoreAndCount) {
  const auto r = decode_range_response(decode_json(rec::kRangePrefixLimit2));
  EXPECT_EQ(r.header.cluster_id, 8443091972210274032ULL);
  EXPECT_EQ(r.header.revision, 9);
  ASSERT_EQ(r.kvs.size(), 2u);
  EXPECT_EQ(r.kvs[0], (KeyValue{"a/1", "v-a/1", 6, 6, 1, 0}));
  EXPECT_EQ(r.kvs[1], (KeyValue{"a/2", "v-a/2", 7, 7, 1, 0}));
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.count, 3) << "count is the total, not the page size";
}

TEST(KvCodecDecode, OmittedFieldsDecodeToZeroValues) {
  const auto missing = decode_range_response(decode_json(rec::kRangeMissing));
  EXPECT_TRUE(missing.kvs.empty());
  EXPECT_EQ(missing.count, 0);
  EXPECT_FALSE(missing.more);
  EXPECT_EQ(missing.header.revision, 5);

  const auto empty_value = decode_range_response(decode_json(rec::kRangeEmptyValue));
  ASSERT_EQ(empty_value.kvs.size(), 1u);
  EXPECT_EQ(empty_value.kvs[0].value, "");
  EXPECT_EQ(empty_value.kvs[0].lease, 0);

  const auto count_only = decode_range_response(decode_json(rec::kRangeCountOnly));
  EXPECT_TRUE(count_only.kvs.empty());
  EXPECT_EQ(count_only.count, 1);

  const auto no_header = decode_range_response(json::object());
  EXPECT_EQ(no_header.header.revision, 0);
  EXPECT_EQ(no_header.header.cluster_id, 0u);
}

TEST(KvCodecDecode, LeaseAndBinaryKeys) {
  const auto leased = decode_range_response(decode_json(rec::kRangeWithLease));
  ASSERT_EQ(leased.kvs.size(), 1u);
  EXPECT_EQ(leased.kvs[0].lease, 1000);

  const auto binary = decode_range_response(decode_json(rec::kRangeBinaryKey));
  ASSERT_EQ(binary.kvs.size(), 1u);
  EXPECT_EQ(binary.kvs[0].key, std::string("\xff\x00\x01k", 4));
  EXPECT_EQ(binary.kvs[0].value, std::string("\x00\xfe", 2));
}

TEST(KvCodecDecode, Int64AsJsonNumbersAreAcceptedToo) {
  const auto r = decode_range_response(decode_json(
      R"({"header":{"cluster_id":8443091972210274032,"member_id":17184946936886216709,"revision":9,"raft_term":2},
          "kvs":[{"key":"Zm9v","create_revision":2,"mod_revision":4,"version":3,"value":"YmFy","lease":7}],"count":1})"));
  EXPECT_EQ(r.header.member_id, 17184946936886216709ULL);
  EXPECT_EQ(r.header.revision, 9);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0], (KeyValue{"foo", "bar", 2, 4, 3, 7}));
  EXPECT_EQ(r.count, 1);
}

TEST(KvCodecDecode, DeleteRange) {
  const auto none = decode_delete_range_response(decode_json(rec::kDeleteMissing));
  EXPECT_EQ(none.deleted, 0);
  EXPECT_TRUE(none.prev_kvs.empty());

  const auto one = decode_delete_range_response(decode_json(rec::kDeletePrevKvs));
  EXPECT_EQ(one.deleted, 1);
  ASSERT_EQ(one.prev_kvs.size(), 1u);
  EXPECT_EQ(one.prev_kvs[0], (KeyValue{"b/1", "v-b/1", 9, 9, 1, 0}));
}

TEST(KvCodecDecode, TxnSucceededWithSubResponseHeadersCarryingOnlyARevision) {
  const auto t = decode_txn_response(decode_json(rec::kTxnSucceededPut));
  EXPECT_TRUE(t.succeeded);
  ASSERT_EQ(t.responses.size(), 1u);
  const auto* put = std::get_if<PutResponse>(&t.responses[0].response);
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->header.revision, 12);
  EXPECT_EQ(put->header.member_id, 0u);
}

TEST(KvCodecDecode, TxnWithoutSucceededMeansTheComparesFailed) {
  const auto failed = decode_txn_response(decode_json(rec::kTxnFailedRange));
  EXPECT_FALSE(failed.succeeded);
  ASSERT_EQ(failed.responses.size(), 1u);
  const auto* range = std::get_if<RangeResponse>(&failed.responses[0].response);
  ASSERT_NE(range, nullptr);
  ASSERT_EQ(range->kvs.size(), 1u);
  EXPECT_EQ(range->kvs[0].value, "v1");

  const auto empty = decode_txn_response(decode_json(rec::kTxnFailedEmpty));
  EXPECT_FALSE(empty.succeeded);
  EXPECT_TRUE(empty.responses.empty());
  EXPECT_EQ(empty.header.revision, 13);
}

TEST(KvCodecDecode, TxnResponsesKeepTheirOrderAndKinds) {
  const auto t = decode_txn_response(decode_json(rec::kTxnThreeOps));
  EXPECT_TRUE(t.succeeded);
  ASSERT_EQ(t.responses.size(), 3u);
  const auto* put = std::get_if<PutResponse>(&t.responses[0].response);
  ASSERT_NE(put, nullptr);
  ASSERT_TRUE(put->prev_kv.has_value());
  EXPECT_EQ(put->prev_kv->value, "v1");
  const auto* range = std::get_if<RangeResponse>(&t.responses[1].response);
  ASSERT_NE(range, nullptr);
  ASSERT_EQ(range->kvs.size(), 1u);
  EXPECT_EQ(range->kvs[0].value, "v2");
  const auto* del = std::get_if<DeleteRangeResponse>(&t.responses[2].response);
  ASSERT_NE(del, nullptr);
  EXPECT_EQ(del->deleted, 0);
}

TEST(KvCodecDecode, NestedTxn) {
  const auto t = decode_txn_response(decode_json(rec::kTxnNested));
  ASSERT_EQ(t.responses.size(), 1u);
  const auto* inner = std::get_if<TxnResponse>(&t.responses[0].response);
  ASSERT_NE(inner, nullptr);
  EXPECT_TRUE(inner->succeeded);
  EXPECT_EQ(inner->header.revision, 0) << "a nested txn's header is {}";
  ASSERT_EQ(inner->responses.size(), 1u);
  const auto* count = std::get_if<RangeResponse>(&inner->responses[0].response);
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->count, 1);
}

TEST(KvCodecDecode, WrongShapesRaiseDecodeError) {
  EXPECT_THROW(decode_range_response(decode_json(R"({"count":true})")), DecodeError);
  EXPECT_THROW(decode_range_response(decode_json(R"({"kvs":{}})")), DecodeError);
  EXPECT_THROW(decode_range_response(decode_json(R"({"kvs":[1]})")), DecodeError);
  EXPECT_THROW(decode_range_response(decode_json(R"({"kvs":[{"key":"not base64!"}]})")), DecodeError);
  EXPECT_THROW(decode_range_response(decode_json(R"({"header":{"revision":"abc"}})")), DecodeError);
  EXPECT_THROW(decode_range_response(decode_json(R"({"header":{"member_id":"-1"}})")), DecodeError);
  EXPECT_THROW(decode_range_response(decode_json(R"({"more":"yes"})")), DecodeError);
  EXPECT_THROW(decode_put_response(decode_json(R"({"prev_kv":"Zm9v"})")), DecodeError);
  EXPECT_THROW(decode_delete_range_response(decode_json(R"({"deleted":1.5})")), DecodeError);
  EXPECT_THROW(decode_txn_response(decode_json(R"({"succeeded":1})")), DecodeError);
  EXPECT_THROW(decode_txn_response(decode_json(R"({"responses":[{"response_unknown":{}}]})")), DecodeError);
  EXPECT_THROW(decode_txn_response(decode_json(R"({"responses":[{"response_put":[]}]})")), DecodeError);
}

}  // namespace
}  // namespace dcs::codec
