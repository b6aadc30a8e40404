// Internal: the callbacks the client calls on one kind of event (an endpoint switch, a
// re-authentication). A list, so that the watcher cache and an embedder can each listen without
// taking the other's place.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace dcs::etcd3::detail {

template <typename Arg>
class ListenerList {
 public:
  using Listener = std::function<void(Arg)>;

  /// Adds `listener` under `id` (unique across the client's lists), or replaces the one already
  /// under it; an empty `listener` removes it instead (without waiting, see remove()).
  void set(std::uint64_t id, Listener listener) {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->id != id) continue;
      if (listener) {
        it->listener = std::make_shared<const Listener>(std::move(listener));
      } else {
        entries_.erase(it);
      }
      return;
    }
    if (listener) entries_.push_back({id, std::make_shared<const Listener>(std::move(listener))});
  }

  /// Removes the listener under `id` and waits until no notification is running any more, so
  /// that what it refers to may be destroyed afterwards. Never from inside a listener. False
  /// when no listener had that id.
  bool remove(std::uint64_t id) {
    std::unique_lock lock(mutex_);
    bool found = false;
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->id == id) {
        entries_.erase(it);
        found = true;
        break;
      }
    }
    if (found) idle_.wait(lock, [&] { return running_ == 0; });
    return found;
  }

  /// Calls every listener in the order they were added, outside the lock. One that throws is
  /// reported to `on_error` and the others are still called.
  template <typename OnError>
  void notify(Arg arg, OnError&& on_error) {
    std::vector<std::shared_ptr<const Listener>> listeners;
    {
      std::lock_guard lock(mutex_);
      if (entries_.empty()) return;
      listeners.reserve(entries_.size());
      for (const auto& entry : entries_) listeners.push_back(entry.listener);
      ++running_;
    }
    for (const auto& listener : listeners) {
      try {
        (*listener)(arg);
      } catch (...) {
        on_error();
      }
    }
    {
      std::lock_guard lock(mutex_);
      --running_;
    }
    idle_.notify_all();
  }

 private:
  struct Entry {
    std::uint64_t id;
    std::shared_ptr<const Listener> listener;
  };
  std::mutex mutex_;
  std::condition_variable idle_;
  std::vector<Entry> entries_;
  int running_ = 0;  // notifications in progress
};

}  // namespace dcs::etcd3::detail
