// The fast decoder of watch stream messages: every message it reads must come out exactly as the
// general decoder (decode_watch_message) reads it, and every message it cannot read (malformed,
// an error object, an unusual shape) must be handed back, so the stream reader's general path
// raises the typed error it always raised.
#include "codec/fast_watch_decode.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "codec/watch_codec.hpp"
#include "unit/recorded_traffic.hpp"

// A namespace of its own: a unity build puts this file beside fast_decode_test.cpp.
namespace dcs::codec::fast_watch_test {
namespace {

using namespace dcs::etcd3;
namespace rec = dcs::test::recorded;

bool same(const ResponseHeader& a, const ResponseHeader& b) {
  return a.cluster_id == b.cluster_id && a.member_id == b.member_id && a.revision == b.revision &&
         a.raft_term == b.raft_term;
}

bool same(const Event& a, const Event& b) {
  return a.type == b.type && a.kv == b.kv && a.prev_kv == b.prev_kv;
}

bool same(const WatchResponse& a, const WatchResponse& b) {
  if (!same(a.header, b.header) || a.watch_id != b.watch_id || a.created != b.created || a.canceled != b.canceled ||
      a.compact_revision != b.compact_revision || a.cancel_reason != b.cancel_reason || a.fragment != b.fragment ||
      a.events.size() != b.events.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    if (!same(a.events[i], b.events[i])) return false;
  }
  return true;
}

// True when the fast decoder took the message (and then agreed with the general decoder in every
// field); false when it handed it back.
bool agrees(std::string_view document) {
  WatchResponse fast;
  if (!fast_decode_watch_message(document, fast)) return false;
  const auto general = decode_watch_message(json::parse(document));
  EXPECT_TRUE(same(fast, general)) << document;
  return true;
}

TEST(FastWatchDecode, RecordedMessagesDecodeAsTheGeneralDecoderReadsThem) {
  for (const auto message :
       {rec::kWatchCreated, rec::kWatchPut, rec::kWatchPutPrevKv, rec::kWatchDelete, rec::kWatchPut24,
        rec::kWatchReplay, rec::kWatchWithId77, rec::kWatchProgress, rec::kWatchCompacted, rec::kWatchAuthCanceled}) {
    EXPECT_TRUE(agrees(message)) << message;
  }
}

TEST(FastWatchDecode, ReadsTheFieldsOfARecordedDelete) {
  WatchResponse out;
  ASSERT_TRUE(fast_decode_watch_message(rec::kWatchDelete, out));
  EXPECT_EQ(out.header.revision, 23);
  EXPECT_EQ(out.header.raft_term, 2u);
  EXPECT_EQ(out.header.cluster_id, 8443091972210274032u);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].type, Event::Type::del);
  EXPECT_EQ(out.events[0].kv.key, "wk");
  EXPECT_EQ(out.events[0].kv.mod_revision, 23);
  ASSERT_TRUE(out.events[0].prev_kv.has_value());
  EXPECT_EQ(out.events[0].prev_kv->value, "w2");
}

TEST(FastWatchDecode, ReusedForManyMessagesItKeepsNothingFromTheLastOne) {
  WatchResponse out;
  ASSERT_TRUE(fast_decode_watch_message(rec::kWatchReplay, out));
  EXPECT_EQ(out.events.size(), 4u);
  ASSERT_TRUE(fast_decode_watch_message(rec::kWatchCompacted, out));
  EXPECT_TRUE(out.events.empty());
  EXPECT_TRUE(out.canceled);
  EXPECT_EQ(out.compact_revision, 17);
  ASSERT_TRUE(fast_decode_watch_message(rec::kWatchProgress, out));
  EXPECT_FALSE(out.canceled);
  EXPECT_TRUE(out.is_progress_notify());
}

