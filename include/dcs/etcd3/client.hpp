// Etcd3Client: a generic etcd v3 client over etcd's JSON (gRPC-gateway) HTTP API. It knows
// nothing of Patroni keys; the DCS layer (Etcd3) builds on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dcs/etcd3/cluster_info.hpp"
#include "dcs/etcd3/config.hpp"
#include "dcs/etcd3/errors.hpp"
#include "dcs/etcd3/health.hpp"
#include "dcs/etcd3/kv.hpp"
#include "dcs/etcd3/lease.hpp"
#include "dcs/etcd3/txn.hpp"
#include "dcs/etcd3/watch.hpp"
#include "dcs/export.hpp"

namespace dcs::etcd3 {

/// How one client call spends its time budget across `nodes` endpoints (Patroni's table): how
/// many endpoints are tried, the total timeout of each HTTP attempt, and how often a failed
/// connection to the same endpoint is re-attempted.
struct RequestTimeouts {
  std::size_t nodes = 0;
  std::chrono::milliseconds per_node{0};
  int retries = 0;
};
DCS_EXPORT RequestTimeouts request_timeouts(std::size_t nodes, std::chrono::milliseconds budget);

/// Thread-safe: the HA loop and a watcher thread may call one client concurrently. Each thread
/// gets a kept-alive connection of its own (no TCP handshake per request, TCP_NODELAY on);
/// a watch uses a dedicated connection for as long as it runs.
///
/// Errors: every call throws an EtcdException subclass: Etcd3ClientError children for etcd's
/// own errors, EtcdConnectionFailed when no answer came, MalformedResponse for an answer that is
/// not etcd JSON, UnsupportedEtcdVersion for a server older than 3.0.4.
class DCS_EXPORT Etcd3Client {
 public:
  /// Does no network I/O; the API prefix is detected (GET /version) on the first call.
  explicit Etcd3Client(Etcd3Options options);
  ~Etcd3Client();
  Etcd3Client(const Etcd3Client&) = delete;
  Etcd3Client& operator=(const Etcd3Client&) = delete;

  RangeResponse range(const RangeRequest& request);
  PutResponse put(const PutRequest& request);
  DeleteRangeResponse delete_range(const DeleteRangeRequest& request);
  TxnResponse txn(const TxnRequest& request);
  ResponseHeader compact(const CompactionRequest& request);

  LeaseGrantResponse lease_grant(std::int64_t ttl_seconds, std::int64_t id = 0);
  /// One keepalive round trip. A lease that no longer exists is not an error: the answer has
  /// ttl 0 (alive() is false).
  LeaseKeepAliveResponse lease_keepalive(std::int64_t id);
  LeaseRevokeResponse lease_revoke(std::int64_t id);
  LeaseTimeToLiveResponse lease_time_to_live(std::int64_t id, bool keys = false);

  /// Sends name and password (never a token) and, on success, uses the returned token for every
  /// later request. The password is never logged nor put in an exception message. A name or
  /// password that is not valid UTF-8 raises ConfigError before anything is sent.
  AuthenticateResponse authenticate(const std::string& name, const std::string& password);
  /// Drops the token: later requests carry no Authorization header.
  void clear_token();

  /// Changes the time budget of later calls (Patroni's set_retry_timeout: the retry deadline and
  /// the base of the HTTP timeouts). Calls already running keep the budget they started with.
  void set_retry_timeout(std::chrono::milliseconds retry_timeout);
  std::chrono::milliseconds retry_timeout() const;

  MemberListResponse member_list();
  StatusResponse status();

  /// GET /version, then selects the API prefix for that cluster version: /v3alpha below 3.3,
  /// /v3beta for 3.3, /v3 from 3.4. Throws UnsupportedEtcdVersion below server 3.0.4 or cluster
  /// 3.0.
  VersionInfo detect_version();
  /// "/v3", "/v3beta" or "/v3alpha"; detects the version first if that has not happened yet.
  std::string api_prefix();

