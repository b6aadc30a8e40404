// The HA decision logic of examples/ha_daemon on MemoryDCS with a manual clock: elections,
// lease expiry, graceful release, switchover / failover requests, scheduled switchovers, sync
// state and a DCS outage, deterministically and without sleeping.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dcs/clock.hpp"
#include "dcs/memory_dcs.hpp"
#include "ha_daemon/ha_node.hpp"

namespace dcs_examples {
namespace {

using namespace std::chrono_literals;

constexpr auto kTtl = 30s;
constexpr auto kLoopWait = 10s;

class HaNodeTest : public ::testing::Test {
 protected:
  struct Member {
    std::unique_ptr<dcs::MemoryDCS> dcs;
    std::unique_ptr<HaNode> node;
    bool alive = true;
  };

  dcs::DCSSettings settings_for(const std::string& name) const {
    dcs::DCSSettings settings;
    settings.scope = "demo";
    settings.name = name;
    settings.ttl = kTtl;
    settings.loop_wait = kLoopWait;
    return settings;
  }

  HaNode& add(const std::string& name, nlohmann::json tags = nlohmann::json::object()) {
    Member& m = members_[name];
    m.dcs = std::make_unique<dcs::MemoryDCS>(settings_for(name), store_);
    NodeSettings settings;
    settings.name = name;
    settings.conn_url = "postgres://10.0.0." + std::to_string(members_.size()) + ":5432/postgres";
    settings.api_url = "http://10.0.0." + std::to_string(members_.size()) + ":8008/patroni";
    settings.tags = std::move(tags);
    settings.bootstrap_config = bootstrap_config_;
    settings.unix_time = [this] { return wall_; };
    settings.trace = trace_;
    m.node = std::make_unique<HaNode>(*m.dcs, settings, [this](const RoleEvent& e) { events_.push_back(e); });
    return *m.node;
  }

  HaNode& node(const std::string& name) { return *members_.at(name).node; }

  /// One HA cycle of every live member, in name order.
  void cycle_all() {
    for (auto& [name, m] : members_) {
      if (m.alive) m.node->run_cycle();
    }
  }

  /// Lets `duration` pass in loop_wait steps, every live member running one cycle per step.
  void run_for(std::chrono::seconds duration) {
    for (auto passed = 0s; passed < duration; passed += kLoopWait) {
      clock_->advance(kLoopWait);
      wall_ += static_cast<double>(kLoopWait.count());
      cycle_all();
    }
  }

  /// Three members; "a" cycles first and bootstraps the cluster.
  void three_members() {
    add("a");
    add("b");
    add("c");
    cycle_all();
    cycle_all();
  }

  std::shared_ptr<const dcs::Cluster> read() { return observer_->get_cluster(); }
  std::string leader() { return read()->leader_name(); }

  std::vector<RoleEvent> events_named(const std::string& event) const {
    std::vector<RoleEvent> out;
    for (const auto& e : events_) {
      if (e.event == event) out.push_back(e);
    }
    return out;
  }

