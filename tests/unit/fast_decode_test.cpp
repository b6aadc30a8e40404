// The fast decoders of the HA loop's answers (range, put, txn, keepalive) and the tree-free
// request bodies: on every answer they read, they must give exactly what the general decoder
// gives, and every answer they cannot read must be left to the general decoder (which raises
// the documented errors); the bodies must be byte for byte the general encoder's.
#include "codec/fast_decode.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "codec/base64.hpp"
#include "codec/kv_codec.hpp"
#include "codec/lease_codec.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::codec {
namespace {

using namespace dcs::etcd3;
namespace rec = dcs::test::recorded;

bool same(const ResponseHeader& a, const ResponseHeader& b) {
  return a.cluster_id == b.cluster_id && a.member_id == b.member_id && a.revision == b.revision &&
         a.raft_term == b.raft_term;
}

bool same(const RangeResponse& a, const RangeResponse& b) {
  return same(a.header, b.header) && a.kvs == b.kvs && a.more == b.more && a.count == b.count;
}
bool same(const PutResponse& a, const PutResponse& b) {
  return same(a.header, b.header) && a.prev_kv == b.prev_kv;
}
bool same(const DeleteRangeResponse& a, const DeleteRangeResponse& b) {
  return same(a.header, b.header) && a.deleted == b.deleted && a.prev_kvs == b.prev_kvs;
}
bool same(const TxnResponse& a, const TxnResponse& b);
bool same(const ResponseOp& a, const ResponseOp& b) {
  if (a.response.index() != b.response.index()) return false;
  return std::visit([&](const auto& x) { return same(x, std::get<std::decay_t<decltype(x)>>(b.response)); },
                    a.response);
}
bool same(const TxnResponse& a, const TxnResponse& b) {
  if (!same(a.header, b.header) || a.succeeded != b.succeeded || a.responses.size() != b.responses.size()) return false;
  for (std::size_t i = 0; i < a.responses.size(); ++i)
    if (!same(a.responses[i], b.responses[i])) return false;
  return true;
}
bool same(const LeaseKeepAliveResponse& a, const LeaseKeepAliveResponse& b) {
  return same(a.header, b.header) && a.id == b.id && a.ttl == b.ttl;
}

// Decodes `body` both ways; true when the fast decoder took it (and then agreed in every field,
// the top-level header included), false when it left it to the general decoder.
template <typename Response, typename Fast, typename General>
bool agrees(std::string body, Fast fast, General general) {
  ResponseHeader top;
  Response out;
  const bool taken = fast(body, top, out);
  if (!taken) return false;
  const json parsed = parse_object(body);
  EXPECT_TRUE(same(out, general(parsed))) << body;
  EXPECT_TRUE(same(top, decode_header(parsed))) << body;
  return true;
}

bool range_ok(std::string body) {
  return agrees<RangeResponse>(std::move(body), fast_decode_range, decode_range_response);
}
bool put_ok(std::string body) {
  return agrees<PutResponse>(std::move(body), fast_decode_put, decode_put_response);
}
bool txn_ok(std::string body) {
  return agrees<TxnResponse>(std::move(body), fast_decode_txn, decode_txn_response);
}
bool keepalive_ok(std::string body) {
  return agrees<LeaseKeepAliveResponse>(std::move(body), fast_decode_keepalive, decode_lease_keepalive_message);
}

TEST(FastDecode, RecordedAnswersDecodeAsTheGeneralDecoderDoes) {
  for (const auto body : {rec::kRangeFoo, rec::kRangeEmptyValue, rec::kRangeMissing, rec::kRangeCountOnly,
                          rec::kRangePrefixLimit2, rec::kRangeWithLease, rec::kRangeBinaryKey}) {
    EXPECT_TRUE(range_ok(std::string(body))) << body;
  }
  EXPECT_TRUE(put_ok(std::string(rec::kPutPlain)));
  EXPECT_TRUE(put_ok(std::string(rec::kPutPrevKv)));
  for (const auto body :
       {rec::kTxnSucceededPut, rec::kTxnFailedRange, rec::kTxnThreeOps, rec::kTxnFailedEmpty, rec::kTxnNested}) {
    EXPECT_TRUE(txn_ok(std::string(body))) << body;
  }
  EXPECT_TRUE(keepalive_ok(std::string(rec::kLeaseKeepAlive)));
  EXPECT_TRUE(keepalive_ok(std::string(rec::kLeaseKeepAliveGone)));
}

TEST(FastDecode, ReadsTheValuesACallerSees) {
  std::string body(rec::kRangeFoo);
  ResponseHeader top;
  RangeResponse r;
  ASSERT_TRUE(fast_decode_range(body, top, r));
  EXPECT_EQ(top.cluster_id, 8443091972210274032ULL);
  EXPECT_EQ(top.member_id, 17184946936886216709ULL) << "above INT64_MAX, sent as a string";
  EXPECT_EQ(r.header.revision, 5);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0], (KeyValue{"foo", "bar2", 2, 4, 3, 0}));
  EXPECT_EQ(r.count, 1);
  EXPECT_EQ(body, rec::kRangeFoo) << "the body text is left as it was";
}

