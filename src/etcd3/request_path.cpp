// The one path every unary request takes: endpoint choice and failover, the call's time budget,
// re-authentication, the stale-member guard and error mapping.
#include <algorithm>
#include <optional>
#include <random>
#include <thread>
#include <unordered_set>
#include <utility>

#include "codec/cluster_codec.hpp"
#include "etcd3/client_impl.hpp"
#include "etcd3/endpoint_discovery.hpp"
#include "etcd3/version_check.hpp"
#include "http/spare_buffer.hpp"

namespace dcs::etcd3 {

using codec::json;
using std::chrono::milliseconds;

namespace {

std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 200;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

http::KeepaliveSettings keepalive_for(const Etcd3Options& o) {
  // Patroni's tuning: probe after loop_wait + retry_timeout of silence, give up within ttl.
  http::KeepaliveSettings k;
  const long ttl = static_cast<long>(o.ttl.count());
  k.idle_seconds = static_cast<long>(o.loop_wait.count() + o.retry_timeout.count());
  k.interval_seconds = std::max(1L, (ttl - k.idle_seconds) / 3);
  k.probes = 3;
  k.user_timeout_ms = static_cast<unsigned>(ttl * 1000);
  return k;
}

bool is_token_error(const Etcd3ClientError& e) {
  return dynamic_cast<const InvalidAuthToken*>(&e) || dynamic_cast<const AuthOldRevision*>(&e) ||
         dynamic_cast<const UserEmpty*>(&e) || dynamic_cast<const PermissionDenied*>(&e);
}

// etcd could not finish the request in time (e.g. a leader election was running): worth asking
// again after a pause, within the call's budget.
bool is_retried_later(const Etcd3ClientError& e) {
  return e.code() == GRPCCode::DeadlineExceeded;
}

// Refusals that belong to the member, not the request: a learner, or a member too old for the
// call (3.6 reports both as FailedPrecondition, earlier versions as Unavailable).
bool is_member_refusal(const Etcd3ClientError& e) {
  return e.code() == GRPCCode::FailedPrecondition &&
         (e.error() == "etcdserver: rpc not supported for learner" || e.error() == "etcdserver: not capable");
}

// The HTTP timeout of one attempt: the endpoint's share of `budget` (Patroni's table). A call's
// first round shares the whole retry_timeout, later rounds what is left; the attempt itself is
// still cut at the deadline.
constexpr milliseconds kShortestAttempt{50};

milliseconds slice_of(milliseconds budget, std::size_t nodes) {
  budget = std::max(budget, milliseconds(1));
  const auto slice = request_timeouts(nodes, budget).per_node;
  return slice.count() > 0 ? slice : budget;
}

milliseconds slice_of(const detail::RetryPolicy& policy, std::size_t nodes) {
  return slice_of(policy.remaining(), nodes);
}

// Where a request URL points: host and port, and whether the host is a literal address (no DNS
// entry to pin). A session sends to the same one or two endpoints over and over, so the last
// answer is kept per thread, keyed by the URL's scheme and authority (all that it depends on).
struct UrlTarget {
  std::string origin;
  std::optional<std::pair<std::string, int>> host_port;
  bool numeric = false;
};

const UrlTarget& target_of(const std::string& url) {
  thread_local UrlTarget last;
  const auto scheme_end = url.find("://");
  const auto origin_end =
      scheme_end == std::string::npos ? std::string::npos : url.find_first_of("/?#", scheme_end + 3);
  const std::string_view origin = std::string_view(url).substr(0, origin_end);
  if (!last.origin.empty() && origin == last.origin) return last;
  // Worked out before anything is stored: a throw leaves the previous entry whole.
  auto host_port = net::split_url_host_port(url);
  const bool numeric = host_port && net::is_numeric_host(host_port->first);
  std::string key(origin);
  last.host_port = std::move(host_port);
  last.numeric = numeric;
  last.origin = std::move(key);
  return last;
}

// endpoint + API prefix + path in one allocation (every request builds one).
std::string join_url(std::string_view endpoint, std::string_view prefix, std::string_view path) {
  std::string url;
  url.reserve(endpoint.size() + prefix.size() + path.size());
  url.append(endpoint).append(prefix).append(path);
  return url;
}

}  // namespace

Etcd3Client::Impl::Impl(Etcd3Options opts)
    : options(std::move(opts)),
      log(options.log_sink, "etcd3.client"),
      endpoints({}),
      keepalive(keepalive_for(options)),
      resolver([this] {
        net::DnsCachingResolver::Options o;
        o.log_sink = options.log_sink;
        return o;
      }()),
      budget_ms(std::chrono::duration_cast<milliseconds>(options.retry_timeout).count()) {
  validate(options);
  for (auto& endpoint : options.endpoints) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  }
  if (options.username.empty() != options.password.empty()) {
    log(LogLevel::warning, "both username and password are needed to authenticate; only one is set");
  }
  if (options.use_proxies) discovered = true;  // proxies are used as configured, never replaced
  // Configured URLs are usable at once; SRV records and host names are looked up on first use
  // (the constructor does no I/O).
  if (options.srv.empty() && !options.expand_host) {
    endpoints.set_seeds(options.endpoints);
    seeded = true;
  }
}