  std::shared_ptr<dcs::ManualClock> clock_ = std::make_shared<dcs::ManualClock>();
  std::shared_ptr<dcs::MemoryStore> store_ = std::make_shared<dcs::MemoryStore>(clock_);
  // What an operator's tool sees and writes (dcsctl's part).
  std::unique_ptr<dcs::MemoryDCS> observer_ = std::make_unique<dcs::MemoryDCS>(settings_for("ctl"), store_);
  nlohmann::json bootstrap_config_ = {{"ttl", 30}, {"loop_wait", 10}};
  std::map<std::string, Member> members_;
  std::vector<RoleEvent> events_;
  double wall_ = 1'700'000'000.0;
  bool trace_ = false;  // NodeSettings::trace of the members added next
};

TEST_F(HaNodeTest, ThreeMembersElectExactlyOneLeader) {
  three_members();
  run_for(30s);

  const auto acquired = events_named("acquired");
  ASSERT_EQ(acquired.size(), 1u);
  EXPECT_EQ(acquired[0].member, "a");
  EXPECT_EQ(acquired[0].role, Role::primary);
  EXPECT_EQ(acquired[0].timeline, 1);

  const auto cluster = read();
  EXPECT_EQ(cluster->leader_name(), "a");
  ASSERT_TRUE(cluster->initialize.has_value());
  EXPECT_FALSE(cluster->initialize->empty()) << "the bootstrapper stores its system id";
  ASSERT_TRUE(cluster->config.has_value());
  EXPECT_EQ(cluster->config->data, bootstrap_config_);
  EXPECT_EQ(cluster->members.size(), 3u);
  EXPECT_EQ(node("a").role(), Role::primary);
  EXPECT_EQ(node("b").role(), Role::replica);
  EXPECT_EQ(node("c").role(), Role::replica);
  for (const auto& m : cluster->members) {
    EXPECT_EQ(m->state(), "running") << m->name;
    EXPECT_EQ(m->role(), m->name == "a" ? "primary" : "replica") << m->name;
    EXPECT_EQ(m->data.value("timeline", 0), 1) << m->name;
  }
}

TEST_F(HaNodeTest, TheLeaderPublishesAnAdvancingPositionThatReplicasFollow) {
  three_members();
  const auto before = read()->last_lsn();
  run_for(30s);
  const auto after = read()->last_lsn();
  EXPECT_GT(after, before) << "status.optime grows while a primary runs";
  EXPECT_EQ(node("a").lsn(), after);
  // A replica reports what the leader had published when it last looked: at most a cycle behind.
  EXPECT_GE(node("b").lsn(), before);
  EXPECT_LE(node("b").lsn(), after);
}

TEST_F(HaNodeTest, WhenTheLeaderDiesOneReplicaTakesOverOnANewTimeline) {
  three_members();
  run_for(20s);
  const auto final_lsn = read()->last_lsn();
  members_.at("a").alive = false;  // SIGKILL: its lease simply runs out

  run_for(kTtl + kLoopWait + kLoopWait);

  const auto acquired = events_named("acquired");
  ASSERT_EQ(acquired.size(), 2u);
  const std::string winner = acquired[1].member;
  EXPECT_NE(winner, "a");
  EXPECT_EQ(acquired[1].timeline, 2);
  const auto cluster = read();
  EXPECT_EQ(cluster->leader_name(), winner);
  EXPECT_FALSE(cluster->has_member("a")) << "the dead member's key expired with its lease";
  ASSERT_TRUE(cluster->history.has_value());
  ASSERT_EQ(cluster->history->lines.size(), 1u);
  EXPECT_EQ(cluster->history->lines[0][0], 1);
  EXPECT_GE(cluster->history->lines[0][1].get<std::int64_t>(), final_lsn);
  EXPECT_EQ(cluster->history->lines[0][4], winner);
  EXPECT_EQ(cluster->timeline(), 2);
  const std::string other = winner == "b" ? "c" : "b";
  EXPECT_EQ(node(other).role(), Role::replica);
  EXPECT_EQ(node(other).timeline(), 2) << "a replica follows the new timeline";
}

TEST_F(HaNodeTest, ShutdownReleasesTheLeaderKeyAtOnce) {
  three_members();
  node("a").shutdown();
  members_.at("a").alive = false;

  EXPECT_EQ(leader(), "") << "released without waiting for the ttl";
  ASSERT_GE(events_.size(), 2u);
  EXPECT_EQ(events_.back().event, "released");
  EXPECT_EQ(events_.back().member, "a");
  // The step-down is reported before the key is deleted: a successor may win it at once.
  EXPECT_EQ(events_[events_.size() - 2].event, "demoted");
  EXPECT_EQ(events_[events_.size() - 2].member, "a");
  EXPECT_EQ(events_[events_.size() - 2].role, Role::replica);
  EXPECT_EQ(read()->get_member("a", false)->state(), "stopped");

  cycle_all();  // no time passes: the next cycle of a replica takes over
  const auto acquired = events_named("acquired");
  ASSERT_EQ(acquired.size(), 2u);
  EXPECT_EQ(acquired[1].member, "b");
  EXPECT_EQ(leader(), "b");
}

TEST_F(HaNodeTest, SwitchoverMovesTheLeaderToTheCandidateAndClearsTheRequest) {
  three_members();
  ASSERT_TRUE(observer_->manual_failover("a", "c"));

  cycle_all();
  cycle_all();

  EXPECT_EQ(leader(), "c");
  EXPECT_EQ(node("c").role(), Role::primary);
  EXPECT_EQ(node("a").role(), Role::replica);
  EXPECT_EQ(node("b").role(), Role::replica);
  const auto cluster = read();
  ASSERT_TRUE(cluster->failover.has_value());
  EXPECT_TRUE(cluster->failover->is_empty()) << "the new leader cleared the request";
  ASSERT_GE(events_.size(), 3u);
  const auto released = events_named("released");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].member, "a");
  const auto demoted = events_named("demoted");
  ASSERT_EQ(demoted.size(), 1u);
  EXPECT_EQ(demoted[0].member, "a");
  EXPECT_LE(demoted[0].ts, released[0].ts);
  const auto at = [&](const char* event) {
    return std::find_if(events_.begin(), events_.end(), [&](const auto& e) { return e.event == event; });
  };
  EXPECT_LT(at("demoted"), at("released")) << "the step-down is reported before the key is released";
  const auto acquired = events_named("acquired");
  ASSERT_EQ(acquired.size(), 2u);
  EXPECT_EQ(acquired[1].member, "c");
  EXPECT_EQ(acquired[1].timeline, 2);