TEST(FastDecode, AcceptsWhatTheGeneralDecoderAccepts) {
  // int64 as number or string, absent and null fields, booleans as strings.
  EXPECT_TRUE(range_ok(R"({"header":{"revision":7,"raft_term":2,"member_id":18446744073709551615},"count":3})"));
  EXPECT_TRUE(range_ok(R"({"header":null,"kvs":null,"count":null,"more":null})"));
  EXPECT_TRUE(range_ok(R"({"more":"true","count":"-1"})"));
  EXPECT_TRUE(range_ok(R"({"kvs":[{}, {"key":null,"value":"","lease":"-5"}]})"));
  EXPECT_TRUE(range_ok(R"({})"));
  EXPECT_TRUE(range_ok(" \n{\"count\":\"2\"} \n"));
  EXPECT_TRUE(range_ok(R"({"count":"9223372036854775807","header":{"revision":-9223372036854775808}})"));
  // Unknown members are skipped, whatever they hold.
  EXPECT_TRUE(range_ok(R"({"extra":[1,{"a":null},2.5,"x"],"kvs":[{"key":"Zm9v","other":{"k":[true]}}]})"));
  EXPECT_TRUE(txn_ok(R"({"succeeded":"false","responses":null})"));
  EXPECT_TRUE(put_ok(R"({"prev_kv":null})"));
  EXPECT_TRUE(keepalive_ok(R"({"result":{"ID":2000,"TTL":"5"},"header":{"revision":"3"}})"));
}

TEST(FastDecode, EscapedAndRepeatedMemberNamesReadAsTheGeneralDecoderReadsThem) {
  // "k\u0065y" is "key"; a repeated member keeps its last value.
  EXPECT_TRUE(range_ok(R"({"kvs":[{"k\u0065y":"Zm9v","\u0076alue":"YmFy"}],"c\u006Funt":"1"})"));
  EXPECT_TRUE(range_ok(R"({"count":"1","count":"2","kvs":[{"key":"Zm9v"}],"kvs":[]})"));
  EXPECT_TRUE(range_ok(R"({"count":"1","count":null})"));
  EXPECT_TRUE(range_ok(R"({"header":{"revision":"1"},"header":{"raft_term":"4"}})"));
  // A key that is "key" only before unescaping is another member.
  EXPECT_TRUE(range_ok(R"({"kvs":[{"ke\\y":"Zm9v","key":"YmFy"}]})"));
  // The first kind of operation present in etcd's order wins, whatever the member order.
  EXPECT_TRUE(txn_ok(
      R"({"responses":[{"response_put":{"header":{"revision":"4"}},"response_range":{"count":"2"}},{"response_range":null,"response_txn":{"succeeded":true}}]})"));
  std::string body = R"({"responses":[{"response_put":{"header":{"revision":"4"}},"response_range":{"count":"2"}}]})";
  ResponseHeader top;
  TxnResponse t;
  ASSERT_TRUE(fast_decode_txn(body, top, t));
  ASSERT_EQ(t.responses.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<RangeResponse>(t.responses[0].response));
}

