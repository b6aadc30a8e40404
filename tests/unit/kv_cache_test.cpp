// KVCache against the in-process server and on its own: spec 5.4's wake-up table, the
// mod_revision rules of the store, the write-through rules of spec 4.10, and how the watcher
// thread survives every way a stream can end (split messages, a cancel that leaves the stream
// open, an error object, a member with an older raft term, silence) and stops promptly.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "codec/base64.hpp"
#include "dcs/etcd3/client.hpp"
#include "dcs/etcd3/etcd3.hpp"
#include "dcs/etcd3/kv_cache.hpp"
#include "etcd3/kv_cache_impl.hpp"
#include "etcd3/kv_cache_store.hpp"
#include "etcd3/kv_cache_wakeup.hpp"
#include "etcd3/patroni_client.hpp"
#include "unit/mock_etcd_server.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::etcd3 {
namespace {

using dcs::test::MockEtcdServer;
using dcs::test::StreamScript;
using dcs::test::StreamStep;
using namespace std::chrono_literals;

constexpr auto kPrefix = "/patroni/test/";

detail::WakeKeys wake_keys() {
  return {"leader", "config", "status", "optime/leader", "me"};
}

// --- spec 5.4: which changes wake the HA loop ------------------------------------------------

struct WakeCase {
  const char* what;
  std::string key;
  std::optional<std::string> old_value;
  std::optional<std::string> new_value;
  std::optional<std::string> leader;
  bool wakes;
};

TEST(KVCacheWakeRule, FollowsTheTableOfSpec54) {
  const std::vector<WakeCase> cases = {
      {"leader created", "leader", std::nullopt, "a", "a", true},
      {"leader deleted", "leader", "a", std::nullopt, std::nullopt, true},
      {"leader changed hands", "leader", "a", "b", "b", true},
      {"leader re-put with a new lease", "leader", "a", "a", "a", false},
      {"config changed", "config", R"({"ttl":30})", R"({"ttl":40})", "a", true},
      {"config created", "config", std::nullopt, R"({"ttl":30})", "a", false},
      {"config deleted", "config", R"({"ttl":30})", std::nullopt, "a", false},
      {"config rewritten unchanged", "config", "x", "x", "a", false},
      {"status moved, we follow", "status", R"({"optime":1})", R"({"optime":2})", "a", true},
      {"status created, we follow", "status", std::nullopt, R"({"optime":1})", "a", true},
      {"status moved, nobody leads", "status", R"({"optime":1})", R"({"optime":2})", std::nullopt, true},
      {"status moved, we lead", "status", R"({"optime":1})", R"({"optime":2})", "me", false},
      {"status deleted", "status", R"({"optime":1})", std::nullopt, "a", false},
      {"legacy optime moved, we follow", "optime/leader", "1", "2", "a", true},
      {"legacy optime moved, we lead", "optime/leader", "1", "2", "me", false},
      {"an empty value is no value", "leader", "", std::nullopt, std::nullopt, false},
      {"member key", "members/a", "x", "y", "a", false},
      {"sync", "sync", "x", "y", "a", false},
      {"failover", "failover", "x", "y", "a", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(detail::wakes_ha_loop(wake_keys(), c.key, c.old_value, c.new_value, c.leader), c.wakes) << c.what;
  }
}

// --- the store: spec 5.4's revision rules ----------------------------------------------------

KeyValue cached_kv(const std::string& rel, const std::string& value, std::int64_t revision, std::int64_t lease = 0) {
  KeyValue k;
  k.key = kPrefix + rel;
  k.value = value;
  k.mod_revision = revision;
  k.lease = lease;
  return k;
}

TEST(KVCacheStore, OnlyNewerChangesAreApplied) {
  detail::CacheStore store(kPrefix, false, wake_keys());
  store.reset({cached_kv("leader", "a", 5, 7)}, 5);
  EXPECT_FALSE(store.put(cached_kv("leader", "b", 4), false).applied) << "older";
  EXPECT_FALSE(store.put(cached_kv("leader", "b", 5), false).applied) << "same revision";
  EXPECT_FALSE(store.put(cached_kv("leader", "a", 5, 7), true).applied) << "the same copy again";
  EXPECT_TRUE(store.put(cached_kv("leader", "a", 5, 8), true).applied) << "an event overwrites an equal revision";
  EXPECT_EQ(store.snapshot()->leader->session, 8);
  const auto out = store.put(cached_kv("leader", "b", 6), false);
  EXPECT_TRUE(out.applied);
  EXPECT_TRUE(out.wake);
  EXPECT_EQ(store.snapshot()->leader_name(), "b");
  KeyValue outside = cached_kv("x", "x", 9);
  outside.key = "/patroni/other/leader";
  EXPECT_FALSE(store.put(outside, false).applied) << "outside the prefix";
}

TEST(KVCacheStore, ADeletionIsNotUndoneByAnOlderPut) {
  detail::CacheStore store(kPrefix, false, wake_keys());
  store.reset({cached_kv("leader", "a", 5)}, 5);
  EXPECT_FALSE(store.remove(kPrefix + std::string("leader"), 5).applied) << "not newer";
  EXPECT_TRUE(store.remove(kPrefix + std::string("leader"), 7).wake);
  EXPECT_FALSE(store.snapshot()->leader);
  EXPECT_FALSE(store.put(cached_kv("leader", "a", 6), false).applied) << "a late write-through of an older put";
  EXPECT_TRUE(store.put(cached_kv("leader", "c", 8), false).applied);
  EXPECT_EQ(store.snapshot()->leader_name(), "c");
}

TEST(KVCacheStore, ARelistKeepsWhatWasLearntAfterIt) {
  detail::CacheStore store(kPrefix, false, wake_keys());
  store.reset({cached_kv("leader", "a", 5), cached_kv("members/a", "{}", 4)}, 5);
  store.put(cached_kv("leader", "me", 8), false);       // own write, answered at 8
  store.remove(kPrefix + std::string("members/a"), 9);  // deleted at 9
  store.put(cached_kv("members/b", "{}", 6), false);    // known at 6, listed below
  // A list that was served at revision 7, before those writes reached the member.
  store.reset({cached_kv("leader", "a", 5), cached_kv("members/a", "{}", 4), cached_kv("members/b", "{}", 6)}, 7);
  EXPECT_EQ(store.snapshot()->leader_name(), "me");
  EXPECT_FALSE(store.snapshot()->has_member("a"));
  EXPECT_TRUE(store.snapshot()->has_member("b"));
  EXPECT_FALSE(store.put(cached_kv("members/a", "{}", 4), true).applied) << "the tombstone survived the list";
  // A later list wins over older knowledge.
  store.reset({cached_kv("leader", "b", 10)}, 10);
  EXPECT_EQ(store.snapshot()->leader_name(), "b");
  EXPECT_FALSE(store.snapshot()->has_member("b"));
}

TEST(KVCacheStore, ASnapshotAReaderHoldsNeverChangesAndAnUnheldOneIsPatchedInPlace) {
  detail::CacheStore store(kPrefix, false, wake_keys());
  store.reset({cached_kv("leader", "a", 5), cached_kv("members/a", R"({"state":"running"})", 4)}, 5);
  const std::shared_ptr<const Cluster> held = store.snapshot();
  store.put(cached_kv("members/a", R"({"state":"stopped"})", 6), true);
  store.put(cached_kv("leader", "b", 7), true);
  EXPECT_NE(store.snapshot(), held) << "a held snapshot is replaced, not patched";
  EXPECT_EQ(held->leader_name(), "a");
  EXPECT_EQ(held->get_member("a", false)->data["state"], "running");

  // Nobody holds the current one any more: later changes patch it where it is.
  const Cluster* current = store.snapshot().get();
  store.put(cached_kv("members/b", "{}", 8), true);
  store.remove(kPrefix + std::string("members/a"), 9);
  store.put(cached_kv("leader", "c", 10), true);
  EXPECT_EQ(store.snapshot().get(), current);
  // And it is what a view built from scratch over the same keys says.
  const auto fresh =
      model::build_cluster({{"leader", {"leader", "c", 10, 0}}, {"members/b", {"members/b", "{}", 8, 0}}}, false);
  EXPECT_EQ(store.snapshot()->leader_name(), fresh->leader_name());
  EXPECT_EQ(store.snapshot()->leader->version, fresh->leader->version);
  ASSERT_EQ(store.snapshot()->members.size(), 1u);
  EXPECT_EQ(store.snapshot()->members[0]->name, "b");
  EXPECT_EQ(held->members.size(), 1u);
  EXPECT_EQ(held->members[0]->name, "a");
}

// --- write-through (spec 4.10) -----------------------------------------------------------------

class WriteThrough : public ::testing::Test {
 protected:
  WriteThrough() {
    KVCache::Impl::Settings settings;
    settings.prefix = kPrefix;
    settings.wake = wake_keys();
    settings.on_wake = [this] { ++wakeups; };
    cache = std::make_unique<KVCache::Impl>(std::make_shared<Etcd3Client>(dcs::test::options_for(server)),
                                            std::move(settings));  // thread not started
  }

  static TxnResponse txn_response(bool succeeded, std::int64_t revision) {
    TxnResponse response;
    response.succeeded = succeeded;
    response.header.revision = revision;
    return response;
  }
  std::string leader() const { return cache->snapshot()->leader_name(); }

  MockEtcdServer server;
  std::atomic<int> wakeups{0};
  std::unique_ptr<KVCache::Impl> cache;
};

TEST_F(WriteThrough, APutIsAppliedAtTheResponseRevisionWhenNewer) {
  PutRequest put;
  put.key = kPrefix + std::string("leader");
  put.value = "a";
  put.lease = 42;
  PutResponse response;
  response.header.revision = 10;
  detail::write_through_put(*cache, put, response);
  EXPECT_EQ(leader(), "a");
  EXPECT_EQ(cache->snapshot()->leader->session, 42);
  EXPECT_EQ(cache->snapshot()->leader->version, 10);
  EXPECT_EQ(wakeups, 1);

  put.value = "old";
  response.header.revision = 9;
  detail::write_through_put(*cache, put, response);
  EXPECT_EQ(leader(), "a") << "an answer older than the cached key changes nothing";
}

TEST_F(WriteThrough, DeletesRemoveOnlyOlderKeysOfTheirRange) {
  cache->apply_put(cached_kv("members/a", "{}", 5));
  cache->apply_put(cached_kv("members/b", "{}", 7));
  cache->apply_put(cached_kv("leader", "a", 5));
  DeleteRangeRequest single;
  single.key = kPrefix + std::string("members/a");
  DeleteRangeResponse response;
  response.header.revision = 4;
  detail::write_through_delete(*cache, single, response);
  EXPECT_EQ(cache->snapshot()->members.size(), 2u) << "an answer older than the key changes nothing";

  // A prefix delete (delete_cluster) answered at revision 6: b was written after it.
  DeleteRangeRequest range;
  range.key = kPrefix + std::string("members/");
  range.range_end = prefix_range_end(range.key);
  response.header.revision = 6;
  detail::write_through_delete(*cache, range, response);
  ASSERT_EQ(cache->snapshot()->members.size(), 1u);
  EXPECT_EQ(cache->snapshot()->members[0]->name, "b");
  EXPECT_EQ(leader(), "a") << "outside the range";

  detail::write_through_delete(*cache, single, response);
  cache->apply_put(cached_kv("members/a", "{}", 5));
  EXPECT_EQ(cache->snapshot()->members.size(), 1u) << "a deleted key is not brought back by an older put";
}

TEST_F(WriteThrough, ATransactionAppliesItsFirstSuccessOperation) {
  TxnRequest txn;
  PutRequest put;
  put.key = kPrefix + std::string("leader");
  put.value = "me";
  txn.compare.push_back(Compare::create_revision(put.key, CompareResult::equal, 0));
  txn.success.push_back(RequestOp{put});
  detail::write_through_txn(*cache, txn, txn_response(true, 3));
  EXPECT_EQ(leader(), "me");
  EXPECT_EQ(cache->health().kills, 0u);

  DeleteRangeRequest del;
  del.key = put.key;
  TxnRequest delete_txn;
  delete_txn.compare.push_back(Compare::value_of(put.key, CompareResult::equal, "me"));
  delete_txn.success.push_back(RequestOp{del});
  detail::write_through_txn(*cache, delete_txn, txn_response(true, 4));
  EXPECT_EQ(leader(), "");
}

TEST_F(WriteThrough, TheNestedRebindIsAppliedWhenItSucceeded) {
  PutRequest put;
  put.key = kPrefix + std::string("leader");
  put.value = "me";
  put.lease = 77;
  TxnRequest nested;
  nested.compare.push_back(Compare::create_revision(put.key, CompareResult::equal, 0));
  nested.success.push_back(RequestOp{put});
  TxnRequest outer;
  outer.compare.push_back(Compare::value_of(put.key, CompareResult::equal, "me"));
  outer.success.push_back(RequestOp{put});
  outer.failure.push_back(RequestOp{nested});

  auto response = txn_response(false, 8);
  response.responses.push_back(ResponseOp{txn_response(false, 8)});
  detail::write_through_txn(*cache, outer, response);
  EXPECT_EQ(leader(), "") << "neither branch wrote";
  EXPECT_EQ(cache->health().kills, 0u) << "a transaction with a failure branch keeps the stream";

  response.responses[0] = ResponseOp{txn_response(true, 8)};
  detail::write_through_txn(*cache, outer, response);
  EXPECT_EQ(leader(), "me");
  EXPECT_EQ(cache->snapshot()->leader->session, 77);
}

TEST_F(WriteThrough, AFailedCompareWithoutFailureBranchKillsTheStream) {
  TxnRequest txn;
  txn.compare.push_back(Compare::mod_revision(kPrefix + std::string("config"), CompareResult::equal, 3));
  txn.success.push_back(RequestOp{PutRequest{kPrefix + std::string("config"), "{}", 0, false, false, false}});
  detail::write_through_txn(*cache, txn, txn_response(false, 9));
  EXPECT_EQ(cache->health().kills, 1u);
  EXPECT_TRUE(cache->canceller.cancelled()) << "a stream being set up aborts too";
  EXPECT_FALSE(cache->snapshot()->config);
}

// --- the watcher thread against scripted streams -----------------------------------------------

std::string b64(const std::string& text) {
  return codec::base64_encode(text);
}

std::string header(std::int64_t revision, int term = 5) {
  return R"({"cluster_id":"1","member_id":"2","revision":")" + std::to_string(revision) + R"(","raft_term":")" +
         std::to_string(term) + R"("})";
}

