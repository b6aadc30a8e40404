// The single place where etcd error answers become exception classes.
#include <algorithm>
#include <cctype>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "dcs/etcd3/errors.hpp"

namespace dcs::etcd3 {

namespace {

using nlohmann::json;

std::string trim(std::string_view text) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  const auto begin = std::find_if(text.begin(), text.end(), not_space);
  const auto end = std::find_if(text.rbegin(), std::make_reverse_iterator(begin), not_space).base();
  return std::string(begin, end);
}

struct ParsedError {
  std::optional<int> code;
  std::string message;
  long http_status;
};

std::optional<int> read_code(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int>();
  if (it->is_string()) {
    try {
      std::size_t used = 0;
      const int code = std::stoi(it->get<std::string>(), &used);
      if (used == it->get_ref<const std::string&>().size()) return code;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

std::string read_text(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// Pulls code, message and HTTP status out of every body shape etcd's gateways produce.
ParsedError parse_error_body(long http_status, std::string_view body) {
  ParsedError out{std::nullopt, std::string(body), http_status};
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return out;

  auto error = parsed.find("error");
  if (error == parsed.end()) error = parsed.find("Error");
  if (error != parsed.end() && error->is_object()) {
    // Streaming form: {"error":{"grpc_code":14,"http_code":503,"message":...}} (<= 3.5) or
    // {"error":{"code":14,"message":...}} (3.6).
    const auto code = read_code(*error, "code");
    out.code = code && *code != 0 ? code : read_code(*error, "grpc_code");
    if (!out.code) out.code = code;
    out.message = read_text(*error, "message");
    if (const auto status = read_code(*error, "http_code")) out.http_status = *status;
    return out;
  }
  // Unary form: {"error","code"} (3.3), {"error","message","code"} (3.4/3.5), {"code","message"} (3.6).
  out.code = read_code(parsed, "code");
  if (!out.code) out.code = read_code(parsed, "Code");
  std::string text = read_text(parsed, "error");
  if (text.empty()) text = read_text(parsed, "message");
  out.message = text.empty() ? parsed.dump() : text;
  return out;
}

using Factory = std::function<std::exception_ptr(std::string, long, std::optional<GRPCCode>)>;

template <typename E>
Factory make() {
  return [](std::string error, long status, std::optional<GRPCCode> parsed) {
    return std::make_exception_ptr(E(std::move(error), status, parsed));
  };
}

// Patroni's table A: exact messages that select a class regardless of the code.
const std::vector<std::pair<std::string_view, Factory>>& message_table() {
  static const std::vector<std::pair<std::string_view, Factory>> table = {
      {"context deadline exceeded", make<DeadlineExceeded>()},
      {"etcdserver: requested lease not found", make<LeaseNotFound>()},
      {"etcdserver: user name is empty", make<UserEmpty>()},
      {"etcdserver: authentication failed, invalid user ID or password", make<AuthFailed>()},
      {"etcdserver: revision of auth store is old", make<AuthOldRevision>()},
      {"etcdserver: permission denied", make<PermissionDenied>()},
      {"etcdserver: authentication is not enabled", make<AuthNotEnabled>()},
      {"etcdserver: invalid auth token", make<InvalidAuthToken>()},
      // Not Patroni's: refused before raft saw it (hasleader), so its outcome is known.
      {"etcdserver: no leader", make<NoLeader>()},
  };
  return table;
}

// Patroni's table B: gRPC codes with a class of their own.
Factory class_for_code(GRPCCode code) {
  switch (code) {
    case GRPCCode::Unknown:
      return make<Unknown>();
    case GRPCCode::InvalidArgument:
      return make<InvalidArgument>();
    case GRPCCode::DeadlineExceeded:
      return make<DeadlineExceeded>();
    case GRPCCode::NotFound:
      return make<NotFound>();
    case GRPCCode::PermissionDenied:
      return make<PermissionDenied>();
    case GRPCCode::FailedPrecondition:
      return make<FailedPrecondition>();
    case GRPCCode::Unavailable:
      return make<Unavailable>();
    case GRPCCode::Unauthenticated:
      return make<InvalidAuthToken>();
    default:
      return nullptr;
  }
}

}  // namespace

std::exception_ptr make_client_error(long http_status, std::string_view body) {
  ParsedError parsed = parse_error_body(http_status, body);
  const std::string message = trim(parsed.message);
  if (!parsed.code) {
    // Not JSON, truncated, or no code at all: nothing tells us more than "unknown".
    return std::make_exception_ptr(Unknown(message, parsed.http_status, std::nullopt));
  }
  auto code = static_cast<GRPCCode>(*parsed.code);
  // etcd reports a lease request that reached a follower mid-election as code 2; it is an
  // availability problem of that member, so another member should be asked.
  if (code == GRPCCode::Unknown && message == "not a primary lessor") {
    return std::make_exception_ptr(Unavailable(message, parsed.http_status, code));
  }
  for (const auto& [text, factory] : message_table()) {
    if (parsed.message == text) return factory(message, parsed.http_status, code);
  }
  if (auto factory = class_for_code(code)) return factory(message, parsed.http_status, code);
  return std::make_exception_ptr(Etcd3ClientError(code, message, parsed.http_status, code));
}

void throw_client_error(long http_status, std::string_view body) {
  std::rethrow_exception(make_client_error(http_status, body));
}

}  // namespace dcs::etcd3