TEST(FastWatchDecode, AcceptsWhatTheGeneralDecoderAccepts) {
  for (const std::string_view message : std::initializer_list<std::string_view>{
           // numbers as numbers, booleans as strings, the enum as a number
           R"({"result":{"header":{"cluster_id":1,"member_id":2,"revision":3,"raft_term":4},"created":"true"}})",
           R"({"result":{"events":[{"type":1,"kv":{"key":"YQ==","mod_revision":5}}]}})",
           R"({"result":{"events":[{"type":0,"kv":{"key":"YQ==","value":"Yg==","mod_revision":5}}]}})",
           R"({"result":{"events":[{"type":"PUT","kv":{"key":"YQ==","lease":"7"}}]}})",
           // nulls are absent fields
           R"({"result":{"header":null,"events":null,"watch_id":null,"cancel_reason":null}})",
           R"({"result":{"events":[{"type":null,"kv":null,"prev_kv":null}]}})",
           R"({"result":{"events":[{"kv":{"key":"YQ==","value":null}}]}})",
           // unknown members are ignored; a repeated member counts once, the last copy
           R"({"result":{"future":{"x":[1,2]},"header":{"revision":"9","shiny":true}},"other":1})",
           R"({"result":{"watch_id":"1","watch_id":"2","events":[{"kv":{"key":"YQ=="}}],"events":[]}})",
           // an escaped cancel reason, an empty key
           R"({"result":{"canceled":true,"cancel_reason":"a \"quoted\" \u00e9 reason\n"}})",
           R"({"result":{"events":[{"kv":{"key":"","mod_revision":"1"}}]}})",
           R"({"result":{}})",
       }) {
    EXPECT_TRUE(agrees(message)) << message;
  }
}

// What the stream reader must still see the general way: it raises the typed errors.
TEST(FastWatchDecode, HandsBackWhatItCannotRead) {
  for (const std::string_view message : std::initializer_list<std::string_view>{
           "",
           "not json",
           R"({"result":)",
           R"([{"result":{}}])",
           R"({"result":{}} trailing)",
           // error objects (gateway v1 and v2), also beside a result
           rec::kWatchShutdownError,
           rec::kWatchShutdownError36,
           rec::kWatchNoLeaderError,
           R"({"result":{"created":true},"error":"late"})",
           R"({"error":null,"result":{}})",
           // no result
           R"({})",
           R"({"result":null})",
           R"({"result":[]})",
           // fields of another type
           R"({"result":{"header":"h"}})",
           R"({"result":{"header":{"revision":"x"}}})",
           R"({"result":{"header":{"revision":1.5}}})",
           R"({"result":{"header":{"cluster_id":-1}}})",
           R"({"result":{"header":{"revision":"9223372036854775808"}}})",
           R"({"result":{"header":{"revision":9223372036854775808}}})",
           R"({"result":{"watch_id":true}})",
           R"({"result":{"created":"yes"}})",
           R"({"result":{"canceled":1}})",
           R"({"result":{"cancel_reason":7}})",
           R"({"result":{"events":{}}})",
           R"({"result":{"events":[1]}})",
           R"({"result":{"events":[{"kv":[]}]}})",
           R"({"result":{"events":[{"kv":{"key":7}}]}})",
           R"({"result":{"events":[{"prev_kv":"x"}]}})",
           // bad base64
           R"({"result":{"events":[{"kv":{"key":"YQ="}}]}})",
           R"({"result":{"events":[{"kv":{"key":"YQ==","value":"!!!!"}}]}})",
           // unknown event types
           R"({"result":{"events":[{"type":"EXPIRE","kv":{"key":"YQ=="}}]}})",
           R"({"result":{"events":[{"type":2,"kv":{"key":"YQ=="}}]}})",
           R"({"result":{"events":[{"type":1.0,"kv":{"key":"YQ=="}}]}})",
       }) {
    WatchResponse out;
    EXPECT_FALSE(fast_decode_watch_message(message, out)) << message;
  }
}

TEST(FastWatchDecode, AHugeReplayIsReadAndTheNextMessageStillIs) {
  // More than the parser keeps between messages: it is dropped afterwards and rebuilt.
  std::string message = R"({"result":{"header":{"revision":"100000"},"events":[)";
  const std::string value(4000, 'v');
  std::string encoded;
  for (int i = 0; i < 400; ++i) {
    if (i > 0) message += ',';
    message += R"({"kv":{"key":"a2V5","mod_revision":")" + std::to_string(i + 1) + R"(","value":")";
    // 4000 'v' bytes in base64
    if (encoded.empty()) {
      for (int q = 0; q < 1333; ++q) encoded += "dnZ2";
      encoded += "dg==";
    }
    message += encoded + "\"}}";
  }
  message += "]}}";
  ASSERT_GT(message.size(), std::size_t{1} << 20);
  EXPECT_TRUE(agrees(message));
  WatchResponse out;
  ASSERT_TRUE(fast_decode_watch_message(message, out));
  ASSERT_EQ(out.events.size(), 400u);
  EXPECT_EQ(out.events[399].kv.value, value);
  EXPECT_TRUE(agrees(rec::kWatchPut));
}

}  // namespace
}  // namespace dcs::codec::fast_watch_test
