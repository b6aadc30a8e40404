// The values AbstractDCS shapes before a backend stores them (spec 3.4): status with change
// detection and slot carry-over, the legacy optime for pre-2.1.0 members, failsafe, leader
// refresh and delete, sync state and failover requests, and the timing setters.
#include <gtest/gtest.h>

#include "recording_dcs.hpp"

namespace dcs {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::RecordingDCS;
using testing::RecordingSetup;
using Strings = std::vector<std::string>;

class AbstractDcsWrites : public ::testing::Test {
 protected:
  RecordingSetup setup;
  RecordingDCS dcs{setup.settings()};

  void read(std::vector<StoredKey> relative_keys) {
    for (auto& key : relative_keys) key.key = "/service/demo/" + key.key;
    dcs.set_keys(std::move(relative_keys));
    dcs.get_cluster();
  }
};

// --- write_status ---------------------------------------------------------------------------------

TEST_F(AbstractDcsWrites, StatusIsWrittenOnlyWhenItChanges) {
  dcs.write_status({{"optime", 100}});
  dcs.write_status({{"optime", 100}});
  dcs.write_status({{"optime", 200}});
  EXPECT_EQ(dcs.status_writes(), (Strings{R"({"optime":100})", R"({"optime":200})"}));
}

TEST_F(AbstractDcsWrites, StatusReadFromTheStoreCountsAsWritten) {
  read({{"status", R"({"optime":100,"slots":{"s":1},"retain_slots":["m"]})", 3, 0}});
  dcs.write_status({{"optime", 100}, {"slots", {{"s", 1}}}, {"retain_slots", {"m"}}});
  EXPECT_TRUE(dcs.status_writes().empty());
}

TEST_F(AbstractDcsWrites, MissingSlotsAreCarriedOverFromTheLastKnownStatus) {
  read({{"status", R"({"optime":100,"slots":{"s":1},"retain_slots":["m"]})", 3, 0}});
  dcs.write_status({{"optime", 100}});  // same optime, slots carried over: nothing changed
  EXPECT_TRUE(dcs.status_writes().empty());
  dcs.write_status({{"optime", 200}});
  // json.dumps({"optime":200,"slots":{"s":1},"retain_slots":["m"]}, separators=(",", ":"))
  EXPECT_EQ(dcs.status_writes(), Strings{R"({"optime":200,"slots":{"s":1},"retain_slots":["m"]})"});
}

// A read only notes its view; the status it holds is compared when a write comes. Whatever came
// last, a read or a write, is what the next write is compared with.
TEST_F(AbstractDcsWrites, TheLatestReadOrWriteIsWhatTheNextStatusIsComparedWith) {
  read({{"status", R"({"optime":100})", 3, 0}});
  dcs.write_status({{"optime", 200}});
  read({{"status", R"({"optime":300,"slots":{"s":1}})", 5, 0}});
  dcs.write_status({{"optime", 300}});  // the newer read's status, its slots carried over
  EXPECT_EQ(dcs.status_writes(), Strings{R"({"optime":200})"});
  dcs.write_status({{"optime", 200}});
  EXPECT_EQ(dcs.status_writes(), (Strings{R"({"optime":200})", R"({"optime":200,"slots":{"s":1}})"}));
}

TEST_F(AbstractDcsWrites, ExplicitNullsDropSlotsInsteadOfCarryingThemOver) {
  read({{"status", R"({"optime":100,"slots":{"s":1}})", 3, 0}});
  dcs.write_status({{"optime", 100}, {"slots", nullptr}, {"retain_slots", nullptr}});
  EXPECT_EQ(dcs.status_writes(), Strings{R"({"optime":100})"});
}

TEST_F(AbstractDcsWrites, EmptyStoredSlotsAreNotCarriedOver) {
  read({{"status", R"({"optime":100,"slots":{},"retain_slots":[]})", 3, 0}});
  dcs.write_status({{"optime", 100}});
  EXPECT_TRUE(dcs.status_writes().empty());
}

TEST_F(AbstractDcsWrites, FailedStatusWriteIsRetriedNextTime) {
  dcs.write_result = false;
  dcs.write_status({{"optime", 100}});
  dcs.write_result = true;
  dcs.write_status({{"optime", 100}});
  dcs.write_status({{"optime", 100}});
  EXPECT_EQ(dcs.status_writes(), (Strings{R"({"optime":100})", R"({"optime":100})"}));
}

TEST_F(AbstractDcsWrites, StatusKeepsPatroniKeyOrderWhateverTheCallerBuilt) {
  dcs.write_status({{"retain_slots", {"b", "a"}}, {"slots", {{"z", 2}, {"a", 1}}}, {"optime", 5}, {"extra", 1}});
  EXPECT_EQ(dcs.status_writes(), Strings{R"({"optime":5,"slots":{"a":1,"z":2},"retain_slots":["b","a"],"extra":1})"});
}

TEST_F(AbstractDcsWrites, NonObjectStatusIsRefused) {
  dcs.write_status(json::array({1}));
  dcs.write_status(json(5));
  EXPECT_TRUE(dcs.status_writes().empty());
}

// --- legacy optime/leader -------------------------------------------------------------------------

TEST_F(AbstractDcsWrites, LegacyOptimeIsWrittenWhileAPre210MemberIsPresent) {
  read({{"members/old", R"({"version":"2.0.2"})", 1, 1}, {"members/new", R"({"version":"3.0.2"})", 2, 1}});
  dcs.write_status({{"optime", 100}});
  dcs.write_status({{"optime", 100}});
  dcs.write_status({{"optime", 200}});
  EXPECT_EQ(dcs.leader_optime_writes, (Strings{"100", "200"}));
  EXPECT_EQ(dcs.status_writes().size(), 2u);
}

// Versions parsed for one status write are reused for the same member objects at the next one:
// a member rewritten in between (a new object) is read again, whichever way its version moved.
TEST_F(AbstractDcsWrites, LegacyOptimeFollowsAMemberThatIsUpgradedOrDowngraded) {
  read({{"members/a", R"({"version":"3.0.2"})", 1, 1}, {"members/b", R"({"version":"2.0.2"})", 2, 1}});
  dcs.write_status({{"optime", 100}});
  read({{"members/a", R"({"version":"3.0.2"})", 1, 1}, {"members/b", R"({"version":"3.0.2"})", 3, 1}});
  dcs.write_status({{"optime", 200}});  // b upgraded: no legacy key any more
  read({{"members/a", R"({"version":"1.6.5"})", 4, 1}, {"members/b", R"({"version":"3.0.2"})", 3, 1}});
  dcs.write_status({{"optime", 300}});  // a downgraded, b unchanged (the same object)
  read({{"members/b", R"({"version":"3.0.2"})", 3, 1}, {"members/c", R"({"version":"3.0.2"})", 5, 1}});
  dcs.write_status({{"optime", 400}});  // a gone
  EXPECT_EQ(dcs.leader_optime_writes, (Strings{"100", "300"}));
  EXPECT_EQ(dcs.status_writes().size(), 4u);
}

TEST_F(AbstractDcsWrites, LegacyOptimeStopsWhenTheLastOldMemberLeavesTheEndOfTheList) {
  read({{"members/a", R"({"version":"3.0.2"})", 1, 1}, {"members/z", R"({"version":"1.6.5"})", 2, 1}});
  dcs.write_status({{"optime", 100}});
  read({{"members/a", R"({"version":"3.0.2"})", 1, 1}});
  dcs.write_status({{"optime", 200}});  // z left: the list shrank, nobody old is counted
  read({{"members/a", R"({"version":"3.0.2"})", 1, 1}, {"members/z", R"({"version":"1.6.5"})", 6, 1}});
  dcs.write_status({{"optime", 300}});  // z is back
  read({{"members/a", R"({"version":"3.0.2"})", 1, 1},
        {"members/y", R"({"version":"3.0.2"})", 7, 1},
        {"members/z", R"({"version":"1.6.5"})", 6, 1}});
  dcs.write_status({{"optime", 400}});  // y joined before z: z moved, still old
  EXPECT_EQ(dcs.leader_optime_writes, (Strings{"100", "300", "400"}));
}

TEST_F(AbstractDcsWrites, NoLegacyOptimeWithoutAnOldMember) {
  read({{"members/a", R"({"version":"2.1.0"})", 1, 1}, {"members/b", R"({})", 2, 1}});
  dcs.write_status({{"optime", 100}});
  EXPECT_TRUE(dcs.leader_optime_writes.empty());
}

TEST_F(AbstractDcsWrites, NoLegacyOptimeOnceTheViewExpired) {
  read({{"members/old", R"({"version":"1.6.5"})", 1, 1}});
  setup.clock->advance(30s);
  dcs.write_status({{"optime", 100}});
  EXPECT_TRUE(dcs.leader_optime_writes.empty());
  EXPECT_EQ(dcs.status_writes().size(), 1u);
}

// --- failsafe -------------------------------------------------------------------------------------

TEST_F(AbstractDcsWrites, FailsafeIsWrittenOnlyWhenItChanges) {
  dcs.write_failsafe({{"node1", "http://a:8008/patroni"}});
  dcs.write_failsafe({{"node1", "http://a:8008/patroni"}});
  dcs.write_failsafe({{"node1", "http://a:8008/patroni"}, {"node2", "http://b:8008/patroni"}});
  EXPECT_EQ(dcs.failsafe_writes, (Strings{R"({"node1":"http://a:8008/patroni"})",
                                          R"({"node1":"http://a:8008/patroni","node2":"http://b:8008/patroni"})"}));
}

TEST_F(AbstractDcsWrites, StoredFailsafeCountsAsWritten) {
  read({{"failsafe", R"({"node1":"http://a:8008/patroni"})", 1, 0}});
  dcs.write_failsafe({{"node1", "http://a:8008/patroni"}});
  EXPECT_TRUE(dcs.failsafe_writes.empty());
}

TEST_F(AbstractDcsWrites, EmptyFailsafeIsWrittenOnlyAfterAReadFoundNone) {
  dcs.write_failsafe(json::object());  // Patroni starts from {}
  EXPECT_TRUE(dcs.failsafe_writes.empty());
  read({});
  dcs.write_failsafe(json::object());
  EXPECT_EQ(dcs.failsafe_writes, Strings{"{}"});
}

TEST_F(AbstractDcsWrites, NonObjectStoredFailsafeIsAlwaysRewritten) {
  read({{"failsafe", R"(["node1"])", 1, 0}});
  dcs.write_failsafe(json::array({"node1"}));
  EXPECT_EQ(dcs.failsafe_writes, Strings{R"(["node1"])"});
}

// --- update_leader / delete_leader -----------------------------------------------------------------

TEST_F(AbstractDcsWrites, UpdateLeaderWritesStatusAndFailsafeAfterASuccessfulRefresh) {
  read({{"leader", "node1", 5, 7}, {"members/node1", "{}", 4, 7}});
  const auto cluster = dcs.cluster();
  EXPECT_TRUE(dcs.update_leader(*cluster, 300, AbstractDCS::Slots{{"node2", 290}}, json{{"node1", "http://a"}},
                                Strings{"node2"}));
  EXPECT_EQ(dcs.update_leader_calls, (std::vector<std::optional<std::string>>{"node1"}));
  EXPECT_EQ(dcs.status_writes(), Strings{R"({"optime":300,"slots":{"node2":290},"retain_slots":["node2"]})"});
  EXPECT_EQ(dcs.failsafe_writes, Strings{R"({"node1":"http://a"})"});
}

TEST_F(AbstractDcsWrites, UpdateLeaderWritesNothingWhenTheRefreshFailed) {
  dcs.update_leader_result = false;
  EXPECT_FALSE(dcs.update_leader(Cluster::empty(), 300, {}, json::object()));
  EXPECT_EQ(dcs.update_leader_calls, (std::vector<std::optional<std::string>>{std::nullopt}));
  EXPECT_TRUE(dcs.status_writes().empty());
  EXPECT_TRUE(dcs.failsafe_writes.empty());
}

TEST_F(AbstractDcsWrites, UpdateLeaderWithoutLsnWritesNoStatus) {
  read({});
  EXPECT_TRUE(dcs.update_leader(Cluster::empty(), std::nullopt));
  EXPECT_TRUE(dcs.update_leader(Cluster::empty(), 0));
  EXPECT_TRUE(dcs.status_writes().empty());
  EXPECT_TRUE(dcs.failsafe_writes.empty());  // no failsafe given
}

TEST_F(AbstractDcsWrites, UpdateLeaderWithoutSlotsDropsStoredSlots) {
  read({{"status", R"({"optime":100,"slots":{"s":1},"retain_slots":["m"]})", 3, 0}});
  dcs.update_leader(Cluster::empty(), 100, AbstractDCS::Slots{}, std::nullopt, Strings{});
  EXPECT_EQ(dcs.status_writes(), Strings{R"({"optime":100})"});
}

TEST_F(AbstractDcsWrites, DeleteLeaderWritesTheLastOptimeThenDeletes) {
  read({{"status", R"({"optime":100,"slots":{"s":1}})", 3, 0}});
  const Leader leader{5, 7, Member{4, "node1", 7, json::object()}};
  EXPECT_TRUE(dcs.delete_leader(leader, 500));
  EXPECT_EQ(dcs.status_writes(), Strings{R"({"optime":500,"slots":{"s":1}})"});
  EXPECT_EQ(dcs.delete_leader_calls, Strings{"node1"});
}

TEST_F(AbstractDcsWrites, DeleteLeaderWithoutLeaderOnlyWritesTheOptime) {
  EXPECT_FALSE(dcs.delete_leader(std::nullopt, 500));
  EXPECT_TRUE(dcs.delete_leader_calls.empty());
  EXPECT_EQ(dcs.status_writes(), Strings{R"({"optime":500})"});
  const Leader leader{5, 7, Member{4, "node1", 7, json::object()}};
  dcs.delete_leader_result = false;
  EXPECT_FALSE(dcs.delete_leader(leader));
  EXPECT_EQ(dcs.status_writes().size(), 1u);  // no lsn, no status write
}

TEST_F(AbstractDcsWrites, WriteLeaderOptimeIsAStatusWrite) {
  dcs.write_leader_optime(42);
  EXPECT_EQ(dcs.status_writes(), Strings{R"({"optime":42})"});
}

// --- sync state and failover ------------------------------------------------------------------------

TEST_F(AbstractDcsWrites, WriteSyncStateReturnsTheStateWithItsNewRevision) {
  dcs.sync_revision = 77;
  const auto state = dcs.write_sync_state("node1", {"node3", "node2"}, 1, 70);
  EXPECT_EQ(dcs.sync_writes, Strings{R"({"leader":"node1","quorum":1,"sync_standby":"node2,node3"})"});
  ASSERT_TRUE(state);
  EXPECT_EQ(state->version, 77);
  EXPECT_EQ(state->leader, "node1");
  EXPECT_EQ(state->members(), (Strings{"node2", "node3"}));
  EXPECT_EQ(state->quorum, 1);
}

TEST_F(AbstractDcsWrites, WriteSyncStateIsNulloptWhenTheCompareFailed) {
  dcs.sync_revision = std::nullopt;
  EXPECT_FALSE(dcs.write_sync_state(std::nullopt, {}, 0));
  EXPECT_EQ(dcs.sync_writes, Strings{R"({"leader":null,"quorum":0,"sync_standby":null})"});
}

TEST_F(AbstractDcsWrites, ManualFailoverWritesTheRequestWithItsVersion) {
  EXPECT_TRUE(dcs.manual_failover("node1", "node2", "2024-05-01T10:00:00+00:00", 12));
  EXPECT_TRUE(dcs.manual_failover("", "node2"));
  EXPECT_EQ(dcs.failover_writes,
            (Strings{R"({"leader":"node1","member":"node2","scheduled_at":"2024-05-01T10:00:00+00:00"})",
                     R"({"member":"node2"})"}));
  EXPECT_EQ(dcs.failover_versions, (std::vector<std::optional<std::int64_t>>{12, std::nullopt}));
}

// --- timings and watch ------------------------------------------------------------------------------

TEST_F(AbstractDcsWrites, TtlChangeReachesTheBackendOnlyWhenItChanges) {
  dcs.set_ttl(30s);
  EXPECT_TRUE(dcs.ttl_changes.empty());
  dcs.set_ttl(40s);
  dcs.set_ttl(40s);
  EXPECT_EQ(dcs.ttl_changes, std::vector<std::chrono::seconds>{40s});
  EXPECT_EQ(dcs.ttl(), 40s);
  // The cached view now lives for the new ttl.
  dcs.get_cluster();
  setup.clock->advance(39s);
  EXPECT_TRUE(dcs.cluster());
  setup.clock->advance(1s);
  EXPECT_FALSE(dcs.cluster());
}

TEST_F(AbstractDcsWrites, RetryTimeoutAndLoopWait) {
  EXPECT_EQ(dcs.retry_timeout(), 10s);
  EXPECT_EQ(dcs.loop_wait(), 10s);
  dcs.set_retry_timeout(10s);
  dcs.set_retry_timeout(5s);
  dcs.set_loop_wait(3s);
  EXPECT_EQ(dcs.retry_timeout_changes, std::vector<std::chrono::seconds>{5s});
  EXPECT_EQ(dcs.retry_timeout(), 5s);
  EXPECT_EQ(dcs.loop_wait(), 3s);
}

TEST_F(AbstractDcsWrites, WatchIsTheBackendsWait) {
  dcs.watch_result = true;
  EXPECT_TRUE(dcs.watch(5, 2500ms));
  ASSERT_EQ(dcs.watch_calls.size(), 1u);
  EXPECT_EQ(dcs.watch_calls[0].first, 5);
  EXPECT_EQ(dcs.watch_calls[0].second, 2500ms);
}

}  // namespace
}  // namespace dcs