void Etcd3Client::Impl::ensure_seeds() {
  {
    std::lock_guard lock(mutex);
    if (seeded) return;
  }
  discovery::Hooks hooks;
  hooks.host_lookup = [this](const std::string& host, int port) { return resolver.resolve(host, port); };
  hooks.log_sink = options.log_sink;
  auto seeds = discovery::seed_endpoints(options, hooks);
  if (seeds.endpoints.empty()) {
    throw EtcdConnectionFailed("no etcd endpoint could be found from the configuration (srv '" + options.srv +
                               "', endpoints " + std::to_string(options.endpoints.size()) + ")");
  }
  endpoints.set_seeds(std::move(seeds.endpoints));
  std::lock_guard lock(mutex);
  seeded = true;
}

std::string Etcd3Client::Impl::current_token(std::uint64_t* generation) const {
  std::lock_guard lock(mutex);
  if (generation) *generation = token_generation;
  return token;
}

http::HttpRequest Etcd3Client::Impl::make_request(std::string url, std::string_view body, bool send_token,
                                                  milliseconds timeout) const {
  http::HttpRequest request;
  request.url = std::move(url);
  request.body = body;
  if (send_token) request.authorization = current_token();
  request.total_timeout = timeout;
  // A member cut off from its quorum then answers "no leader" within milliseconds, before any
  // proposal, instead of holding a linearizable read or a write until its deadline.
  request.require_leader = true;
  request.connect_timeout = std::min(timeout, std::max(milliseconds(1000), timeout / 2));
  request.tls = {options.cacert, options.cert, options.key};
  request.keepalive = keepalive;
  // A literal address has no DNS entry to pin (curl_resolve_entry would say so, at some cost).
  if (const auto& target = target_of(request.url); target.host_port && !target.numeric) {
    request.resolve = resolver.curl_resolve_entry(target.host_port->first, target.host_port->second);
  }
  return request;
}

http::HttpResponse Etcd3Client::Impl::send(const http::HttpRequest& request) {
  auto handle = pool.borrow();
  try {
    return handle->perform(request);
  } catch (const http::TransportError& e) {
    handle.discard();  // never reuse a connection in an unknown state
    throw EtcdConnectionFailed(std::string(request.post ? "POST " : "GET ") + request.url + " failed: " + e.what(),
                               request.url, e.request_sent());
  }
}

http::HttpResponse Etcd3Client::Impl::send_raced(const http::HttpRequest& primary, std::size_t fallbacks,
                                                 const http::CurlEasy::FallbackFactory& make_fallback,
                                                 milliseconds hedge_after, int& winner) {
  auto handle = pool.borrow();
  try {
    // After the first copy, fresh ones follow every few hundred milliseconds: a member that lost
    // its leader holds a forwarded request until its own timeout, but answers a new one as soon
    // as the election is over.
    const auto resend_every = std::clamp(2 * hedge_after, milliseconds(250), milliseconds(1000));
    return handle->perform_hedged(primary, fallbacks, make_fallback, hedge_after, resend_every, winner);
  } catch (const http::TransportError& e) {
    handle.discard();
    throw EtcdConnectionFailed("POST " + primary.url + " failed: " + e.what(), primary.url, e.request_sent());
  }
}

milliseconds Etcd3Client::Impl::hedge_delay(milliseconds timeout) const {
  // A member that takes many times its usual round trip is probably frozen or partitioned: a
  // copy to another member then answers long before the timeout would. The floor keeps ordinary
  // jitter (an fsync, a GC pause) from doubling traffic.
  const auto usual = milliseconds(latency_ewma_us.load(std::memory_order_relaxed) * 8 / 1000);
  return std::clamp(usual, milliseconds(100), std::max(milliseconds(100), timeout / 2));
}

