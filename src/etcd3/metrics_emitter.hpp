// Internal: how libdcs hands events to the user's MetricsObserver. The observer is optional, so
// every emit site first tests the pointer (inline, the whole cost when unset); the call itself
// is out of line and swallows whatever the observer throws, as the LogSink contract says.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "dcs/etcd3/metrics.hpp"

namespace dcs::etcd3::detail {

/// Calls observer.on_request, swallowing exceptions.
void deliver_request(MetricsObserver& observer, const RequestEvent& event) noexcept;
/// Calls observer.on_state_change, swallowing exceptions.
void deliver_state(MetricsObserver& observer, const StateEvent& event) noexcept;

/// Reports a state change when an observer is set.
inline void emit_state(const std::shared_ptr<MetricsObserver>& observer, StateChange change,
                       std::string_view detail = {}, std::int64_t value = 0) noexcept {
  if (observer) deliver_state(*observer, StateEvent{change, detail, value});
}

/// The operation a gateway path ("/kv/range", "/lease/keepalive", ...) belongs to.
Operation operation_for_path(std::string_view path) noexcept;

/// The outcome of a call that threw the current exception (called inside a catch block):
/// the outcome class and, for etcd's own errors, the gRPC code.
void classify_current_exception(RequestOutcome& outcome, GRPCCode& code) noexcept;

}  // namespace dcs::etcd3::detail
