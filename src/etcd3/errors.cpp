#include "dcs/etcd3/errors.hpp"

#include <array>

namespace dcs::etcd3 {

namespace {

constexpr std::array<std::string_view, 17> kCodeNames = {
    "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated",
};

// Patroni's textual form, so log lines read the same: <Unavailable error: '...', code: 14>.
std::string describe(GRPCCode code, const std::string& error, std::optional<GRPCCode> parsed) {
  std::string_view name = parsed ? grpc_code_name(*parsed) : grpc_code_name(code);
  if (name.empty()) name = "Etcd3ClientError";
  // Built with append(): GCC 12 reports a false -Wrestrict on chained operator+ at -O3.
  std::string text;
  text.reserve(error.size() + name.size() + 32);
  text.append("<").append(name).append(" error: '").append(error).append("', code: ");
  text.append(std::to_string(static_cast<int>(code))).append(">");
  return text;
}

}  // namespace

std::string_view grpc_code_name(GRPCCode code) noexcept {
  const auto index = static_cast<int>(code);
  if (index < 0 || index >= static_cast<int>(kCodeNames.size())) return {};
  return kCodeNames[static_cast<std::size_t>(index)];
}

Etcd3Error::Etcd3Error(const std::string& message) : DCSError(message) {}
UnsupportedEtcdVersion::UnsupportedEtcdVersion(const std::string& message) : Error(message) {}
RetryFailedError::RetryFailedError(const std::string& message) : Error(message) {}
EtcdException::EtcdException(const std::string& message) : Error(message) {}

EtcdConnectionFailed::EtcdConnectionFailed(const std::string& message, std::string endpoint, bool request_sent)
    : EtcdException(message), endpoint_(std::move(endpoint)), request_sent_(request_sent) {}

Etcd3Exception::Etcd3Exception(const std::string& message) : EtcdException(message) {}

Etcd3WatchCanceled::Etcd3WatchCanceled(std::string cancel_reason, std::int64_t compact_revision)
    : Etcd3Exception(compact_revision != 0
                         ? "Watch canceled: revision compacted, oldest available " + std::to_string(compact_revision)
                     : cancel_reason.empty() ? std::string("Watch canceled")
                                             : "Watch canceled: " + cancel_reason),
      cancel_reason_(std::move(cancel_reason)),
      compact_revision_(compact_revision) {}

MalformedResponse::MalformedResponse(const std::string& message, long http_status)
    : Etcd3Exception(message), http_status_(http_status) {}

Etcd3ClientError::Etcd3ClientError(GRPCCode code, std::string error, long http_status,
                                   std::optional<GRPCCode> parsed_code)
    : Etcd3Exception(describe(code, error, parsed_code)),
      code_(code),
      error_(std::move(error)),
      http_status_(http_status),
      parsed_code_(parsed_code) {}

std::string_view Etcd3ClientError::code_text() const noexcept {
  return parsed_code_ ? grpc_code_name(*parsed_code_) : std::string_view{};
}

bool Etcd3ClientError::outcome_unknown() const noexcept {
  // Unknown (e.g. a server-side "context deadline exceeded"), DeadlineExceeded and Unavailable
  // ("request timed out" without quorum) may all be answers to a write that was applied anyway.
  // NoLeader overrides this: etcd refuses such a request before it reaches raft.
  return code_ == GRPCCode::Unknown || code_ == GRPCCode::DeadlineExceeded || code_ == GRPCCode::Unavailable;
}

}  // namespace dcs::etcd3