void Etcd3Client::Impl::record_latency(std::chrono::microseconds latency) {
  const auto old = latency_ewma_us.load(std::memory_order_relaxed);
  latency_ewma_us.store(old - old / 8 + latency.count() / 8, std::memory_order_relaxed);
}

json Etcd3Client::Impl::interpret(const http::HttpResponse& response) const {
  if (response.status >= 400) throw_client_error(response.status, response.body);
  if (response.status < 200 || response.status >= 300) {
    throw MalformedResponse("unexpected HTTP status " + std::to_string(response.status) + ": " + excerpt(response.body),
                            response.status);
  }
  json parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw MalformedResponse("Server response '" + excerpt(response.body) + "' was not valid JSON", response.status);
  }
  // A stream (keepalive) that failed after its headers were sent still says 200.
  if (auto error = parsed.find("error"); error != parsed.end() && error->is_object()) {
    throw_client_error(response.status, response.body);
  }
  return parsed;
}

json Etcd3Client::Impl::accept(const std::string& endpoint, http::HttpResponse& response, FastDecoder* fast) {
  json answer;
  ResponseHeader header;
  if (fast != nullptr) {
    fast->decoded = response.status >= 200 && response.status < 300 && fast->decode(response.body, header);
  }
  if (fast == nullptr || !fast->decoded) {
    answer = interpret(response);
    header = decode_answer("header", [&] { return codec::decode_header(answer); });
  }
  switch (term_guard.observe(header)) {
    case detail::RaftTermGuard::Verdict::stale:
      throw EtcdConnectionFailed("Connected to Etcd node " + endpoint + " with term " +
                                     std::to_string(header.raft_term) + ". Old known term " +
                                     std::to_string(term_guard.term()) + ". Switching to another node.",
                                 endpoint, true);
    case detail::RaftTermGuard::Verdict::cluster_changed:
      log(LogLevel::warning, "Etcd Cluster ID changed to " + std::to_string(header.cluster_id) + " at " + endpoint);
      break;
    case detail::RaftTermGuard::Verdict::fresh:
      break;
  }
  return answer;
}

json Etcd3Client::Impl::attempt(const std::string& endpoint, std::string_view path, const std::string& body,
                                milliseconds timeout, bool send_token, FastDecoder* fast) {
  std::string url;
  {
    std::lock_guard lock(mutex);
    url = join_url(endpoint, api_prefix, path);
  }
  const auto started = std::chrono::steady_clock::now();
  auto response = send(make_request(std::move(url), body, send_token, timeout));
  record_latency(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started));
  json answer = accept(endpoint, response, fast);
  // Decoded: nothing refers to the body any more.
  http::give_back_spare_buffer(std::move(response.body));
  return answer;
}

json Etcd3Client::Impl::attempt_raced(const std::string& endpoint, std::span<const std::string> fallbacks,
                                      std::string_view path, const std::string& body, milliseconds timeout,
                                      std::string& answered, FastDecoder* fast) {
  std::string prefix;
  {
    std::lock_guard lock(mutex);
    prefix = api_prefix;
  }
  const auto primary = make_request(join_url(endpoint, prefix, path), body, true, timeout);
  const auto make_copy = [&](std::size_t k) {
    return make_request(join_url(fallbacks[k], prefix, path), body, true, timeout);
  };
  const auto started = std::chrono::steady_clock::now();
  int winner = 0;
  auto response = send_raced(primary, fallbacks.size(), make_copy, hedge_delay(timeout), winner);
  answered = winner == 0 ? endpoint : fallbacks[static_cast<std::size_t>(winner - 1)];
  if (winner == 0) {
    record_latency(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started));
  } else {
    log(LogLevel::warning, "etcd server " + endpoint + " did not answer in time; " + answered + " did");
    endpoints.mark_failed(endpoint);
  }
  json answer = accept(answered, response, fast);
  http::give_back_spare_buffer(std::move(response.body));
  return answer;
}

VersionInfo Etcd3Client::Impl::detect_version_at(const std::string& endpoint, milliseconds timeout) {
  auto request = make_request(endpoint + "/version", {}, /*send_token=*/false, timeout);
  request.post = false;
  const json answer = interpret(send(request));
  const VersionInfo info = decode_answer("version", [&] { return codec::decode_version_response(answer); });
  const std::string prefix = detail::select_api_prefix(info);
  std::lock_guard lock(mutex);
  if (api_prefix != prefix) {
    log(LogLevel::info, "etcd server " + info.server + ", cluster " + info.cluster + ": using API prefix " + prefix);
  }
  api_prefix = prefix;
  return info;
}

