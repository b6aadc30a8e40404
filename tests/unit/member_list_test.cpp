// MemberList: the members of a view, shared between views until one of them changes.
#include <gtest/gtest.h>

#include "dcs/cluster.hpp"

namespace dcs {
namespace {

MemberPtr member(const std::string& name) {
  return std::make_shared<const Member>(Member{1, name, 0, nlohmann::json::object()});
}

std::vector<std::string> names(const MemberList& list) {
  std::vector<std::string> out;
  for (const auto& m : list) out.push_back(m->name);
  return out;
}

TEST(MemberList, AnEmptyListReadsAsEmpty) {
  const MemberList list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.begin(), list.end());
  EXPECT_TRUE(list.items().empty());
  EXPECT_THROW((void)list.at(0), std::out_of_range);
  EXPECT_FALSE(list.shares_storage_with(MemberList{})) << "two empty lists share nothing";
}

TEST(MemberList, ACopySharesTheStorageUntilOneOfThemChanges) {
  MemberList original{member("a"), member("c")};
  MemberList copy = original;
  EXPECT_TRUE(copy.shares_storage_with(original));
  EXPECT_EQ(copy[0], original[0]);

  copy.insert(copy.begin() + 1, member("b"));
  EXPECT_FALSE(copy.shares_storage_with(original));
  EXPECT_EQ(names(copy), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(names(original), (std::vector<std::string>{"a", "c"})) << "the original never sees the change";
  EXPECT_EQ(copy[0], original[0]) << "the members themselves stay shared";
}

TEST(MemberList, ChangesOnAListOfItsOwnDoNotCopy) {
  MemberList list{member("a")};
  const auto* storage = &list.items();
  list.push_back(member("b"));
  list.replace(list.begin(), member("a2"));
  EXPECT_EQ(&list.items(), storage) << "nobody shares it: changed in place";
  EXPECT_EQ(names(list), (std::vector<std::string>{"a2", "b"}));
}

TEST(MemberList, InsertReplaceAndEraseReturnPositionsInTheChangedList) {
  MemberList list{member("a"), member("c"), member("d")};
  const MemberList held = list;  // forces a copy on the first change

  auto at = list.insert(list.begin() + 1, member("b"));
  EXPECT_EQ((*at)->name, "b");
  EXPECT_EQ(at - list.begin(), 1);

  at = list.replace(list.begin() + 2, member("c2"));
  EXPECT_EQ((*at)->name, "c2");

  at = list.erase(list.begin());
  EXPECT_EQ((*at)->name, "b") << "the one after the erased member";
  EXPECT_EQ(names(list), (std::vector<std::string>{"b", "c2", "d"}));
  EXPECT_EQ(list.front()->name, "b");
  EXPECT_EQ(list.back()->name, "d");
  EXPECT_EQ(names(held), (std::vector<std::string>{"a", "c", "d"}));

  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(held.size(), 3u);
}

TEST(MemberList, ACopiedClusterSharesItsMembers) {
  Cluster first;
  first.members = std::vector<MemberPtr>{member("a"), member("b")};
  const Cluster second = first;
  EXPECT_TRUE(second.members.shares_storage_with(first.members));
  EXPECT_EQ(second, first);
}

}  // namespace
}  // namespace dcs
