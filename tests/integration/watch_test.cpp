// Watches against a real etcd (started with a 1 s progress-notify interval).
#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

class WatchTest : public EtcdTest {
 protected:
  static void SetUpTestSuite() {
    EtcdProcess::Options options;
    options.extra_flags = {"--experimental-watch-progress-notify-interval=1s"};
    start_etcd(std::move(options));
  }

  WatchCreateRequest watch_prefix(const std::string& name, bool prev_kv = false) {
    WatchCreateRequest request;
    request.key = key(name);
    request.range_end = prefix_range_end(key(name));
    request.prev_kv = prev_kv;
    return request;
  }

  void remove(const std::string& key_name) {
    DeleteRangeRequest request;
    request.key = key_name;
    client().delete_range(request);
  }
};

TEST_F(WatchTest, FirstMessageSaysCreated) {
  const std::int64_t before = put(key("x"), "v").header.revision;
  WatchRunner watch(client(), watch_prefix("w/"));
  ASSERT_TRUE(watch.wait_created());
  const WatchResponse first = watch.responses().front();
  EXPECT_TRUE(first.created);
  EXPECT_FALSE(first.canceled);
  EXPECT_TRUE(first.events.empty());
  EXPECT_GE(first.header.revision, before);
  EXPECT_FALSE(first.is_progress_notify());
}

TEST_F(WatchTest, PutAndDeleteEventsArriveInOrderWithPrevKv) {
  WatchRunner watch(client(), watch_prefix("w/", /*prev_kv=*/true));
  ASSERT_TRUE(watch.wait_created());

  const std::int64_t r1 = put(key("w/k"), "v1").header.revision;
  const std::int64_t r2 = put(key("w/k"), "v2").header.revision;
  DeleteRangeRequest deletion;
  deletion.key = key("w/k");
  const std::int64_t r3 = client().delete_range(deletion).header.revision;

  ASSERT_TRUE(watch.wait_events(3)) << "events seen: " << watch.events().size();
  const std::vector<Event> events = watch.events();
  ASSERT_EQ(events.size(), 3u);

  EXPECT_EQ(events[0].type, Event::Type::put);
  EXPECT_EQ(events[0].kv.key, key("w/k"));
  EXPECT_EQ(events[0].kv.value, "v1");
  EXPECT_EQ(events[0].kv.mod_revision, r1);
  EXPECT_EQ(events[0].kv.create_revision, r1);
  EXPECT_EQ(events[0].kv.version, 1);
  EXPECT_FALSE(events[0].prev_kv.has_value());

  EXPECT_EQ(events[1].type, Event::Type::put);
  EXPECT_EQ(events[1].kv.value, "v2");
  EXPECT_EQ(events[1].kv.mod_revision, r2);
  EXPECT_EQ(events[1].kv.version, 2);
  ASSERT_TRUE(events[1].prev_kv.has_value());
  EXPECT_EQ(events[1].prev_kv->value, "v1");

  EXPECT_EQ(events[2].type, Event::Type::del);
  EXPECT_EQ(events[2].kv.key, key("w/k"));
  EXPECT_EQ(events[2].kv.mod_revision, r3);
  ASSERT_TRUE(events[2].prev_kv.has_value());
  EXPECT_EQ(events[2].prev_kv->value, "v2");

  EXPECT_EQ(watch.error(), nullptr);
}

TEST_F(WatchTest, OnlyKeysInsideTheRangeAreReported) {
  WatchRunner watch(client(), watch_prefix("in/"));
  ASSERT_TRUE(watch.wait_created());
  put(key("out"), "ignored");
  put(key("in0"), "ignored");  // the range end itself
  put(key("in/1"), "seen");
  ASSERT_TRUE(watch.wait_events(1));
  const std::vector<Event> events = watch.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.key, key("in/1"));
}

TEST_F(WatchTest, NoPutFilterLeavesOnlyDeletes) {
  WatchCreateRequest request = watch_prefix("f/");
  request.filters = {WatchFilter::no_put};
  WatchRunner watch(client(), request);
  ASSERT_TRUE(watch.wait_created());
  put(key("f/1"), "v");
  remove(key("f/1"));
  ASSERT_TRUE(watch.wait_events(1));
  const std::vector<Event> events = watch.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Event::Type::del);
}