  /// Opens a watch stream and hands every message to `on_response` until one of:
  /// - `canceller.cancel()` from another thread: returns normally;
  /// - the server cancels the watch (compaction, auth): throws Etcd3WatchCanceled;
  /// - the member has no leader: throws NoLeader (an Unavailable; watch another member). The
  ///   watch is opened with `hasleader`, so a leaderless member refuses to start it, and etcd
  ///   ends it once the member has been without a leader for three election timeouts, instead
  ///   of leaving it open and silent while the rest of the cluster moves on;
  /// - an error object in the stream: throws the mapped Etcd3ClientError;
  /// - the connection breaks, the stream ends, or nothing arrives for `idle_timeout` (when
  ///   non-zero): throws EtcdConnectionFailed; a stream cut inside a message: MalformedResponse.
  void watch(const WatchCreateRequest& request, const WatchCallback& on_response, WatchCanceller& canceller,
             std::chrono::milliseconds idle_timeout = std::chrono::milliseconds{0});

  /// The endpoint requests currently go to (preferred until it fails; sticky after a switch).
  std::string current_endpoint() const;
  /// Every endpoint the client knows: the cluster's members (from the member list) or, with
  /// use_proxies, the configured ones.
  std::vector<std::string> endpoints() const;
  /// Asks the cluster for its member list now (it is otherwise re-read every 10 x ttl); false
  /// when no member answered.
  bool refresh_endpoints();
  /// Reports that `endpoint` misbehaves although none of this client's unary requests failed
  /// there (e.g. a watch on it went silent: a frozen member): for the next 30 s requests try it
  /// last, like a member whose request failed, so the next successful request moves away from
  /// it (calling the endpoint listener).
  void mark_endpoint_failed(const std::string& endpoint);
  /// The stale-member guard (spec 4.8.5) for a header that reached the caller outside this
  /// client's own calls, such as a watch stream's (spec 5.6): remembers its raft term when it is
  /// the newest seen, so later answers from members behind it are refused, and returns false when
  /// the header itself comes from a member behind a term this client has already seen. Headers
  /// without cluster id or term pass; a new cluster id starts over.
  bool observe_raft_term(const ResponseHeader& header);
  /// Called (on the thread that made the request) whenever requests move to another endpoint.
  /// A watch on the old endpoint should be restarted. Must not throw or block.
  ///
  /// set_* keeps one listener of its kind (a new one replaces it, nullptr removes it); listeners
  /// added with add_* are kept beside it, so several parties can listen (Etcd3's watcher cache
  /// adds its own, and an embedder's set_* listener stays).
  void set_endpoint_listener(std::function<void(const std::string& endpoint)> listener);
  /// Called after the client replaced a refused token (not after the first authentication).
  /// `watch_restart_needed` is true when the old token was invalid (a watch opened with it should
  /// be restarted) and false when it was only from an older auth store revision, which etcd keeps
  /// honouring for established watches (Patroni's REQUIRED vs WITHOUT_WATCHER_RESTART). Must not
  /// throw or block.
  void set_reauthentication_listener(std::function<void(bool watch_restart_needed)> listener);
  /// The most recent failure of a unary request or of one of its attempts (kept for health
  /// reports; a later success does not clear it); empty when none happened.
  std::optional<ClientFailure> last_error() const;

  /// Identifies a listener added with add_endpoint_listener / add_reauthentication_listener.
  using ListenerId = std::uint64_t;
  /// Adds a listener beside the others (see set_endpoint_listener); called in the order added.
  ListenerId add_endpoint_listener(std::function<void(const std::string& endpoint)> listener);
  ListenerId add_reauthentication_listener(std::function<void(bool watch_restart_needed)> listener);
  /// Removes an added listener. When it returns the listener is not running (on any thread) and
  /// is never called again, so what it refers to may be destroyed. Not from inside a listener.
  void remove_listener(ListenerId id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcs::etcd3
