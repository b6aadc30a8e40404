// Watch value types and the handle that lets another thread stop a running watch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dcs/etcd3/kv.hpp"
#include "dcs/export.hpp"

namespace dcs::etcd3 {

enum class WatchFilter { no_put = 0, no_delete = 1 };

struct WatchCreateRequest {
  std::string key;
  std::string range_end;
  std::int64_t start_revision = 0;  ///< 0: from the next revision
  bool progress_notify = false;     ///< ask for periodic progress messages while idle
  std::vector<WatchFilter> filters;
  bool prev_kv = false;
  std::int64_t watch_id = 0;  ///< 0: the server picks
  bool fragment = false;      ///< let the server split huge responses (joined again by the client)
};

struct Event {
  enum class Type { put, del };
  Type type = Type::put;
  KeyValue kv;  ///< for a delete: the key and the deletion revision (mod_revision)
  std::optional<KeyValue> prev_kv;
};

struct WatchResponse {
  ResponseHeader header;
  std::int64_t watch_id = 0;
  bool created = false;
  bool canceled = false;
  std::int64_t compact_revision = 0;
  std::string cancel_reason;
  bool fragment = false;
  std::vector<Event> events;

  /// A message that only says "everything up to header.revision has been sent".
  bool is_progress_notify() const noexcept { return events.empty() && !created && !canceled; }
};

/// Receives every message of a watch stream except the terminal cancel, in order, on the
/// watching thread. An exception thrown by it ends the watch and propagates to the caller.
using WatchCallback = std::function<void(const WatchResponse&)>;

/// Stops a running watch from another thread: Etcd3Client::watch returns within milliseconds of
/// cancel(), without waiting on any network timeout. One canceller serves one watch at a time;
/// cancel() before the watch starts makes it return at once.
class DCS_EXPORT WatchCanceller {
 public:
  WatchCanceller();
  ~WatchCanceller();
  WatchCanceller(const WatchCanceller&) = delete;
  WatchCanceller& operator=(const WatchCanceller&) = delete;

  void cancel() noexcept;
  bool cancelled() const noexcept;
  /// Re-arms the canceller for the next watch.
  void reset() noexcept;

  struct State;
  /// Internal: shared with the transfer that is running.
  const std::shared_ptr<State>& state() const noexcept { return state_; }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace dcs::etcd3
