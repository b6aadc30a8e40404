// The etcd v3 error model. Class names and parentage follow Patroni's etcd3 module so that a
// reader of Patroni's code or docs finds the same concepts here; every class is rooted in
// dcs::Error. The classes carry behaviour (gRPC code, HTTP status, whether another endpoint may
// be tried, whether a write's outcome is unknown), not only names.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "dcs/errors.hpp"
#include "dcs/export.hpp"

namespace dcs::etcd3 {

/// gRPC status codes, with the values gRPC and etcd use on the wire.
enum class GRPCCode : int {
  OK = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
};

/// The gRPC name of a code ("Unavailable"), or an empty view for a value outside 0..16.
DCS_EXPORT std::string_view grpc_code_name(GRPCCode code) noexcept;

/// The DCS layer failed to talk to etcd: what the HA loop sees as "DCS unreachable".
class DCS_EXPORT Etcd3Error : public DCSError {
 public:
  explicit Etcd3Error(const std::string& message);
};

/// The etcd server or cluster is older than the oldest version libdcs supports (3.0.4).
class DCS_EXPORT UnsupportedEtcdVersion : public Error {
 public:
  explicit UnsupportedEtcdVersion(const std::string& message);
};

/// A retry loop ran out of its time budget ("Exceeded retry deadline").
class DCS_EXPORT RetryFailedError : public Error {
 public:
  explicit RetryFailedError(const std::string& message);
};

/// Base of every error raised by the etcd client ("etcd-client errors" in the Patroni spec).
class DCS_EXPORT EtcdException : public Error {
 public:
  explicit EtcdException(const std::string& message);

  /// True when the same request may be sent to another etcd member: the failure belongs to the
  /// endpoint (network, protocol, Unavailable), not to the request.
  virtual bool retry_on_other_endpoint() const noexcept { return false; }
  /// True when a write may or may not have been applied: the caller must re-read before
  /// assuming either outcome (or guard the write with a compare).
  virtual bool outcome_unknown() const noexcept { return false; }
};

/// No etcd endpoint could be reached, or the connection failed before a complete answer.
class DCS_EXPORT EtcdConnectionFailed : public EtcdException {
 public:
  /// `request_sent` says whether any byte of the request reached the wire; a request that was
  /// never sent cannot have been applied.
  EtcdConnectionFailed(const std::string& message, std::string endpoint = {}, bool request_sent = false);

  const std::string& endpoint() const noexcept { return endpoint_; }
  bool request_sent() const noexcept { return request_sent_; }
  bool retry_on_other_endpoint() const noexcept override { return true; }
  bool outcome_unknown() const noexcept override { return request_sent_; }

 private:
  std::string endpoint_;
  bool request_sent_;
};

/// Base of the errors raised while speaking etcd v3.
class DCS_EXPORT Etcd3Exception : public EtcdException {
 public:
  explicit Etcd3Exception(const std::string& message);
};

/// The server cancelled a watch (compacted start revision, failed authorisation, ...). etcd
/// keeps the HTTP stream open after such a message; the client has closed it.
class DCS_EXPORT Etcd3WatchCanceled : public Etcd3Exception {
 public:
  Etcd3WatchCanceled(std::string cancel_reason, std::int64_t compact_revision);

  const std::string& cancel_reason() const noexcept { return cancel_reason_; }
  /// Non-zero when the start revision had been compacted: the oldest revision still available.
  std::int64_t compact_revision() const noexcept { return compact_revision_; }

 private:
  std::string cancel_reason_;
  std::int64_t compact_revision_;
};

/// A success response that is not valid etcd JSON (garbage, truncated body or stream). Raised
/// instead of guessing; the answer may have come from something that is not etcd.
class DCS_EXPORT MalformedResponse : public Etcd3Exception {
 public:
  MalformedResponse(const std::string& message, long http_status);

  long http_status() const noexcept { return http_status_; }
  bool retry_on_other_endpoint() const noexcept override { return true; }
  bool outcome_unknown() const noexcept override { return true; }

 private:
  long http_status_;
};

/// etcd answered with an error. `code()` is the gRPC code of the class (for message-matched
/// classes such as LeaseNotFound) or the code in the body; `http_status()` the HTTP status.
class DCS_EXPORT Etcd3ClientError : public Etcd3Exception {
 public:
  /// `parsed_code` is the code found in the error body, if any; it may differ from `code` when
  /// the class was chosen from the message (code 2 + "context deadline exceeded").
  Etcd3ClientError(GRPCCode code, std::string error, long http_status, std::optional<GRPCCode> parsed_code);

  GRPCCode code() const noexcept { return code_; }
  /// The error text from etcd, whitespace-trimmed.
  const std::string& error() const noexcept { return error_; }
  long http_status() const noexcept { return http_status_; }
  /// Name of the code found in the body ("Unavailable"), empty when the body had none.
  std::string_view code_text() const noexcept;

