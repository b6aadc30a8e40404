// Throwaway etcd servers for integration tests and benchmarks: each EtcdProcess starts one etcd
// (or a cluster of several members) as child processes on free 127.0.0.1 ports, in a fresh
// temporary directory, and removes everything again in its destructor.
//
// The etcd binary is $DCS_ETCD_BIN, else `etcd` on PATH, else /usr/bin/etcd. When none exists
// the constructor throws EtcdProcessError: a test that needs etcd fails, it is never skipped.
//
// The children get PR_SET_PDEATHSIG(SIGKILL) tied to the thread that started them, so even a
// test binary that crashes or is killed leaves no etcd behind. Start (and restart()) members from
// a thread that outlives them, e.g. the test's main thread.
//
// TLS (Options::tls): a fresh test PKI (support/test_pki.hpp) is generated in the temporary
// directory, clients are served on https://127.0.0.1:<port> with --client-cert-auth (peers stay on
// plain http), and readiness is polled over TLS with the CN-less client certificate.
//
// Partitions (Options::partitionable): every member's peer traffic passes a proxy of a
// PeerPartition (support/peer_partition.hpp) in the test process; partition().isolate(m) cuts
// member m off from the others without stopping it, partition().heal() reconnects them.
//
// Auth: enable_auth() and add_user() do over the JSON gateway what Etcd3Client does not offer
// (spec section 7.1), presenting the CN-less client certificate when TLS is on.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/peer_partition.hpp"
#include "support/test_pki.hpp"

namespace dcs::testing {

class EtcdProcessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The etcd binary to run; throws EtcdProcessError when there is none.
std::string find_etcd_binary();

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
int pick_free_port();

/// TLS material a raw HTTP client presents: empty fields are not set on the connection (an empty
/// `ca` means curl's default CA store, which does not know the test CA).
struct ClientTls {
  std::string ca;
  std::string cert;
  std::string key;
};

/// A raw HTTP exchange with etcd, for what Etcd3Client does not offer (user add, auth enable).
struct HttpResult {
  long status = 0;  ///< 0: no answer (connection or TLS failure); then `body` holds the curl error
  std::string body;
  std::string content_type;  ///< the response's Content-Type, "" when none
  int curl_code = 0;         ///< the CURLcode of the exchange (CURLE_OK = 0 when there is an answer)
};

struct HttpRequest {
  std::string url;
  /// Set: POST with Content-Type application/json. Unset: GET.
  std::optional<std::string> body;
  /// Non-empty: sent as the Authorization header.
  std::string token;
  ClientTls tls;
  std::chrono::milliseconds timeout{10000};
};

HttpResult http_request(const HttpRequest& request);
/// POSTs `body` (JSON) to `url`; `token` non-empty: sent as the Authorization header.
HttpResult http_post(const std::string& url, const std::string& body, const std::string& token = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds{10});
HttpResult http_get(const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds{10});

/// Standard base64 with padding: how etcd's JSON gateway spells keys and values.
std::string base64(std::string_view bytes);

/// What a member says about itself (POST /v3/maintenance/status, answered by the member alone,
/// without its quorum).
struct MemberStatus {
  std::uint64_t member_id = 0;
  std::uint64_t leader = 0;         ///< 0: the member knows no leader
  std::uint64_t raft_term = 0;      ///< the term of the last entry the member applied (etcd 3.4)
  std::int64_t revision = 0;        ///< the newest revision the member applied
  std::vector<std::string> errors;  ///< e.g. "etcdserver: no leader"
};

/// What add_user() grants on a key prefix (etcd's permType).
enum class Permission { read, write, readwrite };

class EtcdProcess {
 public:
  struct Options {
    /// 1: a single node; 3: a three-member cluster (any number >= 1 works).
    std::size_t members = 1;
    /// Appended to every member's command line, e.g. "--auth-token-ttl=5" or
    /// "--experimental-watch-progress-notify-interval=1s".
    std::vector<std::string> extra_flags;
    /// How long every member may take to answer GET /version.
    std::chrono::seconds ready_timeout{30};
    /// Attempts with fresh ports when a member dies while starting (a lost port race).
    int start_attempts = 3;
    /// Serve clients over https with --client-cert-auth, using a generated PKI (see pki()).
    bool tls = false;
    /// Route the members' peer traffic through a PeerPartition (see partition()): each member
    /// listens for peers on its own port and advertises its proxy's URL instead.
    bool partitionable = false;
  };

  /// Starts every member, then waits until each one answers GET /version with a decided cluster
  /// version.
  EtcdProcess();
  explicit EtcdProcess(Options options);
  /// Stops every member (SIGCONT + SIGTERM, SIGKILL when it does not exit) and removes the
  /// temporary directory. Never throws.
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  /// Client URL of member 0, "http://127.0.0.1:<port>" ("https://..." with Options::tls).
  const std::string& endpoint() const { return endpoint(0); }
  const std::string& endpoint(std::size_t member) const;
  /// Client URLs of every member, in member order.
  std::vector<std::string> endpoints() const;
  std::size_t size() const noexcept { return members_.size(); }
  /// Member name: "n1" for a single node, "m1".."mN" for a cluster.
  const std::string& name(std::size_t member) const;
  /// PID of the member's etcd, or -1 when it is not running.
  pid_t pid(std::size_t member) const;
  /// Reaps the member when it has exited.
  bool running(std::size_t member);

