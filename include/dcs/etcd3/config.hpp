// Options of the etcd v3 client and DCS: a plain struct with documented defaults, and a parser
// from the `etcd3` section of a Patroni-style configuration.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dcs/etcd3/metrics.hpp"
#include "dcs/export.hpp"
#include "dcs/observer.hpp"

namespace dcs::etcd3 {

struct Etcd3Options {
  /// Seed endpoints: base URLs of etcd members, e.g. "http://127.0.0.1:2379". Unless
  /// `use_proxies` is set they only bootstrap discovery: the client then talks to the members the
  /// cluster lists.
  std::vector<std::string> endpoints;
  /// Set when the single seed came from Patroni's `host` (or `url`): with http, the host name
  /// is resolved and every address becomes an endpoint of its own.
  bool expand_host = false;
  /// DNS SRV discovery domain (Patroni `srv`); tried when no proxy is configured.
  std::string srv;
  /// Appended to the SRV service names (`_etcd-client-ssl-<suffix>._tcp...`).
  std::string srv_suffix;
  /// Treat `endpoints` as a fixed list of proxies: never replace them by the member list.
  bool use_proxies = false;
  /// Scheme for `hosts`/`host` entries: "http" or "https".
  std::string protocol = "http";

  /// etcd v3 user authentication; both must be set for the client to authenticate.
  std::string username;
  std::string password;

  /// TLS: CA bundle to verify the server against (verification is always on for https), and an
  /// optional client certificate + key for mutual TLS. `cert` may hold the key as well.
  std::string cacert;
  std::string cert;
  std::string key;

  /// Lease TTL of the leader and member keys (Patroni `ttl`).
  std::chrono::seconds ttl{30};
  /// HA loop period (Patroni `loop_wait`).
  std::chrono::seconds loop_wait{10};
  /// Time budget of one client call, shared by every endpoint it tries (Patroni
  /// `retry_timeout`). Each HTTP attempt gets a slice of it (see request_timeouts()), with a
  /// connect timeout of max(1 s, slice / 2); no call blocks longer than this.
  std::chrono::seconds retry_timeout{10};

  /// Key layout: keys live under `/<namespace>/<scope>/` (Patroni `namespace`, `scope`).
  std::string namespace_ = "/service/";
  std::string scope;
  /// This member's name (Patroni `name`).
  std::string name;
  /// Control-tool mode (patronictl): no lease, no watcher, linearizable reads.
  bool patronictl = false;
  /// Run the watcher cache (KVCache) outside patronictl mode: get_cluster is served from memory
  /// and watch() wakes on a leader change. false: every get_cluster reads etcd and watch() only
  /// sleeps (another member's change does not wake it) — for short-lived Etcd3 objects and for
  /// tests of the request path. Not a Patroni setting.
  bool watcher_cache = true;
  /// Citus (MPP) group of this member (Patroni `citus.group`): keys then live under
  /// `/<namespace>/<scope>/<group>/`; group 0 is the coordinator. Unset: no Citus.
  std::optional<int> citus_group;
  /// How long the Etcd3 constructor keeps trying to obtain its lease (or, with patronictl, to
  /// reach etcd) while etcd is unreachable, logging "waiting on etcd" and pausing 5 s between
  /// tries, before it throws Etcd3Error. Patroni waits forever; a library hands control back so
  /// the caller decides (a daemon may simply construct again). 0: one try only.
  std::chrono::seconds startup_timeout{60};

  /// Where the library's log lines go. Empty: nowhere.
  LogSink log_sink;
  /// Receives request and state events (metrics.hpp). Null: none are produced. Shared, so one
  /// observer can serve several Etcd3 objects; each keeps it alive while it runs.
  std::shared_ptr<MetricsObserver> metrics;
};

/// Reads the `etcd3` section of a Patroni configuration (after Patroni has copied the global
/// ttl, loop_wait, retry_timeout, namespace, scope and name into it). Accepts every key Patroni
/// accepts, with Patroni's precedence (proxy > url > hosts > host; url/proxy credentials replace
/// username/password; an explicit `port` wins over the one in `host`). Unknown keys are ignored,
/// as Patroni does. Throws dcs::ConfigError naming the key for a wrong type, an unknown protocol,
/// a port out of range, a key without a certificate, or a section without any endpoint. Does no
/// I/O.
DCS_EXPORT Etcd3Options parse_etcd3_options(const nlohmann::json& section);

/// Reads a whole Patroni-style configuration: copies the top-level namespace, name, scope, ttl,
/// loop_wait, retry_timeout and patronictl into the `etcd3` section (overwriting it, as Patroni
/// does) and parses that; `citus.group` (a non-negative integer) becomes `citus_group`.
DCS_EXPORT Etcd3Options parse_patroni_config(const nlohmann::json& config);

/// Checks what a parsed or hand-filled struct must satisfy before a client is built: at least
/// one endpoint or an SRV domain, http(s) URLs, positive timings, TLS files that exist and can be
/// read, a certificate that has a key. Throws dcs::ConfigError.
DCS_EXPORT void validate(const Etcd3Options& options);

}  // namespace dcs::etcd3
