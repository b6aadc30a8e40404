// How the Etcd3 DCS turns etcd-client errors into what the HA loop sees (spec 3.0):
//
//   W1 catch_etcd_errors  (setters):  any etcd-client error or RetryFailedError -> logged, false.
//   W2 run_and_handle     (leader):   RetryFailedError / EtcdConnectionFailed -> Etcd3Error (the
//                                     DCS is unreachable); other etcd-client errors -> false.
//                                     An error the client moves to another endpoint for
//                                     (Unavailable, a malformed answer) that still reaches us
//                                     means every endpoint failed that way: Patroni HEAD reports
//                                     that as EtcdConnectionFailed, so it is an Etcd3Error too.
//   W3 load_wrapper       (reads):    anything but UnsupportedEtcdVersion -> Etcd3Error("Etcd is
//                                     not responding properly").
//
// Anything else that escapes (not a libdcs error) becomes Etcd3Error("unexpected error: ...").
// A DCSError raised on purpose inside an operation (e.g. "update_leader timeout") passes through
// unchanged; Patroni re-wraps some of those as "unexpected error", which only loses their text.
//
// Logging follows Patroni: the first failure in a row is logged with its detail (error class,
// gRPC code / HTTP status or endpoint), later ones as one line, until an operation succeeds.
#pragma once

#include <atomic>
#include <exception>
#include <string>
#include <string_view>

#include "dcs/errors.hpp"
#include "dcs/etcd3/errors.hpp"
#include "log.hpp"

namespace dcs::etcd3::detail {

/// The "has failed" state shared by every wrapper of one Etcd3 object.
class FailureLog {
 public:
  explicit FailureLog(dcs::detail::Logger log) : log_(std::move(log)) {}

  /// Logs a failure of `operation` (detailed when it is the first of a row).
  void failed(std::string_view operation, const std::exception& error) noexcept;
  /// Ends a row of failures.
  void succeeded() noexcept { has_failed_.store(false); }
  bool has_failed() const noexcept { return has_failed_.load(); }
  const dcs::detail::Logger& logger() const noexcept { return log_; }

 private:
  dcs::detail::Logger log_;
  std::atomic<bool> has_failed_{false};
};

/// A one-line description of an error with what a reader needs to act on it.
std::string describe(const std::exception& error);

/// W1: `body()` or, on an etcd-client error, `on_failure` (after logging).
template <typename T, typename Body>
T catch_etcd_errors(FailureLog& failures, std::string_view operation, T on_failure, Body&& body) {
  try {
    T result = body();
    failures.succeeded();
    return result;
  } catch (const RetryFailedError& e) {
    failures.failed(operation, e);
    return on_failure;
  } catch (const EtcdException& e) {
    failures.failed(operation, e);
    return on_failure;
  } catch (const DCSError&) {
    throw;
  } catch (const std::exception& e) {
    failures.failed(operation, e);
    throw Etcd3Error(std::string("unexpected error: ") + e.what());
  }
}

/// W2: `body()`; false on an etcd-client error that is an answer of etcd; Etcd3Error when etcd
/// could not be reached or did not answer within the budget.
template <typename Body>
bool run_and_handle(FailureLog& failures, std::string_view operation, Body&& body) {
  try {
    return body();
  } catch (const RetryFailedError& e) {
    failures.failed(operation, e);
    throw Etcd3Error(e.what());
  } catch (const EtcdException& e) {
    failures.failed(operation, e);
    if (e.retry_on_other_endpoint()) throw Etcd3Error(e.what());
    return false;
  } catch (const DCSError&) {
    throw;
  } catch (const std::exception& e) {
    failures.failed(operation, e);
    throw Etcd3Error(std::string("unexpected error: ") + e.what());
  }
}

/// W3: `body()`; UnsupportedEtcdVersion passes through, anything else becomes
/// Etcd3Error("Etcd is not responding properly") (the cause is logged).
template <typename Body>
auto load_wrapper(FailureLog& failures, Body&& body) -> decltype(body()) {
  try {
    auto result = body();
    failures.succeeded();
    return result;
  } catch (const UnsupportedEtcdVersion&) {
    throw;
  } catch (const std::exception& e) {
    failures.failed("get_cluster", e);
    throw Etcd3Error("Etcd is not responding properly");
  }
}

}  // namespace dcs::etcd3::detail