std::string range_answer(std::int64_t revision, const std::string& kvs = "", int term = 5) {
  return R"({"header":)" + header(revision, term) + R"(,"kvs":[)" + kvs + R"(],"count":"0"})";
}

ResponseHeader term_header(std::uint64_t term) {
  ResponseHeader h;
  h.cluster_id = 1;
  h.raft_term = term;
  return h;
}

std::string created(std::int64_t revision, int term = 5) {
  return R"({"result":{"header":)" + header(revision, term) +
         R"(,"created":true}})"
         "\n";
}

std::string put_event(const std::string& rel, const std::string& value, std::int64_t revision, int term = 5) {
  return R"({"result":{"header":)" + header(revision, term) + R"(,"events":[{"kv":{"key":")" + b64(kPrefix + rel) +
         R"(","create_revision":")" + std::to_string(revision) + R"(","mod_revision":")" + std::to_string(revision) +
         R"(","version":"1","value":")" + b64(value) +
         R"("}}]}})"
         "\n";
}

std::string delete_event(const std::string& rel, std::int64_t revision) {
  return R"({"result":{"header":)" + header(revision) + R"(,"events":[{"type":"DELETE","kv":{"key":")" +
         b64(kPrefix + rel) + R"(","mod_revision":")" + std::to_string(revision) +
         R"("}}]}})"
         "\n";
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds bound = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class WatcherThread : public ::testing::Test {
 protected:
  void start(std::chrono::milliseconds probe_interval = 60s) {
    KVCache::Impl::Settings settings;
    settings.prefix = kPrefix;
    settings.wake = wake_keys();
    settings.probe_interval = probe_interval;
    settings.log_sink = log.sink();
    settings.on_wake = [this] { ++wakeups; };
    auto options = dcs::test::options_for(server);
    options.retry_timeout = 2s;
    client = std::make_shared<Etcd3Client>(options);
    cache = std::make_unique<KVCache>(std::make_unique<KVCache::Impl>(client, std::move(settings)));
  }
  std::string leader() const { return cache->snapshot()->leader_name(); }

  MockEtcdServer server;
  dcs::test::RecordingLog log;
  std::atomic<int> wakeups{0};
  std::shared_ptr<Etcd3Client> client;
  std::unique_ptr<KVCache> cache;
};