  run_for(20s);
  EXPECT_EQ(leader(), "c") << "the old leader does not race back";
  EXPECT_EQ(node("a").timeline(), 2);
}

TEST_F(HaNodeTest, AReplicaClonedRightAfterBootstrapCanTakeOverAtOnce) {
  add("a");
  add("b");
  node("a").run_cycle();  // bootstrap: no status yet
  node("b").run_cycle();  // clone
  node("a").run_cycle();  // the first status
  ASSERT_TRUE(observer_->manual_failover("a", "b"));
  node("a").run_cycle();
  EXPECT_EQ(leader(), "") << "b is not lagging: it cloned the leader's position";
  node("b").run_cycle();
  EXPECT_EQ(leader(), "b");
}

TEST_F(HaNodeTest, FailoverRequestWithoutLeaderNameAlsoMovesALiveLeader) {
  three_members();
  ASSERT_TRUE(observer_->manual_failover("", "b"));
  cycle_all();
  cycle_all();
  EXPECT_EQ(leader(), "b");
}

TEST_F(HaNodeTest, SwitchoverToAMissingCandidateIsCancelled) {
  three_members();
  ASSERT_TRUE(observer_->manual_failover("a", "zz"));
  cycle_all();
  EXPECT_EQ(leader(), "a");
  EXPECT_EQ(node("a").role(), Role::primary);
  const auto cluster = read();
  ASSERT_TRUE(cluster->failover.has_value());
  EXPECT_TRUE(cluster->failover->is_empty()) << "the leader removed the request it cannot honour";
  EXPECT_TRUE(events_named("released").empty());
}

TEST_F(HaNodeTest, SwitchoverNamingAnotherLeaderIsIgnoredAndCleared) {
  three_members();
  ASSERT_TRUE(observer_->manual_failover("b", "c"));
  cycle_all();
  EXPECT_EQ(leader(), "a");
  EXPECT_TRUE(read()->failover->is_empty());
}

