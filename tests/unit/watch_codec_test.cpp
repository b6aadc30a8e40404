// The watch create request body and the decoding of recorded watch messages.
#include "codec/watch_codec.hpp"

#include <gtest/gtest.h>

#include "unit/recorded_traffic.hpp"

namespace dcs::codec {
namespace {

using namespace dcs::etcd3;
namespace rec = dcs::test::recorded;

TEST(WatchCodec, EncodesAMinimalCreateRequest) {
  WatchCreateRequest request;
  request.key = "wk";
  EXPECT_EQ(encode(request), json::parse(R"({"create_request":{"key":"d2s="}})"));
}

TEST(WatchCodec, EncodesEveryCreateOption) {
  WatchCreateRequest request;
  request.key = "w";
  request.range_end = "x";
  request.start_revision = 21;
  request.progress_notify = true;
  request.filters = {WatchFilter::no_put, WatchFilter::no_delete};
  request.prev_kv = true;
  request.watch_id = 77;
  request.fragment = true;
  EXPECT_EQ(encode(request), json::parse(R"({"create_request":{"key":"dw==","range_end":"eA==",
      "start_revision":"21","progress_notify":true,"filters":["NOPUT","NODELETE"],"prev_kv":true,
      "watch_id":"77","fragment":true}})"));
}

TEST(WatchCodec, DecodesCreatedMessageWithOmittedWatchId) {
  const auto created = decode_watch_message(json::parse(rec::kWatchCreated));
  EXPECT_TRUE(created.created);
  EXPECT_FALSE(created.canceled);
  EXPECT_EQ(created.watch_id, 0);
  EXPECT_EQ(created.header.revision, 20);
  EXPECT_TRUE(created.events.empty());
  EXPECT_FALSE(created.is_progress_notify());
}

TEST(WatchCodec, DecodesPutAndDeleteEventsWithPrevKv) {
  const auto put = decode_watch_message(json::parse(rec::kWatchPutPrevKv));
  ASSERT_EQ(put.events.size(), 1u);
  EXPECT_EQ(put.events[0].type, Event::Type::put) << "PUT has no type field";
  EXPECT_EQ(put.events[0].kv, (KeyValue{"wk", "w2", 21, 22, 2, 0}));
  ASSERT_TRUE(put.events[0].prev_kv.has_value());
  EXPECT_EQ(put.events[0].prev_kv->value, "w1");

  const auto del = decode_watch_message(json::parse(rec::kWatchDelete));
  ASSERT_EQ(del.events.size(), 1u);
  EXPECT_EQ(del.events[0].type, Event::Type::del);
  EXPECT_EQ(del.events[0].kv.key, "wk");
  EXPECT_EQ(del.events[0].kv.mod_revision, 23) << "the deletion revision";
  EXPECT_EQ(del.events[0].kv.value, "");
  ASSERT_TRUE(del.events[0].prev_kv.has_value());
  EXPECT_EQ(del.events[0].prev_kv->version, 2);
}

TEST(WatchCodec, DecodesABatchedReplayInOrder) {
  const auto replay = decode_watch_message(json::parse(rec::kWatchReplay));
  ASSERT_EQ(replay.events.size(), 4u);
  EXPECT_EQ(replay.events[0].kv.mod_revision, 21);
  EXPECT_EQ(replay.events[1].kv.mod_revision, 22);
  EXPECT_EQ(replay.events[2].type, Event::Type::del);
  EXPECT_EQ(replay.events[2].kv.mod_revision, 23);
  EXPECT_FALSE(replay.events[2].prev_kv.has_value());
  EXPECT_EQ(replay.events[3].kv.mod_revision, 24);
}

TEST(WatchCodec, DecodesWatchIdProgressAndCancel) {
  EXPECT_EQ(decode_watch_message(json::parse(rec::kWatchWithId77)).watch_id, 77);

  const auto progress = decode_watch_message(json::parse(rec::kWatchProgress));
  EXPECT_TRUE(progress.is_progress_notify());
  EXPECT_EQ(progress.header.revision, 29);

  const auto compacted = decode_watch_message(json::parse(rec::kWatchCompacted));
  EXPECT_TRUE(compacted.canceled);
  EXPECT_EQ(compacted.compact_revision, 17);
  EXPECT_EQ(compacted.header.revision, 0);

  const auto denied = decode_watch_message(json::parse(rec::kWatchAuthCanceled));
  EXPECT_TRUE(denied.created);
  EXPECT_TRUE(denied.canceled);
  EXPECT_EQ(denied.watch_id, -1);
  EXPECT_EQ(denied.cancel_reason, "rpc error: code = PermissionDenied desc = etcdserver: permission denied");
}

TEST(WatchCodec, AcceptsNumericEventTypes) {
  const auto msg = decode_watch_message(
      json::parse(R"({"result":{"events":[{"type":1,"kv":{"key":"YQ=="}},{"type":0,"kv":{"key":"Yg=="}}]}})"));
  ASSERT_EQ(msg.events.size(), 2u);
  EXPECT_EQ(msg.events[0].type, Event::Type::del);
  EXPECT_EQ(msg.events[1].type, Event::Type::put);
}

TEST(WatchCodec, RejectsMalformedMessages) {
  EXPECT_THROW(decode_watch_message(json::parse(R"({"header":{}})")), DecodeError) << "no result";
  EXPECT_THROW(decode_watch_message(json::parse(R"({"result":{"events":[{"type":"EXPIRE"}]}})")), DecodeError);
  EXPECT_THROW(decode_watch_message(json::parse(R"({"result":{"events":{}}})")), DecodeError);
  EXPECT_THROW(decode_watch_message(json::parse(R"({"result":{"created":"maybe"}})")), DecodeError);
  EXPECT_THROW(decode_watch_message(json::parse(R"({"result":{"compact_revision":"x"}})")), DecodeError);
}

}  // namespace
}  // namespace dcs::codec