TEST_F(WatcherThread, AStreamSplitAtEveryByteIsAppliedInOrder) {
  server.answer("/v3/kv/range", 200, range_answer(10));
  const std::string body = created(10) + put_event("leader", "a", 11) + put_event("members/a", "{}", 12) +
                           delete_event("leader", 13) + put_event("leader", "b", 14);
  StreamScript script;
  for (char c : body) script.steps.push_back(StreamStep::chunk(std::string(1, c)));
  script.steps.push_back(StreamStep::hold_open());
  server.stream("/v3/watch", script);
  start();
  ASSERT_TRUE(eventually([&] { return cache->health().events == 4; }));
  EXPECT_EQ(leader(), "b");
  EXPECT_EQ(cache->snapshot()->members.size(), 1u);
  EXPECT_EQ(wakeups, 3) << "created, deleted, created again";
  EXPECT_TRUE(cache->ready());
  EXPECT_EQ(cache->health().rebuilds, 1u);
  EXPECT_EQ(cache->health().revision, 14);
  // The watch starts right after the listed revision.
  const auto watch = nlohmann::json::parse(server.last_request_to("/v3/watch").body);
  EXPECT_EQ(watch["create_request"]["start_revision"], "11");
  EXPECT_EQ(server.last_request_to("/v3/kv/range").body.find("\"serializable\":true") != std::string::npos, true);
}