TEST(FastDecode, LeavesEveryOtherAnswerToTheGeneralDecoder) {
  const std::vector<std::string> ranges = {
      "",
      "   ",
      "<html>proxy login</html>",
      R"({"header":{"cluster_id":"8443091972210274032","member_id":"1718)",  // truncated
      R"({"count":"1"} trailing)",
      "[]",
      R"("ok")",
      "\xEF\xBB\xBF{}",                                     // a byte order mark (the general decoder skips it)
      R"({"count":tru})",                                   // invalid literal
      R"({"extra":[1,2,tru],"count":"1"})",                 // invalid JSON in a member nobody reads
      "{\"kvs\":[{\"key\":\"Zm9v\",\"value\":\"\xff\"}]}",  // invalid UTF-8
      R"({"error":{"grpc_code":14,"message":"etcdserver: no leader"}})",
      R"({"error":"something"})",
      R"({"header":{"revision":"5"},"count":true})",
      R"({"header":"x"})",
      R"({"header":{"revision":"abc"}})",
      R"({"header":{"revision":1.5}})",
      R"({"header":{"raft_term":-1}})",
      R"({"header":{"member_id":"-1"}})",
      R"({"count":"9223372036854775808"})",
      R"({"count":9223372036854775808})",
      R"({"count":"+1"})",
      R"({"count":""})",
      R"({"count":" 1"})",
      R"({"count":1e3})",
      R"({"more":"yes"})",
      R"({"more":1})",
      R"({"kvs":{"key":"Zm9v"}})",
      R"({"kvs":[null]})",
      R"({"kvs":["Zm9v"]})",
      R"({"kvs":[{"key":"Zm9v","value":"not base64!"}]})",
      R"({"kvs":[{"key":"Zm9"}]})",
      R"({"kvs":[{"key":"Zm9v\n"}]})",
      R"({"kvs":[{"key":5}]})",
      R"({"kvs":[{"key":"Zm9v","lease":{}}]})",
  };
  for (auto body : ranges) {
    ResponseHeader top;
    RangeResponse r;
    EXPECT_FALSE(fast_decode_range(body, top, r)) << body;
  }
  const std::vector<std::string> txns = {
      R"({"succeeded":"yes"})",
      R"({"responses":{}})",
      R"({"responses":[{}]})",
      R"({"responses":[{"response_range":null}]})",
      R"({"responses":[{"response_other":{}}]})",
      R"({"responses":[{"response_range":[]}]})",
      R"({"responses":[{"response_put":{"prev_kv":"x"}}]})",
      R"({"responses":[{"response_delete_range":{"deleted":"x"}}]})",
      R"({"responses":[{"response_txn":{"responses":[5]}}]})",
  };
  for (auto body : txns) {
    ResponseHeader top;
    TxnResponse t;
    EXPECT_FALSE(fast_decode_txn(body, top, t)) << body;
  }
  const std::vector<std::string> keepalives = {
      R"({"header":{}})",
      R"({"result":null})",
      R"({"result":"x"})",
      R"({"result":{"TTL":"x"}})",
      R"({"result":{"ID":"1"},"error":{"grpc_code":14,"message":"etcdserver: no leader"}})",
  };
  for (auto body : keepalives) {
    ResponseHeader top;
    LeaseKeepAliveResponse k;
    EXPECT_FALSE(fast_decode_keepalive(body, top, k)) << body;
  }
  std::string put = R"({"prev_kv":[]})";
  ResponseHeader top;
  PutResponse p;
  EXPECT_FALSE(fast_decode_put(put, top, p));
}

TEST(FastDecode, ABigAnswerDecodesAndTheNextSmallOneToo) {
  // Grows the thread's parser past what it keeps, then goes on with a small answer.
  std::string body = R"({"kvs":[)";
  std::vector<KeyValue> expected;
  for (int i = 0; i < 20000; ++i) {
    KeyValue kv{"/service/batman/members/m" + std::to_string(i),
                std::string(60, static_cast<char>('a' + i % 26)),
                i + 1,
                i + 2,
                1,
                0};
    if (i != 0) body += ',';
    body += R"({"key":")" + base64_encode(kv.key) + R"(","value":")" + base64_encode(kv.value) +
            R"(","create_revision":")" + std::to_string(kv.create_revision) + R"(","mod_revision":")" +
            std::to_string(kv.mod_revision) + R"(","version":"1"})";
    expected.push_back(std::move(kv));
  }
  body += R"(],"count":"20000"})";
  ASSERT_GT(body.size(), 2u << 20);
  ResponseHeader top;
  RangeResponse r;
  ASSERT_TRUE(fast_decode_range(body, top, r));
  EXPECT_EQ(r.kvs, expected);
  EXPECT_EQ(r.count, 20000);
  EXPECT_TRUE(range_ok(std::string(rec::kRangeFoo)));
}

// ---- request bodies ----