std::string Etcd3Client::Impl::ensure_prefix(detail::RetryPolicy& policy) {
  ensure_seeds();
  {
    std::lock_guard lock(mutex);
    if (!api_prefix.empty()) return api_prefix;
  }
  // Like any call: every endpoint in turn, rounds separated by back-off, within the budget.
  std::string last_failure = "no etcd endpoint to try";
  std::string last_endpoint;
  bool last_sent = false;
  for (;;) {
    const auto order = endpoints.try_order();
    for (const auto& endpoint : *order) {
      if (policy.remaining() < kShortestAttempt) break;  // a sliver of time would only hide earlier errors
      try {
        detect_version_at(endpoint, slice_of(policy, endpoints.all().size()));
        std::lock_guard lock(mutex);
        return api_prefix;
      } catch (const UnsupportedEtcdVersion&) {
        throw;
      } catch (const EtcdException& e) {
        if (!e.retry_on_other_endpoint()) throw;
        endpoints.mark_failed(endpoint);
        note_failure(endpoint, e.what());
        last_failure = e.what();
        last_endpoint = endpoint;
        const auto* failed = dynamic_cast<const EtcdConnectionFailed*>(&e);
        last_sent = failed != nullptr && failed->request_sent();
      }
    }
    const auto pause = policy.next_pause();
    if (policy.remaining() <= pause) {
      throw EtcdConnectionFailed("No more machines in the cluster: " + last_failure, last_endpoint, last_sent);
    }
    std::this_thread::sleep_for(pause);
  }
}

bool Etcd3Client::Impl::switch_to(const std::string& endpoint) {
  if (!endpoints.prefer(endpoint)) return false;
  announce_switch(endpoint);
  return true;
}

void Etcd3Client::Impl::announce_switch(const std::string& endpoint) {
  log(LogLevel::info, "Selected new etcd server " + endpoint);
  detail::emit_state(options.metrics, StateChange::endpoint_switched, endpoint);
  endpoint_listeners.notify(endpoint, [this] { log(LogLevel::error, "endpoint listener threw; ignored"); });
}

void Etcd3Client::Impl::reauthenticate(const std::string& endpoint, std::uint64_t failed_generation,
                                       milliseconds timeout, ReauthenticateMode mode) {
  std::lock_guard auth_lock(auth_mutex);
  {
    std::lock_guard lock(mutex);
    if (token_generation != failed_generation) return;  // another thread already renewed it
  }
  log(LogLevel::info, "Trying to authenticate on Etcd as '" + options.username + "'");
  const json body = {{"name", options.username}, {"password", options.password}};
  std::string new_token;
  const auto started = std::chrono::steady_clock::now();
  // One attempt of its own, reported as an authenticate request (it bypasses execute()).
  const auto report = [&](RequestOutcome outcome, GRPCCode code) {
    if (!options.metrics) return;
    RequestEvent event;
    event.operation = Operation::authenticate;
    event.endpoint = endpoint;
    event.duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    event.outcome = outcome;
    event.code = code;
    event.attempts = 1;
    detail::deliver_request(*options.metrics, event);
  };
  try {
    const json answer = attempt(endpoint, "/auth/authenticate", body.dump(), timeout, /*send_token=*/false);
    new_token = decode_answer("authenticate", [&] { return codec::decode_authenticate_response(answer).token; });
    report(RequestOutcome::ok, GRPCCode::OK);
  } catch (const AuthNotEnabled& e) {
    report(RequestOutcome::grpc_error, e.code());
    log(LogLevel::info, "etcd authentication is not enabled; going on without a token");
  } catch (...) {
    RequestOutcome outcome{};
    GRPCCode code{};
    detail::classify_current_exception(outcome, code);
    report(outcome, code);
    throw;
  }
  if (!new_token.empty()) detail::emit_state(options.metrics, StateChange::reauthenticated, endpoint);
  {
    std::lock_guard lock(mutex);
    token = std::move(new_token);
    ++token_generation;
  }
  if (mode != ReauthenticateMode::not_required) {
    reauthentication_listeners.notify(mode == ReauthenticateMode::required,
                                      [this] { log(LogLevel::error, "re-authentication listener threw; ignored"); });
  }
}

