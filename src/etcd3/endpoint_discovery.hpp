// The seed endpoint list of an etcd client, from Etcd3Options, as Patroni builds it (spec 1.4):
// proxies as given, else DNS SRV discovery, else the configured hosts, else the one `host`
// expanded to every address it resolves to. Internal; DNS and the peer probe are injectable.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "dcs/etcd3/config.hpp"
#include "log.hpp"

namespace dcs::etcd3::discovery {

struct SrvRecord {
  std::string target;  ///< host name, without the trailing dot
  int port = 0;
  int priority = 0;
  int weight = 0;
};

/// Returns the SRV records of `name`; empty (or an exception) when there are none.
using SrvLookup = std::function<std::vector<SrvRecord>(const std::string& name)>;
/// Returns the numeric addresses of (host, port); empty (or an exception) when it does not
/// resolve. net::system_lookup and DnsCachingResolver::resolve both fit.
using HostLookup = std::function<std::vector<std::string>(const std::string& host, int port)>;

/// SRV records of `name` through glibc's resolver (res_nquery); empty on any DNS error.
std::vector<SrvRecord> system_srv_lookup(const std::string& name);
/// The SRV records in the answer section of a DNS response; empty when it does not parse.
std::vector<SrvRecord> parse_srv_answer(const unsigned char* answer, int length);

struct Hooks {
  SrvLookup srv_lookup = system_srv_lookup;
  HostLookup host_lookup;  ///< empty: net::system_lookup
  LogSink log_sink;
};

struct SeedEndpoints {
  /// Base URLs without a trailing slash. Discovered lists hold no duplicates; configured ones
  /// are kept as written.
  std::vector<std::string> endpoints;
  /// The scheme the client should use: the SRV label's when SRV discovery produced the list,
  /// otherwise options.protocol.
  std::string protocol;
  /// Whether the list came from SRV discovery.
  bool from_srv = false;
};

/// The seed list for `options`, first non-empty source wins: use_proxies -> endpoints as given;
/// srv -> SRV discovery; endpoints (expanded per address when options.expand_host and http).
/// Empty when nothing yielded an endpoint (the caller's "waiting on etcd" case). Performs DNS
/// and, for `-server` SRV records, HTTP GETs bounded by options.retry_timeout each.
SeedEndpoints seed_endpoints(const Etcd3Options& options, const Hooks& hooks = {});

/// The SRV service labels in the order they are tried, the suffix applied.
std::vector<std::string> srv_labels(const std::string& suffix);

/// SRV discovery under `domain` (spec 1.4); sets `protocol` to the scheme of the label that
/// answered. Empty, with a warning logged, when no label produced a URL.
std::vector<std::string> discover_from_srv(const std::string& domain, const std::string& suffix,
                                           std::chrono::milliseconds timeout, const SrvLookup& srv_lookup,
                                           const dcs::detail::Logger& log, std::string& protocol);

/// One URL per address `url`'s host resolves to (http only); `url` itself when it is https or
/// the name does not resolve.
std::vector<std::string> expand_host(const std::string& url, const HostLookup& host_lookup);

/// GET `url` with TLS verification off and no proxy, bounded by `timeout`; the `clientURLs` of
/// every member in the JSON array it answers with. False when there was no answer, an HTTP
/// status >= 400 or a body of another shape.
bool fetch_peer_client_urls(const std::string& url, std::chrono::milliseconds timeout, std::vector<std::string>& urls,
                            std::string& error);

/// "<scheme>://host:port", the host bracketed when it is an IPv6 literal.
std::string make_url(const std::string& scheme, const std::string& host, int port);

}  // namespace dcs::etcd3::discovery