TEST_F(HaNodeTest, ScheduledSwitchoverWaitsUntilItIsDue) {
  three_members();
  const std::string at = "2023-11-14T22:20:00+00:00";  // 1'700'000'400 unix seconds
  ASSERT_TRUE(observer_->manual_failover("a", "b", at));

  run_for(300s);  // wall time reaches 1'700'000'300: not yet
  EXPECT_EQ(leader(), "a");
  EXPECT_EQ(read()->failover->scheduled_at, at);

  run_for(110s);  // past the time, within 1.5 loop_wait
  run_for(10s);
  EXPECT_EQ(leader(), "b");
  EXPECT_TRUE(read()->failover->is_empty());
}

TEST_F(HaNodeTest, StaleScheduledSwitchoverIsDropped) {
  three_members();
  ASSERT_TRUE(observer_->manual_failover("a", "b", "2023-11-14T20:00:00+00:00"));  // long past
  cycle_all();
  EXPECT_EQ(leader(), "a");
  EXPECT_TRUE(read()->failover->is_empty());
}

TEST_F(HaNodeTest, SynchronousModeNamesOneStandbyAndOnlyItMayPromote) {
  bootstrap_config_["synchronous_mode"] = true;
  three_members();
  run_for(20s);

  const auto sync = read()->sync;
  ASSERT_EQ(sync.leader, "a");
  ASSERT_EQ(sync.members().size(), 1u);
  const std::string standby = sync.members().front();
  EXPECT_EQ(standby, "b") << "the first healthy replica by name";

  members_.at("a").alive = false;
  run_for(kTtl + 2 * kLoopWait);
  EXPECT_EQ(leader(), "b");
  EXPECT_EQ(read()->sync.leader, "b");
}

TEST_F(HaNodeTest, WithoutSynchronousModeAStaleSyncKeyIsRemoved) {
  three_members();
  ASSERT_TRUE(observer_->write_sync_state("a", {"c"}));
  run_for(10s);
  EXPECT_TRUE(read()->sync.is_empty());
}

TEST_F(HaNodeTest, APrimaryThatLosesTheDcsDemotesItself) {
  three_members();
  store_->set_available(false);
  EXPECT_EQ(node("a").run_cycle(), "demoted self because DCS is not accessible and I was a leader");
  EXPECT_EQ(node("a").role(), Role::replica);
  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_.back().event, "demoted");
  EXPECT_EQ(events_.back().role, Role::replica);
  EXPECT_EQ(node("b").run_cycle(), "DCS is not accessible");
}

TEST_F(HaNodeTest, APrimaryThatFindsAnotherLeaderDemotes) {
  three_members();
  // "a" freezes for longer than the ttl; the others elect "b" meanwhile.
  members_.at("a").alive = false;
  run_for(kTtl + 2 * kLoopWait);
  ASSERT_NE(leader(), "a");
  members_.at("a").alive = true;
  node("a").run_cycle();
  EXPECT_EQ(node("a").role(), Role::replica);
  EXPECT_EQ(events_.back().member, "a");
  EXPECT_EQ(events_.back().event, "demoted");
}

TEST_F(HaNodeTest, NofailoverMembersNeverTakeTheLead) {
  add("a");
  add("n", {{"nofailover", true}});
  cycle_all();
  cycle_all();
  members_.at("a").alive = false;
  run_for(kTtl + 3 * kLoopWait);
  EXPECT_EQ(leader(), "");
  EXPECT_EQ(node("n").role(), Role::replica);
}

TEST_F(HaNodeTest, AMemberThatStartsLateClonesFromTheLeader) {
  three_members();
  run_for(20s);
  HaNode& late = add("d");
  late.run_cycle();
  EXPECT_EQ(late.role(), Role::replica);
  EXPECT_EQ(late.lsn(), read()->last_lsn());
  EXPECT_TRUE(read()->has_member("d"));
}