TEST_F(WatcherThread, ACancelThatLeavesTheStreamOpenMakesItRelist) {
  server.answer("/v3/kv/range", 200, range_answer(10));
  server.stream("/v3/watch", StreamScript{200,
                                          {StreamStep::chunk(created(10)),
                                           StreamStep::chunk(R"({"result":{"header":)" + header(10) +
                                                             R"(,"canceled":true,"compact_revision":"9"}})"
                                                             "\n"),
                                           StreamStep::hold_open()}});
  start();
  ASSERT_TRUE(eventually([&] { return cache->health().rebuilds >= 3; }));
  EXPECT_NE(cache->health().last_error.find("canceled"), std::string::npos) << cache->health().last_error;
}

TEST_F(WatcherThread, AnErrorObjectMidStreamMakesItRelist) {
  server.answer("/v3/kv/range", 200, range_answer(10));
  server.stream("/v3/watch",
                StreamScript{200,
                             {StreamStep::chunk(created(10) + put_event("leader", "a", 11)),
                              StreamStep::chunk(R"({"error":{"grpc_code":14,"http_code":503,"message":"transport )"
                                                R"(is closing","http_status":"Service Unavailable"}})")}});
  start();
  ASSERT_TRUE(eventually([&] { return cache->health().rebuilds >= 2; }));
  EXPECT_NE(cache->health().last_error.find("transport is closing"), std::string::npos) << cache->health().last_error;
}