TEST(RequestText, IsByteForByteTheGeneralEncodersDump) {
  RangeRequest all = RangeRequest::with_prefix(std::string("/service/\xff\x00x", 12));
  all.limit = 10;
  all.revision = 9007199254740993;
  all.sort_order = SortOrder::descend;
  all.sort_target = SortTarget::mod;
  all.serializable = all.keys_only = all.count_only = true;
  for (const auto& r : {RangeRequest{}, RangeRequest::with_prefix("/service/batman/"), all}) {
    EXPECT_EQ(encode_text(r), encode(r).dump());
  }

  PutRequest put{"/service/batman/members/node1", std::string("{\"conn_url\":\"x\"}\0\xfe", 19)};
  PutRequest leased = put;
  leased.lease = 7587862361430925318;
  leased.prev_kv = true;
  PutRequest ignoring = put;
  ignoring.ignore_value = ignoring.ignore_lease = true;
  for (const auto& p : {PutRequest{}, put, leased, ignoring}) EXPECT_EQ(encode_text(p), encode(p).dump());

  DeleteRangeRequest del{"/a", "/b", true};
  EXPECT_EQ(encode_text(del), encode(del).dump());
  EXPECT_EQ(encode_text(DeleteRangeRequest{"k"}), encode(DeleteRangeRequest{"k"}).dump());

  TxnRequest txn;
  txn.compare = {Compare::create_revision("/l", CompareResult::equal, 0),
                 Compare::mod_revision("/c", CompareResult::less, 42),
                 Compare::value_of("/l", CompareResult::not_equal, "node1"),
                 Compare::version("/v", CompareResult::greater, -1), Compare::lease("/x", CompareResult::equal, 99)};
  txn.compare[1].range_end = "/d";
  txn.success = {RequestOp{put}, RequestOp{del}, RequestOp{all}};
  TxnRequest nested;
  nested.compare = {Compare::create_revision("/l", CompareResult::equal, 0)};
  nested.success = {RequestOp{leased}};
  txn.failure = {RequestOp{nested}, RequestOp{TxnRequest{}}};
  EXPECT_EQ(encode_text(txn), encode(txn).dump());
  EXPECT_EQ(encode_text(TxnRequest{}), encode(TxnRequest{}).dump());
  EXPECT_EQ(encode_text(nested), encode(nested).dump());

  for (const std::int64_t id : {std::int64_t{0}, std::int64_t{2000}, std::int64_t{-1}, INT64_MAX}) {
    EXPECT_EQ(encode_lease_id_text(id), encode_lease_id(id).dump());
  }
}

// ---- known values (the direct read's reuse of the previous view) --------------------------------

std::string range_kv(std::string_view key, std::string_view value_text, std::int64_t mod_revision, std::int64_t lease) {
  return R"({"key":")" + base64_encode(key) + R"(","create_revision":"2","mod_revision":")" +
         std::to_string(mod_revision) + R"(","version":"1","value":)" + std::string(value_text) +
         (lease != 0 ? R"(,"lease":")" + std::to_string(lease) + "\"" : std::string()) + "}";
}

std::string quoted_b64(std::string_view value) {
  return "\"" + base64_encode(value) + "\"";
}

TEST(FastDecodeKnownValues, LeavesOutOnlyValuesWhoseKeyRevisionAndLeaseAreKnown) {
  const std::vector<KnownValue> known = {{"a", 5, 7}, {"b", 6, 7}, {"c", 8, 0}, {"d", 9, 7}};
  std::string body = R"({"header":{"revision":"20"},"kvs":[)" + range_kv("/p/members/a", quoted_b64("A"), 5, 7) + "," +
                     range_kv("/p/members/b", quoted_b64("B2"), 11, 7) +      // written again
                     "," + range_kv("/p/members/c", quoted_b64("C"), 8, 3) +  // another lease
                     "," + range_kv("/p/members/d", quoted_b64("D"), 9, 7) + "," +
                     range_kv("/p/members/e", quoted_b64("E"), 9, 7) +      // new
                     "," + range_kv("/p/config", quoted_b64("{}"), 5, 7) +  // not a member
                     R"(],"count":"6"})";
  KnownValues hint("/p/members/", known);
  ResponseHeader top;
  RangeResponse r;
  ASSERT_TRUE(fast_decode_range(body, top, r));
  ASSERT_EQ(r.kvs.size(), 6u);
  EXPECT_EQ(r.kvs[0], (KeyValue{"/p/members/a", "", 2, 5, 1, 7})) << "known: not decoded";
  EXPECT_EQ(r.kvs[1].value, "B2");
  EXPECT_EQ(r.kvs[2].value, "C");
  EXPECT_EQ(r.kvs[3], (KeyValue{"/p/members/d", "", 2, 9, 1, 7}));
  EXPECT_EQ(r.kvs[4].value, "E");
  EXPECT_EQ(r.kvs[5].value, "{}");
}

TEST(FastDecodeKnownValues, ANewOrMovedKeyWithBadBase64IsStillLeftToTheGeneralDecoder) {
  const std::vector<KnownValue> known = {{"a", 5, 7}};
  KnownValues hint("/p/members/", known);
  for (const auto& bad : {range_kv("/p/members/a", R"("not base64!")", 6, 7),  // moved
                          range_kv("/p/members/b", R"("not base64!")", 5, 7),  // new
                          range_kv("/p/members/a", R"({"x":1})", 5, 7)}) {     // not a string
    std::string body = R"({"kvs":[)" + bad + "]}";
    ResponseHeader top;
    RangeResponse r;
    EXPECT_FALSE(fast_decode_range(body, top, r)) << body;
  }
}