bool Etcd3Client::Impl::refresh_topology(detail::RetryPolicy& policy) {
  const auto order_list = endpoints.try_order();
  const auto& order = *order_list;
  for (const auto& endpoint : order) {
    // A member that just failed is not asked: it would likely cost another timeout.
    if (policy.remaining() < kShortestAttempt || (endpoints.suspect(endpoint) && order.size() > 1)) continue;
    const auto timeout = slice_of(policy, order.size());
    try {
      std::uint64_t generation = 0;
      if (has_credentials() && current_token(&generation).empty()) {
        // Newer etcd refuses unauthenticated member lists, so authenticate on this member first.
        reauthenticate(endpoint, generation, timeout, ReauthenticateMode::not_required);
      }
      const json answer = attempt(endpoint, "/cluster/member/list", "{}", timeout, /*send_token=*/true);
      const auto list = decode_answer("member list", [&] { return codec::decode_member_list_response(answer); });
      std::vector<std::string> urls;
      std::unordered_set<std::string> seen;
      for (const auto& member : list.members) {
        if (member.is_learner) continue;  // learners refuse most client requests
        for (auto url : member.client_urls) {
          while (!url.empty() && url.back() == '/') url.pop_back();
          if (seen.insert(url).second) urls.push_back(url);
        }
      }
      if (urls.empty()) continue;
      for (const auto& url : urls) {
        if (const auto host_port = net::split_url_host_port(url))
          resolver.resolve_async(host_port->first, host_port->second);
      }
      // Shuffled so that the clients of a cluster spread over its members.
      std::shuffle(urls.begin(), urls.end(), std::mt19937(std::random_device{}()));
      // replace() already moved the preference when the old one is gone: only announce it.
      if (endpoints.replace(std::move(urls))) announce_switch(endpoints.preferred());
      return true;
    } catch (const AuthFailed&) {
      throw;
    } catch (const EtcdException& e) {
      log(LogLevel::warning, "Failed to get list of machines from " + endpoint + ": " + e.what());
      if (e.retry_on_other_endpoint()) endpoints.mark_failed(endpoint);
    }
  }
  return false;
}

void Etcd3Client::Impl::maybe_refresh_topology(detail::RetryPolicy& policy) {
  if (options.use_proxies) return;
  const auto due = endpoints.refreshed_at() + std::max(std::chrono::seconds(60), 10 * options.ttl);
  {
    std::lock_guard lock(mutex);
    if (discovered && detail::EndpointSet::Clock::now() < due) return;
  }
  if (refresh_topology(policy)) {
    std::lock_guard lock(mutex);
    discovered = true;
  }
}

json Etcd3Client::Impl::execute(std::string_view path, const json& body, Resend resend) {
  return execute(path, body.dump(), resend);
}

void Etcd3Client::Impl::note_failure(const std::string& endpoint, const std::string& message) {
  std::lock_guard lock(mutex);
  recent_failure = ClientFailure{message, endpoint, std::chrono::steady_clock::now()};
}

json Etcd3Client::Impl::execute(std::string_view path, const std::string& text, Resend resend, FastDecoder* fast) {
  CallStats stats;
  if (!options.metrics) {
    // No observer: only a failure is remembered (for health()), at no cost on success.
    try {
      return execute_counted(path, text, resend, fast, stats);
    } catch (const std::exception& e) {
      note_failure(stats.endpoint, e.what());
      throw;
    }
  }
  RequestEvent event;
  event.operation = detail::operation_for_path(path);
  const auto started = std::chrono::steady_clock::now();
  const auto finish = [&] {
    event.duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    event.endpoint = stats.endpoint;
    event.attempts = stats.attempts;
    event.endpoint_switched = stats.switched;
    detail::deliver_request(*options.metrics, event);
  };
  try {
    json answer = execute_counted(path, text, resend, fast, stats);
    finish();
    return answer;
  } catch (const std::exception& e) {
    note_failure(stats.endpoint, e.what());
    detail::classify_current_exception(event.outcome, event.code);
    finish();
    throw;
  }
}