  bool retry_on_other_endpoint() const noexcept override { return code_ == GRPCCode::Unavailable; }
  bool outcome_unknown() const noexcept override;

 private:
  GRPCCode code_;
  std::string error_;
  long http_status_;
  std::optional<GRPCCode> parsed_code_;
};

// Declares a client error class whose code is fixed by the class.
#define DCS_ETCD3_CODE_ERROR(Name, Parent, Code)                                                    \
  class DCS_EXPORT Name : public Parent {                                                           \
   public:                                                                                          \
    Name(std::string error, long http_status, std::optional<GRPCCode> parsed_code = GRPCCode::Code) \
        : Parent(GRPCCode::Code, std::move(error), http_status, parsed_code) {}                     \
                                                                                                    \
   protected:                                                                                       \
    Name(GRPCCode code, std::string error, long http_status, std::optional<GRPCCode> parsed_code)   \
        : Parent(code, std::move(error), http_status, parsed_code) {}                               \
  }

DCS_ETCD3_CODE_ERROR(Unknown, Etcd3ClientError, Unknown);
DCS_ETCD3_CODE_ERROR(InvalidArgument, Etcd3ClientError, InvalidArgument);
DCS_ETCD3_CODE_ERROR(DeadlineExceeded, Etcd3ClientError, DeadlineExceeded);
DCS_ETCD3_CODE_ERROR(NotFound, Etcd3ClientError, NotFound);
DCS_ETCD3_CODE_ERROR(FailedPrecondition, Etcd3ClientError, FailedPrecondition);
DCS_ETCD3_CODE_ERROR(Unavailable, Etcd3ClientError, Unavailable);
DCS_ETCD3_CODE_ERROR(PermissionDenied, Etcd3ClientError, PermissionDenied);
/// etcd's "invalid auth token" (gRPC Unauthenticated).
DCS_ETCD3_CODE_ERROR(InvalidAuthToken, Etcd3ClientError, Unauthenticated);
/// "etcdserver: user name is empty": a request without a token while auth is on.
DCS_ETCD3_CODE_ERROR(UserEmpty, InvalidArgument, InvalidArgument);
/// "etcdserver: authentication failed, invalid user ID or password".
DCS_ETCD3_CODE_ERROR(AuthFailed, InvalidArgument, InvalidArgument);
/// "etcdserver: revision of auth store is old": the token predates an auth change.
DCS_ETCD3_CODE_ERROR(AuthOldRevision, InvalidArgument, InvalidArgument);
/// "etcdserver: requested lease not found".
DCS_ETCD3_CODE_ERROR(LeaseNotFound, NotFound, NotFound);
/// "etcdserver: authentication is not enabled".
DCS_ETCD3_CODE_ERROR(AuthNotEnabled, FailedPrecondition, FailedPrecondition);

#undef DCS_ETCD3_CODE_ERROR

/// "etcdserver: no leader" (Unavailable): the member has no raft leader, e.g. it is cut off from
/// its quorum or an election is running. Every request carries the gRPC metadata
/// `hasleader: true`, and etcd checks it in its interceptor before the request reaches raft, so
/// a write refused this way was not applied and may be sent to another member: unlike other
/// Unavailable answers ("request timed out"), its outcome is known. etcd also ends a watch with
/// it once the member has been without a leader for a few election timeouts, and may answer a
/// lease renewal or time-to-live with it after waiting for a leader in vain (both safe to repeat).
class DCS_EXPORT NoLeader : public Unavailable {
 public:
  NoLeader(std::string error, long http_status, std::optional<GRPCCode> parsed_code = GRPCCode::Unavailable)
      : Unavailable(std::move(error), http_status, parsed_code) {}

  bool outcome_unknown() const noexcept override { return false; }
};

/// Builds the most specific Etcd3ClientError for an etcd error answer: the message decides first
/// (Patroni's table), then the gRPC code, else a generic Etcd3ClientError carrying the code.
/// Understands every body shape etcd uses: `{"error","code"}` (3.3), `{"error","message","code"}`
/// (3.4/3.5), `{"code","message"}` (3.6) and the streaming `{"error":{"grpc_code"|"code",
/// "http_code","message"}}`. A body that is not JSON or has no usable code maps to Unknown with
/// the raw text as message. "not a primary lessor" (code 2) maps to Unavailable, "etcdserver: no
/// leader" to NoLeader.
DCS_EXPORT std::exception_ptr make_client_error(long http_status, std::string_view body);

/// Throws what make_client_error builds.
[[noreturn]] DCS_EXPORT void throw_client_error(long http_status, std::string_view body);

}  // namespace dcs::etcd3