TEST(FastDecodeKnownValues, AppliesOnlyWhileInstalledAndOnlyToARangeAnswer) {
  const std::vector<KnownValue> known = {{"a", 5, 0}};
  const std::string kv = range_kv("/p/members/a", quoted_b64("A"), 5, 0);
  {
    KnownValues hint("/p/members/", known);
    EXPECT_EQ(KnownValues::current(), &hint);
    std::string txn = R"({"succeeded":true,"responses":[{"response_range":{"kvs":[)" + kv + "]}}]}";
    ResponseHeader top;
    TxnResponse t;
    ASSERT_TRUE(fast_decode_txn(txn, top, t));
    EXPECT_EQ(std::get<RangeResponse>(t.responses.at(0).response).kvs.at(0).value, "A");
  }
  EXPECT_EQ(KnownValues::current(), nullptr);
  std::string body = R"({"kvs":[)" + kv + "]}";
  EXPECT_TRUE(range_ok(body)) << "without a hint every value is decoded";
}

TEST(FastDecodeKnownValues, AnInnerHintHandsKeysOutsideItsPrefixToTheOuterOne) {
  const std::vector<KnownValue> keys = {{"config", 3, 0}, {"status", 9, 0}};
  const std::vector<KnownValue> members = {{"a", 5, 7}};
  KnownValues outer("/p/", keys);
  KnownValues inner("/p/members/", members);
  EXPECT_EQ(KnownValues::current(), &inner);
  for (int round = 0; round < 2; ++round) {  // the walk of both starts again with each answer
    std::string body = R"({"kvs":[)" + range_kv("/p/config", quoted_b64("{}"), 3, 0) + "," +
                       range_kv("/p/leader", quoted_b64("a"), 4, 7) + "," +
                       range_kv("/p/members/a", quoted_b64("A"), 5, 7) + "," +
                       range_kv("/p/status", quoted_b64("{}"), 10, 0) + "]}";
    ResponseHeader top;
    RangeResponse r;
    ASSERT_TRUE(fast_decode_range(body, top, r));
    ASSERT_EQ(r.kvs.size(), 4u);
    EXPECT_EQ(r.kvs[0].value, "") << "known to the outer hint";
    EXPECT_EQ(r.kvs[1].value, "a") << "known to neither";
    EXPECT_EQ(r.kvs[2].value, "") << "known to the inner hint";
    EXPECT_EQ(r.kvs[3].value, "{}") << "moved";
  }
}

TEST(FastDecodeKnownValues, KeysOutOfOrderAreDecoded) {
  const std::vector<KnownValue> known = {{"a", 5, 0}, {"b", 6, 0}};
  KnownValues hint("/p/members/", known);
  std::string body = R"({"kvs":[)" + range_kv("/p/members/b", quoted_b64("B"), 6, 0) + "," +
                     range_kv("/p/members/a", quoted_b64("A"), 5, 0) + "]}";
  ResponseHeader top;
  RangeResponse r;
  ASSERT_TRUE(fast_decode_range(body, top, r));
  EXPECT_EQ(r.kvs.at(0).value, "");
  EXPECT_EQ(r.kvs.at(1).value, "A") << "behind the walk: decoded, which is always correct";
}

TEST(FastDecode, DecimalStringsReadAsFromCharsReadsThem) {
  EXPECT_TRUE(range_ok(R"({"count":"000000000000000012","header":{"revision":"999999999999999999"}})"));
  EXPECT_TRUE(range_ok(R"({"count":"0","header":{"member_id":"18446744073709551615","revision":"-3"}})"));
  EXPECT_TRUE(range_ok(R"({"count":"9223372036854775807","header":{"member_id":"9999999999999999999"}})"));
  EXPECT_TRUE(range_ok(R"({"kvs":[{"key":"Zm9v","lease":"7587874381245349645","mod_revision":"0012"}]})"));
  for (std::string body : {R"({"count":"1a"})", R"({"count":" 1"})", R"({"count":"+1"})", R"({"count":"1.0"})",
                           R"({"count":"9223372036854775808"})"}) {
    ResponseHeader top;
    RangeResponse r;
    EXPECT_FALSE(fast_decode_range(body, top, r)) << body;
  }
}

}  // namespace
}  // namespace dcs::codec
