// Metrics hooks of the etcd v3 backend: an observer the embedding daemon sets in Etcd3Options
// to count requests, time them and follow state changes, without libdcs depending on any metrics
// library. examples/prometheus_metrics shows an adapter that renders Prometheus text format.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "dcs/etcd3/errors.hpp"
#include "dcs/export.hpp"

namespace dcs::etcd3 {

/// The etcd operation a request event is about.
enum class Operation {
  range,
  put,
  delete_range,
  txn,
  compact,
  lease_grant,
  lease_keepalive,
  lease_revoke,
  lease_time_to_live,
  authenticate,  ///< explicit Etcd3Client::authenticate and the automatic re-authentication
  member_list,
  status,
  watch_open,  ///< a watch stream until etcd confirmed it (or it failed before that)
  other,       ///< any other gateway path
};

/// "range", "put", "delete_range", "txn", ..., "watch_open", "other".
DCS_EXPORT std::string_view to_string(Operation operation) noexcept;

/// How a request ended.
enum class RequestOutcome {
  ok,               ///< etcd answered with success
  grpc_error,       ///< etcd answered with an error; RequestEvent::code says which
  transport_error,  ///< no answer: connection refused, reset, timed out, or a stale member
  other_error,      ///< an answer that is not etcd JSON, a budget spent waiting, ...
};

/// "ok", "grpc_error", "transport_error", "other_error".
DCS_EXPORT std::string_view to_string(RequestOutcome outcome) noexcept;

/// One client call, reported once when it returns or throws: all the attempts it made across
/// endpoints (failover, back-off rounds, one re-authentication) count as one call.
struct RequestEvent {
  Operation operation = Operation::other;
  /// The endpoint whose answer (or failure) ended the call. Valid only during the callback.
  std::string_view endpoint;
  /// Wall time of the whole call, back-off pauses included.
  std::chrono::microseconds duration{0};
  RequestOutcome outcome = RequestOutcome::ok;
  /// The gRPC code of etcd's error answer; OK unless outcome is grpc_error.
  GRPCCode code = GRPCCode::OK;
  /// HTTP attempts made (1 when the first endpoint answered).
  int attempts = 0;
  /// The client's preferred endpoint changed during the call (it failed over).
  bool endpoint_switched = false;
};

/// A change of the backend's state.
enum class StateChange {
  endpoint_switched,  ///< the client moved to another etcd member; detail: the new endpoint
  cache_ready,        ///< the watcher cache turned ready; detail: its endpoint, value: revision
  cache_not_ready,    ///< the watcher cache stopped serving; detail: why
  cache_rebuilt,      ///< the watcher cache listed the prefix; detail: endpoint, value: revision
  lease_granted,      ///< a new process lease; value: its id
  lease_lost,         ///< etcd no longer knows the process lease; value: the lost id
  reauthenticated,    ///< the client obtained a fresh auth token; detail: the endpoint
};

/// "endpoint_switched", "cache_ready", "cache_not_ready", "cache_rebuilt", "lease_granted",
/// "lease_lost", "reauthenticated".
DCS_EXPORT std::string_view to_string(StateChange change) noexcept;

/// One state change.
struct StateEvent {
  StateChange change = StateChange::endpoint_switched;
  /// An endpoint or a reason, as StateChange documents. Valid only during the callback.
  std::string_view detail;
  /// A lease id or a revision, as StateChange documents; 0 otherwise.
  std::int64_t value = 0;
};

/// Receives the backend's request and state events. Set it in Etcd3Options::metrics; unset (the
/// default) costs one pointer test per call.
///
/// Like LogSink, the observer may be called from any libdcs thread (the HA loop, the watcher
/// cache's thread, a keepalive), concurrently, so it must be thread-safe. It is called
/// synchronously on the request path, so it should be quick (update counters, no I/O). It must
/// not throw; an exception thrown by it is swallowed.
class MetricsObserver {
 public:
  virtual ~MetricsObserver() = default;
  /// One finished client call.
  virtual void on_request(const RequestEvent& event) = 0;
  /// One state change.
  virtual void on_state_change(const StateEvent& event) = 0;
};

}  // namespace dcs::etcd3