TEST_F(WatcherThread, AnOlderRaftTermInAWatchHeaderMakesItRelist) {
  server.answer("/v3/kv/range", 200, range_answer(10));
  server.stream("/v3/watch", StreamScript{200,
                                          {StreamStep::chunk(created(10)),
                                           StreamStep::chunk(put_event("leader", "stale", 11, /*term=*/4)),
                                           StreamStep::hold_open()}});
  start();
  ASSERT_TRUE(eventually([&] { return cache->health().rebuilds >= 2; }));
  EXPECT_NE(cache->health().last_error.find("old raft term"), std::string::npos) << cache->health().last_error;
  EXPECT_EQ(leader(), "") << "nothing from the stale member was applied";
}

TEST_F(WatcherThread, WatchHeadersFeedTheClientsRaftTermAndAReaderChecksTheStreamAgainstIt) {
  server.answer("/v3/kv/range", 200, range_answer(10));
  server.stream("/v3/watch", StreamScript{200, {StreamStep::chunk(created(10, /*term=*/7)), StreamStep::hold_open()}});
  start();
  // The stream's first message has arrived (the stream's own guard holds its term).
  ASSERT_TRUE(eventually([&] { return cache->impl().term_guard.term() == 7; }));
  ASSERT_NE(cache->impl().wait_ready(0ms), nullptr);
  // The client learnt term 7 from the watch (spec 5.6): an answer at term 6 is now stale to it.
  EXPECT_FALSE(client->observe_raft_term(term_header(6)));

  // The client then sees term 9 on another member while the stream stays quiet at 7: the next
  // read does not trust the stream's snapshot; the cache lists again (now at term 9).
  server.answer("/v3/kv/range", 200, range_answer(11, "", /*term=*/9));
  server.stream("/v3/watch", StreamScript{200, {StreamStep::chunk(created(11, /*term=*/9)), StreamStep::hold_open()}});
  ASSERT_TRUE(client->observe_raft_term(term_header(9)));
  const auto snapshot = cache->impl().wait_ready(5s);
  EXPECT_NE(snapshot, nullptr);
  EXPECT_GE(cache->health().kills, 1u);
  EXPECT_GE(cache->health().rebuilds, 2u);
  EXPECT_TRUE(eventually([&] { return cache->health().revision == 11; }));
}