json Etcd3Client::Impl::execute_counted(std::string_view path, const std::string& text, Resend resend,
                                        FastDecoder* fast, CallStats& stats) {
  const auto call_budget = budget();
  detail::RetryPolicy policy(call_budget);
  ensure_prefix(policy);
  maybe_refresh_topology(policy);
  const bool send_token = path != "/auth/authenticate";
  bool reauthenticated = false;
  std::exception_ptr last_error;
  auto round_budget = call_budget;

  for (;;) {
    // Shared with other calls (see EndpointSet::try_order): read only.
    const auto order_list = endpoints.try_order();
    const auto& order = *order_list;
    const auto slice = slice_of(round_budget, order.size());
    round_budget = policy.remaining();
    std::vector<std::string> failed_this_round;  // includes members that answered a raced copy
    for (std::size_t i = 0; i < order.size(); ++i) {
      const std::string& endpoint = order[i];
      if (std::find(failed_this_round.begin(), failed_this_round.end(), endpoint) != failed_this_round.end()) continue;
      // An attempt with only a sliver of the budget left could not get an answer anyway, and its
      // timeout would hide the answers etcd gave before.
      if (policy.remaining() < kShortestAttempt) break;
      // Whose answer (or failure) this attempt ends with: a raced copy may answer for `endpoint`.
      std::string answered = endpoint;
      try {
        std::uint64_t generation = 0;
        current_token(&generation);
        try {
          const auto timeout = std::min(slice, std::max(policy.remaining(), milliseconds(1)));
          ++stats.attempts;
          // Requests that may run twice are raced to the next endpoint when this one is silent.
          json answer = resend == Resend::safe && send_token && i + 1 < order.size()
                            ? attempt_raced(endpoint, std::span<const std::string>(order).subspan(i + 1), path, text,
                                            timeout, answered, fast)
                            : attempt(endpoint, path, text, timeout, send_token, fast);
          endpoints.mark_ok(answered);
          if (!endpoints.is_preferred(answered)) stats.switched = switch_to(answered);
          if (options.metrics) stats.endpoint = answered;
          return answer;
        } catch (const Etcd3ClientError& e) {
          if (!is_token_error(e) || !has_credentials() || !send_token || reauthenticated) throw;
          // One fresh token per call: a second refusal is a genuine permission problem and
          // goes straight to the caller instead of a re-authentication loop. The token comes
          // from the member that refused the old one (it answers; `endpoint` may be silent).
          log(LogLevel::info, std::string("re-authenticating after: ") + e.what());
          reauthenticate(answered, generation, slice_of(policy, order.size()),
                         dynamic_cast<const AuthOldRevision*>(&e) ? ReauthenticateMode::required_without_watcher_restart
                                                                  : ReauthenticateMode::required);
          reauthenticated = true;
          --i;  // the same endpoint again, with the new token
          continue;
        }
      } catch (const EtcdException& e) {
        stats.endpoint = answered;
        const auto* client_error = dynamic_cast<const Etcd3ClientError*>(&e);
        // DeadlineExceeded usually means this member could not finish in time (no quorum behind
        // it, or our own Grpc-Timeout expired on a member that is cut off): as good as a timeout,
        // so the next member is asked, and the round is repeated after a back-off.
        const bool deadline = client_error && is_retried_later(*client_error);
        if (!deadline && !e.retry_on_other_endpoint() && !(client_error && is_member_refusal(*client_error))) throw;
        // The member whose answer this is; when a raced copy answered, attempt_raced has already
        // noted that `endpoint` itself stayed silent.
        log(LogLevel::warning, "Request to server " + answered + " failed: " + e.what());
        note_failure(answered, e.what());
        endpoints.mark_failed(answered);
        failed_this_round.push_back(answered);
        // A plain write that may have been applied must not be applied twice. "no leader"
        // (NoLeader) is not such a case: every request carries `hasleader`, which etcd checks in
        // its gRPC interceptor before the request is proposed to raft, so the write can go to
        // the next member at once.
        if (resend == Resend::never && e.outcome_unknown()) throw;
        last_error = std::current_exception();
      }
    }
    // Every endpoint failed: pause, then go round again, with the seeds back in the list in case
    // the members moved.
    endpoints.merge_seeds();
    const auto pause = policy.next_pause();
    if (policy.remaining() <= pause) {
      // Out of time. etcd's own last word is the most useful thing to hand over; a budget spent
      // waiting out DeadlineExceeded is Patroni's RetryFailedError; no answer at all means no
      // member could be reached.
      try {
        if (last_error) std::rethrow_exception(last_error);
        throw EtcdConnectionFailed("no etcd endpoint to try");
      } catch (const DeadlineExceeded& e) {
        throw RetryFailedError(std::string("Exceeded retry deadline: ") + e.what());
      } catch (const Etcd3Exception&) {
        throw;
      } catch (const EtcdConnectionFailed& e) {
        throw EtcdConnectionFailed(std::string("No more machines in the cluster: ") + e.what(), e.endpoint(),
                                   e.request_sent());
      }
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace dcs::etcd3