  /// Sends `signal` (SIGSTOP, SIGCONT, SIGKILL, SIGTERM, ...) to the member. After SIGKILL or
  /// SIGTERM the process is reaped (bounded wait) and the member counts as not running. SIGSTOP
  /// returns once every thread of the member has stopped (bounded wait), so it answers nothing
  /// from then on.
  void signal(std::size_t member, int signal);
  /// Relaunches a member that is not running with its original flags and data dir, then waits
  /// until it answers GET /version again.
  void restart(std::size_t member);
  /// Relaunches every member that is not running, all before waiting for any (a cluster that
  /// lost quorum answers only once enough members are back).
  void restart_stopped();
  /// Relaunches a member that is not running on a new client port (it advertises the new URL;
  /// its peer URL and data stay), as when a member moves to another address. Returns once every
  /// running member's member list shows the new URL.
  void restart_on_new_client_port(std::size_t member);
  /// Stops every member and removes the temporary directory (what the destructor does).
  void stop() noexcept;

  /// True when started with Options::tls.
  bool tls() const noexcept { return options_.tls; }
  /// The generated certificates and keys (under dir()/pki); throws EtcdProcessError without TLS.
  const TestPki& pki() const;
  /// What a well-behaved client presents: {pki().ca, pki().client_cert (CN-less),
  /// pki().client_key} with TLS, all empty without.
  ClientTls client_tls() const;

  /// POSTs `body` to endpoint(member) + `path` (e.g. "/v3/kv/range"), with client_tls() and,
  /// when non-empty, `token` as the Authorization header.
  HttpResult post(std::string_view path, const std::string& body, const std::string& token = {},
                  std::size_t member = 0) const;
  /// POST /v3/auth/authenticate; returns the token. Throws EtcdProcessError unless HTTP 200.
  std::string authenticate(const std::string& user, const std::string& password, std::size_t member = 0) const;
  /// Adds user root with `root_password`, grants it the root role and enables auth (spec 7.1).
  /// Throws EtcdProcessError naming the failing step. Later add_user() calls authenticate as root.
  void enable_auth(const std::string& root_password);
  bool auth_enabled() const noexcept { return !root_password_.empty(); }
  /// The root password given to enable_auth() ("" before).
  const std::string& root_password() const noexcept { return root_password_; }
  /// Adds role "<name>-role" granting `permission` on every key starting with `key_prefix`
  /// (non-empty), and user `name` with `password` holding that role. Works before and after
  /// enable_auth(). Throws EtcdProcessError naming the failing step.
  void add_user(const std::string& name, const std::string& password, Permission permission,
                const std::string& key_prefix);

  /// The proxies between the members; throws EtcdProcessError unless started with
  /// Options::partitionable. The members' raft ids are registered with it once they are ready.
  PeerPartition& partition();
  /// The member's own view (see MemberStatus); nullopt when it gave no valid answer in time.
  std::optional<MemberStatus> member_status(std::size_t member,
                                            std::chrono::milliseconds timeout = std::chrono::seconds{2}) const;

  /// The temporary directory holding the data dirs and logs.
  const std::string& dir() const noexcept { return dir_; }
  /// The member's log file (etcd's stdout and stderr).
  std::string log_path(std::size_t member) const;
  /// The last `bytes` of the member's log, for failure messages.
  std::string log_tail(std::size_t member, std::size_t bytes = 4000) const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    std::string client_url;
    std::string peer_url;             ///< where the member listens for its peers
    std::string advertised_peer_url;  ///< where its peers dial it (its proxy when partitionable)
    std::vector<std::string> args;
    pid_t pid = -1;
    bool stopped = false;  ///< frozen by signal(SIGSTOP) and not continued since
  };

  void start_all();
  void register_member_ids();
  void launch(std::size_t member);
  void wait_ready(std::size_t member);
  void wait_new_url_published(std::size_t member);
  void wait_stopped(std::size_t member);
  void stop_member(Member& member) noexcept;
  void check_member(std::size_t member) const;
  /// Reaps the member if it has exited; true while it still runs.
  bool alive(Member& member) noexcept;

  /// POSTs and throws EtcdProcessError("<step>: HTTP <status> <body>") unless HTTP 200.
  std::string post_ok(std::string_view step, std::string_view path, const std::string& body,
                      const std::string& token) const;

  Options options_;
  std::string binary_;
  std::string dir_;
  std::optional<TestPki> pki_;
  std::string root_password_;
  std::vector<Member> members_;
  std::unique_ptr<PeerPartition> partition_;
};

}  // namespace dcs::testing