TEST_F(WatcherThread, AQuietStreamIsReopenedWithoutRelistingAndASilentMemberIsGivenUp) {
  server.answer("/v3/kv/range", 200, range_answer(10));
  server.stream("/v3/watch", StreamScript{200, {StreamStep::chunk(created(10)), StreamStep::hold_open()}});
  start(200ms);
  ASSERT_TRUE(eventually([&] { return cache->health().streams >= 3; }));
  EXPECT_EQ(cache->health().rebuilds, 1u) << "a quiet stream resumes from its revision";
  EXPECT_TRUE(cache->ready());

  // Now the member answers nothing at all on a new stream.
  server.stream("/v3/watch", StreamScript{200, {StreamStep::hold_open()}});
  ASSERT_TRUE(eventually([&] { return cache->health().silent_endpoints >= 1; }));
  EXPECT_TRUE(eventually([&] { return cache->health().rebuilds >= 2; })) << "listed again (on another member)";
}

TEST_F(WatcherThread, AStreamRefusedForItsTokenIsResumedOnceWithANewTokenThenRelists) {
  server.answer("/v3/kv/range", 200, range_answer(10));
  // etcd 3.4's answer to a watch created with a token that expired or was revoked.
  server.stream("/v3/watch",
                StreamScript{200,
                             {StreamStep::chunk(R"({"result":{"header":)" + header(10) +
                                                R"(,"watch_id":"-1","created":true,"canceled":true,"cancel_reason":)"
                                                R"("rpc error: code = PermissionDenied desc = etcdserver: )"
                                                R"(permission denied"}})"
                                                "\n"),
                              StreamStep::hold_open()}});
  start();
  // The first refusal: a small request renews the token and the stream is re-opened at once, the
  // cache still ready; refused again with nothing in between, it is not the token: relist.
  ASSERT_TRUE(eventually([&] { return cache->health().rebuilds >= 2; }));
  EXPECT_EQ(cache->health().token_renewals, 1u);
  EXPECT_GE(cache->health().streams, 2u);
  EXPECT_NE(cache->health().last_error.find("permission denied"), std::string::npos) << cache->health().last_error;
  bool renewal_seen = false;
  for (const auto& request : server.requests()) {
    if (request.path != "/v3/kv/range") continue;
    const auto body = nlohmann::json::parse(request.body);
    if (body.value("count_only", false)) {
      renewal_seen = true;
      EXPECT_EQ(body["key"], b64(std::string(kPrefix) + "leader"));
    }
  }
  EXPECT_TRUE(renewal_seen) << "the token was renewed with a count of the leader key";
}

