// Citus (MPP) groups: every group is a cluster under base_path/<group>/; the coordinator
// (group 0) reads all groups, a worker reads its own and can look at the coordinator.
#include "conformance/suite.hpp"

namespace dcs::conformance {
namespace {

using Citus = ConformanceTest;

TEST_F(Citus, TheCoordinatorSeesEveryWorkerGroup) {
  auto coordinator = member("c0", 0);
  auto worker1 = member("w1", 1);
  auto worker2 = member("w2", 2);
  for (auto* m : {coordinator.get(), worker1.get(), worker2.get()}) {
    ASSERT_TRUE(m->touch_member(member_data(m->name(), "primary")));
    ASSERT_TRUE(m->attempt_to_acquire_leader()) << m->name() << " leads its own group";
  }

  auto view = read_until(*coordinator, [](const Cluster& c) {
    return c.leader_name() == "c0" && c.workers.size() == 2 && c.workers.count(1) && c.workers.count(2) &&
           c.workers.at(1)->leader_name() == "w1" && c.workers.at(2)->leader_name() == "w2";
  });
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->has_member("c0"));
  EXPECT_FALSE(view->has_member("w1")) << "group 0's own members only";
  EXPECT_TRUE(view->workers.at(1)->has_member("w1"));
  EXPECT_EQ(view->workers.at(1)->leader->member->data, member_data("w1", "primary"));

  auto own = read_until(*worker1, [](const Cluster& c) { return c.leader_name() == "w1"; });
  ASSERT_TRUE(own);
  EXPECT_TRUE(own->workers.empty()) << "a worker reads its own group only";
  EXPECT_FALSE(own->has_member("c0"));
  EXPECT_FALSE(own->has_member("w2"));
}

TEST_F(Citus, AWorkerReadsTheCoordinator) {
  auto coordinator = member("c0", 0);
  auto worker = member("w1", 1);
  ASSERT_TRUE(coordinator->touch_member(member_data("c0", "primary")));
  ASSERT_TRUE(coordinator->attempt_to_acquire_leader());

  std::shared_ptr<const Cluster> seen;
  ASSERT_TRUE(eventually([&] {
    seen = worker->get_citus_coordinator();
    return seen && seen->leader_name() == "c0";
  }));
  EXPECT_TRUE(seen->has_member("c0"));
  EXPECT_EQ(seen->leader->member->api_url(), "http://c0.example:8008/patroni");

  backend().set_reachable(false);
  EXPECT_EQ(worker->get_citus_coordinator(), nullptr) << "errors are logged, not thrown";
}

TEST_F(Citus, GroupsKeepTheirOwnLeaderKeys) {
  auto coordinator = member("x", 0);
  auto worker = member("x", 1);  // the same member name in another group is another member
  ASSERT_TRUE(coordinator->attempt_to_acquire_leader());
  ASSERT_TRUE(worker->attempt_to_acquire_leader());
  EXPECT_NE(coordinator->leader_path(), worker->leader_path());
  EXPECT_EQ(worker->leader_path(), worker->base_path() + "/1/leader");
}

}  // namespace
}  // namespace dcs::conformance
