// The members of a Cluster view: a list of shared Member objects whose storage is itself shared
// between views. Copying a Cluster (one view built from another after one key changed) then
// costs one reference count for the whole list instead of one per member, so a leader change in
// a cluster of thousands of members does not touch them; a change to the list copies the
// storage first when another view still shares it (copy on write).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

#include "dcs/export.hpp"

namespace dcs {

struct Member;

/// Members are shared between snapshots: a view built after one member key changed holds the
/// same Member objects as the view before for every other member (Patroni's Cluster also holds
/// references to Member objects).
using MemberPtr = std::shared_ptr<const Member>;

/// A read-only sequence of MemberPtr (in key order in a Cluster), with the changes a loader needs.
/// Thread safety is that of std::shared_ptr: any number of threads may read or copy one list at
/// once; a change needs exclusive access to the list object it is made on (lists that share
/// storage with it are never affected).
class DCS_EXPORT MemberList {
 public:
  using value_type = MemberPtr;
  using size_type = std::size_t;
  using const_iterator = std::vector<MemberPtr>::const_iterator;
  using iterator = const_iterator;  ///< members are replaced through the list, never in place

  MemberList() = default;
  MemberList(std::initializer_list<MemberPtr> members);
  MemberList(std::vector<MemberPtr> members);  // NOLINT(google-explicit-constructor): a vector is a list

  const_iterator begin() const noexcept { return items().begin(); }
  const_iterator end() const noexcept { return items().end(); }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }
  size_type size() const noexcept { return storage_ ? storage_->size() : 0; }
  bool empty() const noexcept { return size() == 0; }
  const MemberPtr& operator[](size_type index) const { return (*storage_)[index]; }
  const MemberPtr& at(size_type index) const { return items().at(index); }
  const MemberPtr& front() const { return storage_->front(); }
  const MemberPtr& back() const { return storage_->back(); }
  /// The members as a vector (valid until this list changes).
  const std::vector<MemberPtr>& items() const noexcept;

  void reserve(size_type count);
  void push_back(MemberPtr member);
  /// Inserts before `position` (an iterator of this list); returns the inserted member's position.
  const_iterator insert(const_iterator position, MemberPtr member);
  /// Replaces the member at `position`; returns its (possibly moved) position.
  const_iterator replace(const_iterator position, MemberPtr member);
  /// Removes the member at `position`; returns the position of the one after it.
  const_iterator erase(const_iterator position);
  void clear() noexcept { storage_.reset(); }

  /// Both lists read the same storage (one was copied from the other and neither changed since).
  bool shares_storage_with(const MemberList& other) const noexcept { return storage_ && storage_ == other.storage_; }

 private:
  /// The storage, made this list's own first if another list shares it.
  std::vector<MemberPtr>& writable();

  std::shared_ptr<std::vector<MemberPtr>> storage_;  // null: no members
};

}  // namespace dcs