TEST_F(WatchTest, StartRevisionReplaysHistory) {
  const std::int64_t first = put(key("h/k"), "v1").header.revision;
  put(key("h/k"), "v2");
  remove(key("h/k"));
  put(key("h/k"), "v3");

  WatchCreateRequest request = watch_prefix("h/");
  request.start_revision = first;
  WatchRunner watch(client(), request);
  ASSERT_TRUE(watch.wait_events(4)) << "events seen: " << watch.events().size();
  const std::vector<Event> events = watch.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kv.value, "v1");
  EXPECT_EQ(events[0].kv.mod_revision, first);
  EXPECT_EQ(events[1].kv.value, "v2");
  EXPECT_EQ(events[2].type, Event::Type::del);
  EXPECT_EQ(events[3].type, Event::Type::put);
  EXPECT_EQ(events[3].kv.value, "v3");
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].kv.mod_revision, events[i - 1].kv.mod_revision);
  EXPECT_TRUE(watch.responses().front().created);
}

TEST_F(WatchTest, CompactedStartRevisionThrowsWatchCanceled) {
  const std::int64_t first = put(key("c/k"), "v1").header.revision;
  const std::int64_t second = put(key("c/k"), "v2").header.revision;
  CompactionRequest compaction;
  compaction.revision = second;
  client().compact(compaction);

  WatchCreateRequest request = watch_prefix("c/");
  request.start_revision = first;
  WatchRunner watch(client(), request);
  // etcd keeps the HTTP stream open after the cancel message: the client must return anyway.
  ASSERT_TRUE(watch.wait_done()) << "watch() did not return after the server cancelled the watch";
  const std::exception_ptr error = watch.error();
  ASSERT_NE(error, nullptr) << "watch() returned normally instead of throwing";
  try {
    std::rethrow_exception(error);
  } catch (const Etcd3WatchCanceled& e) {
    EXPECT_GT(e.compact_revision(), 0);
    EXPECT_EQ(e.compact_revision(), second);
  } catch (const std::exception& e) {
    FAIL() << "unexpected exception: " << e.what();
  }
}

TEST_F(WatchTest, CancellerEndsALiveWatchFromAnotherThread) {
  WatchRunner watch(client(), watch_prefix("live/"));
  ASSERT_TRUE(watch.wait_created());
  put(key("live/1"), "v");
  ASSERT_TRUE(watch.wait_events(1));
  EXPECT_FALSE(watch.done());

  watch.cancel();
  ASSERT_TRUE(watch.wait_done()) << "watch() did not return after cancel()";
  EXPECT_EQ(watch.error(), nullptr) << "a cancelled watch must return normally";

  // The client stays usable after a cancelled watch.
  EXPECT_EQ(get(key("live/1")).kvs.size(), 1u);
}

TEST_F(WatchTest, CancelBeforeTheWatchStartsReturnsAtOnce) {
  WatchCanceller canceller;
  canceller.cancel();
  EXPECT_TRUE(canceller.cancelled());
  int messages = 0;
  EXPECT_NO_THROW(client().watch(
      watch_prefix("pre/"), [&](const WatchResponse&) { ++messages; }, canceller));
  EXPECT_EQ(messages, 0);

  canceller.reset();
  EXPECT_FALSE(canceller.cancelled());
}

TEST_F(WatchTest, ProgressNotifyMessagesArriveWhileIdle) {
  WatchCreateRequest request = watch_prefix("idle/");
  request.progress_notify = true;
  WatchRunner watch(client(), request);
  ASSERT_TRUE(watch.wait_created());
  const bool progress = watch.wait_for([](const std::vector<WatchResponse>& all) {
    for (const auto& response : all) {
      if (response.is_progress_notify()) return true;
    }
    return false;
  });
  ASSERT_TRUE(progress) << "no progress notification with a 1 s server interval; messages: "
                        << watch.responses().size();
  for (const auto& response : watch.responses()) {
    if (response.is_progress_notify()) {
      EXPECT_GT(response.header.revision, 0);
      EXPECT_TRUE(response.events.empty());
    }
  }
}

TEST_F(WatchTest, IdleTimeoutEndsASilentWatch) {
  WatchRunner watch(client(), watch_prefix("silent/"), std::chrono::milliseconds{500});
  ASSERT_TRUE(watch.wait_done()) << "watch() ignored its idle timeout";
  const std::exception_ptr error = watch.error();
  ASSERT_NE(error, nullptr);
  EXPECT_THROW(std::rethrow_exception(error), EtcdConnectionFailed);
}

TEST_F(WatchTest, TwoWatchesOnOneClientRunConcurrently) {
  WatchRunner first(client(), watch_prefix("one/"));
  WatchRunner second(client(), watch_prefix("two/"));
  ASSERT_TRUE(first.wait_created());
  ASSERT_TRUE(second.wait_created());
  put(key("one/k"), "1");
  put(key("two/k"), "2");
  ASSERT_TRUE(first.wait_events(1));
  ASSERT_TRUE(second.wait_events(1));
  EXPECT_EQ(first.events().at(0).kv.value, "1");
  EXPECT_EQ(second.events().at(0).kv.value, "2");
}

}  // namespace
}  // namespace dcs::itest