TEST_F(WatcherThread, ANewProbeIntervalAppliesToTheRunningStreamAtOnce) {
  server.answer("/v3/kv/range", 200, range_answer(10));
  server.stream("/v3/watch", StreamScript{200, {StreamStep::chunk(created(10)), StreamStep::hold_open()}});
  start(60s);
  ASSERT_TRUE(eventually([&] { return cache->health().streams == 1 && cache->ready(); }));
  cache->impl().set_probe_interval(200ms);
  EXPECT_EQ(cache->probe_interval(), 200ms);
  EXPECT_EQ(cache->staleness_bound(), 400ms);
  // The stream opened under the old interval (60 s) is re-opened under the new one, and from then
  // on re-opened whenever it is quiet for 200 ms; the cache stays ready and lists nothing.
  ASSERT_TRUE(eventually([&] { return cache->health().streams >= 4; }, 5s));
  EXPECT_EQ(cache->health().rebuilds, 1u);
  EXPECT_TRUE(eventually([&] { return cache->ready(); }));
}

TEST_F(WatcherThread, AClusterOlderThan31HasNoWatchesSoTheCacheStaysOffAndSaysSo) {
  server.set_version("3.0.17", "3.0.0");
  start();
  ASSERT_TRUE(eventually([&] { return cache->health().unsupported; }));
  EXPECT_FALSE(cache->ready());
  EXPECT_NE(cache->health().last_error.find("lower than 3.1.0"), std::string::npos) << cache->health().last_error;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(cache->impl().wait_ready(5s), nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "a reader does not wait for a cache that never starts";
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(server.requests_to("/v3alpha/kv/range").empty()) << "nothing is listed";
  EXPECT_TRUE(server.requests_to("/v3alpha/watch").empty()) << "nothing is watched";
  EXPECT_EQ(cache->health().rebuilds, 0u);
}

TEST_F(WatcherThread, A31ClusterIsWatched) {
  server.set_version("3.1.20", "3.1.0");
  server.answer("/v3alpha/kv/range", 200, range_answer(10));
  server.stream("/v3alpha/watch", StreamScript{200, {StreamStep::chunk(created(10)), StreamStep::hold_open()}});
  start();
  ASSERT_TRUE(eventually([&] { return cache->ready(); })) << cache->health().last_error;
  EXPECT_FALSE(cache->health().unsupported);
}

TEST(KVCacheEtcd3, OnAClusterOlderThan31GetClusterReadsEtcd) {
  MockEtcdServer server;
  server.set_version("3.0.17", "3.0.0");
  server.answer("/v3alpha/lease/grant", 200, std::string(dcs::test::recorded::kLeaseGrant));
  server.answer("/v3alpha/kv/range", 200,
                range_answer(10, R"({"key":")" + b64(std::string(kPrefix) + "leader") +
                                     R"(","mod_revision":"9","value":")" + b64(std::string("a")) + R"("})"));
  auto options = dcs::test::options_for(server);
  options.namespace_ = "/patroni/";
  options.scope = "test";
  options.name = "me";
  options.retry_timeout = 2s;
  options.startup_timeout = 0s;
  Etcd3 dcs(options);
  ASSERT_NE(dcs.kv_cache(), nullptr);
  EXPECT_EQ(dcs.get_cluster()->leader_name(), "a");
  EXPECT_TRUE(dcs.kv_cache()->health().unsupported);
  EXPECT_FALSE(server.requests_to("/v3alpha/kv/range").empty()) << "read from etcd, not from a cache";
}

