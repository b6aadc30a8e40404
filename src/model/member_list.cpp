#include "dcs/member_list.hpp"

#include <utility>

namespace dcs {

MemberList::MemberList(std::initializer_list<MemberPtr> members) : MemberList(std::vector<MemberPtr>(members)) {}

MemberList::MemberList(std::vector<MemberPtr> members) {
  if (!members.empty()) storage_ = std::make_shared<std::vector<MemberPtr>>(std::move(members));
}

const std::vector<MemberPtr>& MemberList::items() const noexcept {
  static const std::vector<MemberPtr> kNone;
  return storage_ ? *storage_ : kNone;
}

std::vector<MemberPtr>& MemberList::writable() {
  // use_count() is exact for the question asked here: only lists copied from this one share the
  // storage, and the caller has this list to itself, so nobody can add a sharer meanwhile; a
  // sharer let go of concurrently only makes this copy needlessly.
  if (!storage_) {
    storage_ = std::make_shared<std::vector<MemberPtr>>();
  } else if (storage_.use_count() != 1) {
    storage_ = std::make_shared<std::vector<MemberPtr>>(*storage_);
  }
  return *storage_;
}

void MemberList::reserve(size_type count) {
  writable().reserve(count);
}

void MemberList::push_back(MemberPtr member) {
  writable().push_back(std::move(member));
}

MemberList::const_iterator MemberList::insert(const_iterator position, MemberPtr member) {
  const auto index = position - begin();  // taken before the storage may be copied
  auto& items = writable();
  return items.insert(items.begin() + index, std::move(member));
}

MemberList::const_iterator MemberList::replace(const_iterator position, MemberPtr member) {
  const auto index = position - begin();
  auto& items = writable();
  items[static_cast<size_type>(index)] = std::move(member);
  return items.begin() + index;
}

MemberList::const_iterator MemberList::erase(const_iterator position) {
  const auto index = position - begin();
  auto& items = writable();
  return items.erase(items.begin() + index);
}

}  // namespace dcs
