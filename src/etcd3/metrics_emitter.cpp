#include "etcd3/metrics_emitter.hpp"

#include <exception>

namespace dcs::etcd3 {

std::string_view to_string(Operation operation) noexcept {
  switch (operation) {
    case Operation::range:
      return "range";
    case Operation::put:
      return "put";
    case Operation::delete_range:
      return "delete_range";
    case Operation::txn:
      return "txn";
    case Operation::compact:
      return "compact";
    case Operation::lease_grant:
      return "lease_grant";
    case Operation::lease_keepalive:
      return "lease_keepalive";
    case Operation::lease_revoke:
      return "lease_revoke";
    case Operation::lease_time_to_live:
      return "lease_time_to_live";
    case Operation::authenticate:
      return "authenticate";
    case Operation::member_list:
      return "member_list";
    case Operation::status:
      return "status";
    case Operation::watch_open:
      return "watch_open";
    case Operation::other:
      return "other";
  }
  return "other";
}

std::string_view to_string(RequestOutcome outcome) noexcept {
  switch (outcome) {
    case RequestOutcome::ok:
      return "ok";
    case RequestOutcome::grpc_error:
      return "grpc_error";
    case RequestOutcome::transport_error:
      return "transport_error";
    case RequestOutcome::other_error:
      return "other_error";
  }
  return "other_error";
}

std::string_view to_string(StateChange change) noexcept {
  switch (change) {
    case StateChange::endpoint_switched:
      return "endpoint_switched";
    case StateChange::cache_ready:
      return "cache_ready";
    case StateChange::cache_not_ready:
      return "cache_not_ready";
    case StateChange::cache_rebuilt:
      return "cache_rebuilt";
    case StateChange::lease_granted:
      return "lease_granted";
    case StateChange::lease_lost:
      return "lease_lost";
    case StateChange::reauthenticated:
      return "reauthenticated";
  }
  return "unknown";
}

namespace detail {

void deliver_request(MetricsObserver& observer, const RequestEvent& event) noexcept {
  try {
    observer.on_request(event);
  } catch (...) {
    // A failing observer must never break a DCS operation.
  }
}

void deliver_state(MetricsObserver& observer, const StateEvent& event) noexcept {
  try {
    observer.on_state_change(event);
  } catch (...) {
  }
}

Operation operation_for_path(std::string_view path) noexcept {
  struct Entry {
    std::string_view path;
    Operation operation;
  };
  // Both spellings of the lease calls: etcd 3.3 and older only serve the /kv/lease/ aliases.
  static constexpr Entry kPaths[] = {
      {"/kv/range", Operation::range},
      {"/kv/put", Operation::put},
      {"/kv/deleterange", Operation::delete_range},
      {"/kv/txn", Operation::txn},
      {"/kv/compaction", Operation::compact},
      {"/lease/grant", Operation::lease_grant},
      {"/lease/keepalive", Operation::lease_keepalive},
      {"/lease/revoke", Operation::lease_revoke},
      {"/kv/lease/revoke", Operation::lease_revoke},
      {"/lease/timetolive", Operation::lease_time_to_live},
      {"/kv/lease/timetolive", Operation::lease_time_to_live},
      {"/auth/authenticate", Operation::authenticate},
      {"/cluster/member/list", Operation::member_list},
      {"/maintenance/status", Operation::status},
      {"/watch", Operation::watch_open},
  };
  for (const auto& entry : kPaths) {
    if (entry.path == path) return entry.operation;
  }
  return Operation::other;
}

void classify_current_exception(RequestOutcome& outcome, GRPCCode& code) noexcept {
  code = GRPCCode::OK;
  try {
    throw;
  } catch (const Etcd3ClientError& e) {
    outcome = RequestOutcome::grpc_error;
    code = e.code();
  } catch (const EtcdConnectionFailed&) {
    outcome = RequestOutcome::transport_error;
  } catch (...) {
    outcome = RequestOutcome::other_error;
  }
}

}  // namespace detail
}  // namespace dcs::etcd3