TEST_F(HaNodeTest, EventLinesCarryTheDocumentedFields) {
  const RoleEvent event{1700000000.25, "a", "acquired", Role::primary, 3};
  EXPECT_EQ(to_json_line(event),
            R"({"ts":1700000000.25,"member":"a","event":"acquired","role":"primary","timeline":3})");
}

TEST_F(HaNodeTest, EventLinesAppendTracedDetailsAfterTheDocumentedFields) {
  const RoleEvent event{1700000000.25, "a", "renewed", Role::primary, 3, {{"since", 1700000000.0}, {"ttl", 30}}};
  EXPECT_EQ(to_json_line(event), R"({"ts":1700000000.25,"member":"a","event":"renewed","role":"primary","timeline":3,)"
                                 R"("since":1700000000.0,"ttl":30})");
}

TEST_F(HaNodeTest, WithoutTracingOnlyRoleChangesAreReported) {
  three_members();
  members_.at("a").alive = false;
  run_for(kTtl + 2 * kLoopWait);
  ASSERT_EQ(events_named("acquired").size(), 2u);
  for (const auto& e : events_) {
    EXPECT_TRUE(e.event == "acquired" || e.event == "demoted" || e.event == "released" || e.event == "renewed_failed")
        << e.event;
    EXPECT_TRUE(e.details.empty()) << to_json_line(e);
  }
}

// What scripts/torture.sh's checker relies on: every renewal and race with the time its call
// started, the leader key's revision, and each acknowledged write with its value.
TEST_F(HaNodeTest, TracingReportsRenewalsRacesAndAcknowledgedWrites) {
  trace_ = true;
  three_members();
  run_for(20s);

  const auto config = events_named("config_written");
  ASSERT_EQ(config.size(), 1u);
  EXPECT_EQ(config[0].member, "a");
  EXPECT_EQ(config[0].details["value"], bootstrap_config_);
  const auto bootstrap = events_named("acquired");
  ASSERT_EQ(bootstrap.size(), 1u);
  EXPECT_LE(bootstrap[0].details["since"].get<double>(), bootstrap[0].details["won_at"].get<double>());
  EXPECT_EQ(bootstrap[0].details["ttl"], kTtl.count());

  const std::int64_t first_revision = read()->leader->version;
  const auto renewed = events_named("renewed");
  ASSERT_GE(renewed.size(), 2u);
  double last_since = 0;
  for (const auto& e : renewed) {
    EXPECT_EQ(e.member, "a");
    EXPECT_EQ(e.details["ttl"], kTtl.count());
    EXPECT_EQ(e.details["revision"], first_revision);
    EXPECT_LE(e.details["since"].get<double>(), e.ts);
    EXPECT_GT(e.details["since"].get<double>(), last_since) << "one renewal per cycle";
    last_since = e.details["since"].get<double>();
  }

  members_.at("a").alive = false;
  run_for(kTtl + 2 * kLoopWait);
  const auto won = events_named("race_won");
  ASSERT_EQ(won.size(), 1u);
  const auto acquired = events_named("acquired");
  ASSERT_EQ(acquired.size(), 2u);
  EXPECT_EQ(acquired[1].member, won[0].member);
  EXPECT_EQ(acquired[1].details["since"], won[0].details["since"]);
  EXPECT_EQ(acquired[1].details["revision"], read()->leader->version) << "the new key's revision";
  EXPECT_LE(won[0].details["since"].get<double>(), won[0].details["won_at"].get<double>());

  // The last acknowledged write of each live member is what the store holds.
  for (const std::string name : {"b", "c"}) {
    const RoleEvent* last = nullptr;
    for (const auto& e : events_) {
      if (e.event == "member_written" && e.member == name) last = &e;
    }
    ASSERT_NE(last, nullptr) << name;
    const auto member = read()->get_member(name, false);
    ASSERT_TRUE(member) << name;
    EXPECT_EQ(last->details["data"], member->data) << name;
  }
}

}  // namespace
}  // namespace dcs_examples