// The cache hears endpoint switches through a listener of its own: an embedder's listener on the
// same client (set before or after the cache started) keeps working and survives the cache.
TEST(KVCacheListeners, TheCacheAndAnEmbedderBothHearAnEndpointSwitch) {
  MockEtcdServer a, b;
  for (auto* server : {&a, &b}) {
    server->answer("/v3/kv/range", 200, range_answer(10));
    server->stream("/v3/watch", StreamScript{200, {StreamStep::chunk(created(10)), StreamStep::hold_open()}});
  }
  auto options = dcs::test::options_for(a);
  options.endpoints = {a.url(), b.url()};
  const auto client = std::make_shared<Etcd3Client>(options);
  std::mutex mutex;
  std::vector<std::string> embedder, other;
  client->set_endpoint_listener([&](const std::string& endpoint) {
    std::lock_guard lock(mutex);
    embedder.push_back(endpoint);
  });
  const auto other_id = client->add_endpoint_listener([&](const std::string& endpoint) {
    std::lock_guard lock(mutex);
    other.push_back(endpoint);
  });
  const auto heard = [&](const std::vector<std::string>& list) {
    std::lock_guard lock(mutex);
    return list;
  };

  KVCache::Impl::Settings settings;
  settings.prefix = kPrefix;
  settings.wake = wake_keys();
  settings.probe_interval = 60s;
  auto cache = std::make_unique<KVCache>(std::make_unique<KVCache::Impl>(client, std::move(settings)));
  ASSERT_TRUE(eventually([&] { return cache->ready() && cache->health().streams == 1; }));
  EXPECT_EQ(cache->health().endpoint, a.url());

  // `a` loses its leader: the next request moves to `b`, and everyone hears it.
  a.answer("/v3/kv/range", 503, std::string(dcs::test::recorded::kErrNoLeader));
  client->range(RangeRequest{.key = "x"});
  EXPECT_EQ(heard(embedder), std::vector<std::string>{b.url()});
  EXPECT_EQ(heard(other), std::vector<std::string>{b.url()});
  EXPECT_GE(cache->health().kills, 1u) << "the cache restarted its stream on the new endpoint";
  ASSERT_TRUE(eventually([&] { return cache->ready() && cache->health().endpoint == b.url(); }))
      << cache->health().last_error;

  // A removed listener is not called again; the cache's removal on stop leaves the embedder's.
  client->remove_listener(other_id);
  cache.reset();
  a.answer("/v3/kv/range", 200, range_answer(12));
  b.answer("/v3/kv/range", 503, std::string(dcs::test::recorded::kErrNoLeader));
  client->range(RangeRequest{.key = "x"});
  EXPECT_EQ(heard(embedder), (std::vector<std::string>{b.url(), a.url()}));
  EXPECT_EQ(heard(other), std::vector<std::string>{b.url()});
}

TEST_F(WatcherThread, FailedListsBackOffAndNothingEscapesTheThread) {
  server.answer("/v3/kv/range", 500, R"({"error":"etcdserver: internal","code":13})");
  start();
  ASSERT_TRUE(eventually([&] { return cache->health().failed_rebuilds >= 2; }));
  std::this_thread::sleep_for(300ms);
  // The back-off doubles from 250 ms: a handful of lists in that time, not a storm.
  EXPECT_LE(cache->health().failed_rebuilds, 6u);
  EXPECT_FALSE(cache->ready());
  EXPECT_NE(cache->health().last_error.find("internal"), std::string::npos);
}

TEST_F(WatcherThread, DestroyingItWhileTheStreamIsBlockedReturnsPromptly) {
  server.answer("/v3/kv/range", 200, range_answer(10));
  server.stream("/v3/watch", StreamScript{200, {StreamStep::chunk(created(10)), StreamStep::hold_open()}});
  start();
  ASSERT_TRUE(eventually(
      [&] { return cache->health().streams == 1 && cache->health().last_contact.time_since_epoch().count() > 0; }));
  const auto started = std::chrono::steady_clock::now();
  cache.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "hang check only";
}

}  // namespace
}  // namespace dcs::etcd3
