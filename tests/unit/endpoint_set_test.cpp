// EndpointSet: the order in which a call tries the etcd members, and the list it shares between
// calls while every member is healthy.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "etcd3/endpoint_set.hpp"

namespace dcs::etcd3::detail {
namespace {

using Urls = std::vector<std::string>;

const std::string kA = "http://10.0.0.1:2379", kB = "http://10.0.0.2:2379", kC = "http://10.0.0.3:2379";

TEST(EndpointSet, PreferredFirstThenTheOthersInListOrder) {
  EndpointSet set({kA, kB, kC});
  EXPECT_EQ(*set.try_order(), (Urls{kA, kB, kC}));
  EXPECT_TRUE(set.prefer(kB));
  EXPECT_EQ(*set.try_order(), (Urls{kB, kA, kC}));
  EXPECT_TRUE(set.is_preferred(kB));
  EXPECT_FALSE(set.is_preferred(kA));
}

TEST(EndpointSet, HealthyCallsShareOneOrderUntilTheSetChanges) {
  EndpointSet set({kA, kB});
  const auto first = set.try_order();
  EXPECT_EQ(set.try_order(), first) << "no list is built per call while nothing changed";

  EXPECT_FALSE(set.prefer(kA)) << "already preferred";
  EXPECT_EQ(set.try_order(), first);

  EXPECT_TRUE(set.prefer(kB));
  const auto after_switch = set.try_order();
  EXPECT_EQ(*after_switch, (Urls{kB, kA}));
  EXPECT_EQ(*first, (Urls{kA, kB})) << "a caller's list never changes under it";

  EXPECT_FALSE(set.replace({kC, kB}));  // kB stays preferred
  EXPECT_EQ(*set.try_order(), (Urls{kB, kC}));

  set.merge_seeds();
  EXPECT_EQ(*set.try_order(), (Urls{kB, kC, kA}));

  set.set_seeds({kC});
  EXPECT_EQ(*set.try_order(), (Urls{kC})) << "the preferred member left the list: the first one is preferred";
}

TEST(EndpointSet, FailedMembersGoLastUntilTheyAnswerAgain) {
  EndpointSet set({kA, kB, kC});
  const auto healthy = set.try_order();
  set.mark_failed(kA);
  EXPECT_EQ(*set.try_order(), (Urls{kB, kC, kA}));
  set.mark_failed(kB);
  EXPECT_EQ(*set.try_order(), (Urls{kC, kA, kB})) << "suspects in the order they failed";
  EXPECT_TRUE(set.suspect(kA));

  set.mark_ok(kA);
  EXPECT_EQ(*set.try_order(), (Urls{kA, kC, kB}));
  set.mark_ok(kB);
  EXPECT_EQ(*set.try_order(), (Urls{kA, kB, kC}));
  EXPECT_FALSE(set.suspect(kB));
  EXPECT_EQ(*healthy, (Urls{kA, kB, kC}));
}

TEST(EndpointSet, NoEndpointsGivesAnEmptyOrder) {
  EndpointSet set({});
  ASSERT_NE(set.try_order(), nullptr);
  EXPECT_TRUE(set.try_order()->empty());
}

}  // namespace
}  // namespace dcs::etcd3::detail
