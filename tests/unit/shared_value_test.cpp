// SharedValue<T>: the Cluster's config, leader, history and failsafe. It reads like the
// std::optional those fields used to be, and its copies share one value object.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "dcs/cluster.hpp"
#include "dcs/shared_value.hpp"

namespace dcs {
namespace {

TEST(SharedValue, ReadsLikeAnOptional) {
  SharedValue<std::string> value;
  EXPECT_FALSE(value.has_value());
  EXPECT_FALSE(value);
  EXPECT_EQ(value, std::nullopt);
  EXPECT_THROW((void)value.value(), std::bad_optional_access);

  value = std::string("abc");
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, "abc");
  EXPECT_EQ(value->size(), 3u);
  EXPECT_EQ(value.value(), "abc");
  EXPECT_EQ(value, std::string("abc"));

  const std::optional<std::string> copy = value;
  EXPECT_EQ(copy, "abc");

  value = std::nullopt;
  EXPECT_FALSE(value);
  value = std::string("x");
  value.reset();
  EXPECT_FALSE(value.has_value());
}

TEST(SharedValue, CopiesShareTheValueAndCompareByValue) {
  const SharedValue<std::string> a = std::string("abc");
  const SharedValue<std::string> shared = a;
  const SharedValue<std::string> equal = std::string("abc");
  EXPECT_TRUE(shared.shares_storage_with(a));
  EXPECT_EQ(&*shared, &*a) << "one value object";
  EXPECT_FALSE(equal.shares_storage_with(a));
  EXPECT_EQ(equal, a) << "equality is by value";
  EXPECT_NE(SharedValue<std::string>(std::string("abd")), a);
  EXPECT_NE(SharedValue<std::string>(), a);
  EXPECT_EQ(SharedValue<std::string>(), SharedValue<std::string>());
  EXPECT_FALSE(SharedValue<std::string>().shares_storage_with(SharedValue<std::string>()))
      << "two empty values share nothing";
}

TEST(SharedValue, ACopiedClusterSharesItsRarelyChangingParts) {
  Cluster cluster;
  cluster.config = ClusterConfig{3, nlohmann::json{{"ttl", 30}}, 3};
  cluster.leader = Leader{5, 1001, Member{7, "a", 1001, nlohmann::json{{"role", "primary"}}}};
  cluster.failsafe = nlohmann::json{{"a", "http://a:8008/patroni"}};
  const Cluster copy = cluster;
  EXPECT_TRUE(copy.config.shares_storage_with(cluster.config));
  EXPECT_TRUE(copy.leader.shares_storage_with(cluster.leader));
  EXPECT_TRUE(copy.failsafe.shares_storage_with(cluster.failsafe));
  EXPECT_EQ(copy.leader_name(), "a");
  EXPECT_EQ(copy, cluster);
}

}  // namespace
}  // namespace dcs
