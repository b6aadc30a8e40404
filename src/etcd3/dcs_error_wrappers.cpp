#include "etcd3/dcs_error_wrappers.hpp"

namespace dcs::etcd3::detail {

std::string describe(const std::exception& error) {
  std::string text = error.what();
  if (const auto* client = dynamic_cast<const Etcd3ClientError*>(&error)) {
    text += " [etcd error, gRPC code " + std::to_string(static_cast<int>(client->code()));
    if (const auto name = grpc_code_name(client->code()); !name.empty()) text += " " + std::string(name);
    text += ", HTTP " + std::to_string(client->http_status()) + "]";
  } else if (const auto* connection = dynamic_cast<const EtcdConnectionFailed*>(&error)) {
    text += " [no answer from etcd";
    if (!connection->endpoint().empty()) text += ", last endpoint " + connection->endpoint();
    text += connection->request_sent() ? ", request was sent" : ", request was not sent";
    text += "]";
  } else if (dynamic_cast<const RetryFailedError*>(&error)) {
    text += " [retry budget spent]";
  } else if (const auto* malformed = dynamic_cast<const MalformedResponse*>(&error)) {
    text += " [malformed answer, HTTP " + std::to_string(malformed->http_status()) + "]";
  } else if (!dynamic_cast<const dcs::Error*>(&error)) {
    text += " [unexpected exception]";
  }
  return text;
}

void FailureLog::failed(std::string_view operation, const std::exception& error) noexcept {
  try {
    if (!has_failed_.exchange(true)) {
      log_(LogLevel::warning,
           std::string(operation) + " failed: " + describe(error) + " (repeated failures are logged briefly)");
    } else {
      log_(LogLevel::warning, std::string(operation) + ": " + error.what());
    }
  } catch (...) {
    // Logging must never turn a handled failure into a new one.
  }
}

}  // namespace dcs::etcd3::detail
