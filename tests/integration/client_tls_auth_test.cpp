// Etcd3Client itself (not raw curl) against a real etcd serving TLS with --client-cert-auth and
// user authentication on: the client authenticates by itself from Etcd3Options username/password,
// discovers members over TLS, renews an expired token exactly once, hands a genuine permission
// denial to the caller after at most one re-authentication, and reports each misconfiguration
// (wrong CA, missing client certificate, wrong password, missing file) as its own error.
// Expected behaviour: spec sections 7 (auth) and 10 (TLS).
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "dcs/errors.hpp"
#include "integration/etcd_fixture.hpp"
#include "support/etcd_process.hpp"

namespace dcs::itest {
namespace {

using dcs::testing::Permission;
using namespace std::chrono_literals;

constexpr const char* kRootPassword = "tls-client-r00t-pw";
constexpr const char* kAlicePassword = "alice-Secr3t-pw";
// Failing cases must end quickly: a few seconds of budget per call.
constexpr std::chrono::seconds kRetryTimeout{3};

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Records every line the library logs (the sink may be called from any thread).
class LogCapture {
 public:
  LogSink sink() const {
    return [state = state_](LogLevel level, std::string_view component, std::string_view message) {
      std::lock_guard lock(state->mutex);
      state->lines.push_back(std::string(to_string(level)) + " " + std::string(component) + ": " +
                             std::string(message));
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(state_->mutex);
    return state_->lines;
  }
  std::size_t count(std::string_view part) const {
    std::size_t n = 0;
    for (const auto& line : lines()) n += contains(line, part) ? 1 : 0;
    return n;
  }
  /// How many times the client sent POST /v3/auth/authenticate for `user`.
  std::size_t authentications(const std::string& user) const {
    return count("Trying to authenticate on Etcd as '" + user + "'");
  }
  std::string text() const {
    std::string all;
    for (const auto& line : lines()) all += line + "\n";
    return all;
  }

 private:
  struct State {
    std::mutex mutex;
    std::vector<std::string> lines;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Options a well-configured client of a TLS etcd uses: right CA, CN-less client certificate.
Etcd3Options tls_options(const EtcdProcess& etcd, const std::string& user, const std::string& password,
                         const LogCapture& log) {
  Etcd3Options options = client_options({etcd.endpoint()}, kRetryTimeout);
  const auto& pki = etcd.pki();
  options.cacert = pki.ca;
  options.cert = pki.client_cert;
  options.key = pki.client_key;
  options.username = user;
  options.password = password;
  options.log_sink = log.sink();
  return options;
}

PutResponse put(Etcd3Client& client, const std::string& key, const std::string& value, std::int64_t lease = 0) {
  PutRequest request;
  request.key = key;
  request.value = value;
  request.lease = lease;
  return client.put(request);
}

RangeResponse get(Etcd3Client& client, const std::string& key) {
  RangeRequest request;
  request.key = key;
  return client.range(request);
}

// Starts one etcd per suite; a failure is reported by every test of the suite (never skipped).
struct SuiteEtcd {
  std::unique_ptr<EtcdProcess> etcd;
  std::string error;

  template <typename Setup>
  void start(EtcdProcess::Options options, Setup setup) {
    try {
      etcd = std::make_unique<EtcdProcess>(std::move(options));
      setup(*etcd);
    } catch (const std::exception& e) {
      error = e.what();
      etcd.reset();
    }
  }
};

// One TLS etcd with auth on: root, and alice with READ on /app/ only.
class ClientTlsAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EtcdProcess::Options options;
    options.tls = true;
    options.extra_flags = {"--auth-token=simple", "--auth-token-ttl=300"};
    suite_.start(std::move(options), [](EtcdProcess& etcd) {
      etcd.enable_auth(kRootPassword);
      etcd.add_user("alice", kAlicePassword, Permission::read, "/app/");
    });
  }
  static void TearDownTestSuite() { suite_.etcd.reset(); }
  void SetUp() override { ASSERT_NE(suite_.etcd, nullptr) << "TLS etcd could not be started: " << suite_.error; }

  static EtcdProcess& etcd() { return *suite_.etcd; }
  static std::string port() { return etcd().endpoint().substr(etcd().endpoint().rfind(':') + 1); }

  inline static SuiteEtcd suite_;
};

TEST_F(ClientTlsAuthTest, AuthenticatesByItselfDiscoversMembersAndServesKvAndLeases) {
  LogCapture log;
  Etcd3Options options = tls_options(etcd(), "root", kRootPassword, log);
  // Seeded by host name: the member list (read over TLS) replaces it by the advertised URL.
  options.endpoints = {"https://localhost:" + port()};
  Etcd3Client client(options);

  put(client, "/tls-client/k", "v1");
  EXPECT_EQ(client.endpoints(), std::vector<std::string>{etcd().endpoint()});
  EXPECT_EQ(client.current_endpoint(), etcd().endpoint());

  const RangeResponse read = get(client, "/tls-client/k");
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "v1");

  const LeaseGrantResponse lease = client.lease_grant(30);
  EXPECT_NE(lease.id, 0);
  const LeaseKeepAliveResponse kept = client.lease_keepalive(lease.id);
  EXPECT_TRUE(kept.alive());
  EXPECT_EQ(kept.id, lease.id);
  put(client, "/tls-client/leased", "x", lease.id);
  EXPECT_EQ(get(client, "/tls-client/leased").kvs.size(), 1u);
  client.lease_revoke(lease.id);
  EXPECT_TRUE(get(client, "/tls-client/leased").kvs.empty());
  EXPECT_EQ(client.member_list().members.size(), 1u);

  // One authentication, before the first member list, and none per request.
  EXPECT_EQ(log.authentications("root"), 1u) << log.text();
  EXPECT_FALSE(contains(log.text(), kRootPassword)) << log.text();
}

TEST_F(ClientTlsAuthTest, UserReadsItsOwnPrefix) {
  {
    LogCapture root_log;
    Etcd3Client root(tls_options(etcd(), "root", kRootPassword, root_log));
    put(root, "/app/x", "for-alice");
  }
  LogCapture log;
  Etcd3Client alice(tls_options(etcd(), "alice", kAlicePassword, log));
  for (int i = 0; i < 3; ++i) {
    const RangeResponse read = get(alice, "/app/x");
    ASSERT_EQ(read.kvs.size(), 1u);
    EXPECT_EQ(read.kvs[0].value, "for-alice");
  }
  EXPECT_EQ(log.authentications("alice"), 1u) << log.text();
  EXPECT_EQ(log.count("re-authenticating"), 0u) << log.text();
}

TEST_F(ClientTlsAuthTest, PermissionDeniedReachesTheCallerAfterAtMostOneReauthentication) {
  LogCapture log;
  Etcd3Client alice(tls_options(etcd(), "alice", kAlicePassword, log));
  get(alice, "/app/x");  // authenticated, the token works
  ASSERT_EQ(log.authentications("alice"), 1u) << log.text();

  for (int round = 0; round < 2; ++round) {
    const std::size_t before = log.authentications("alice");
    try {
      put(alice, "/other/x", "nope");
      FAIL() << "a READ-only user wrote outside its prefix";
    } catch (const PermissionDenied& e) {
      EXPECT_EQ(e.code(), GRPCCode::PermissionDenied);
      EXPECT_EQ(e.http_status(), 403);
      EXPECT_TRUE(contains(e.what(), "permission denied")) << e.what();
    }
    EXPECT_LE(log.authentications("alice"), before + 1) << log.text();
  }
  {
    const std::size_t before = log.authentications("alice");
    EXPECT_THROW(get(alice, "/other/x"), PermissionDenied);  // a read outside the grant, too
    EXPECT_LE(log.authentications("alice"), before + 1) << log.text();
  }
  // The client is still usable for what alice may do.
  EXPECT_NO_THROW(get(alice, "/app/x"));
  EXPECT_FALSE(contains(log.text(), kAlicePassword)) << log.text();
}

TEST_F(ClientTlsAuthTest, WrongPasswordIsAuthFailedAndNeverShown) {
  const std::string wrong = "Wr0ng-pa55word-XYZ";
  LogCapture log;
  Etcd3Client client(tls_options(etcd(), "root", wrong, log));
  try {
    put(client, "/tls-client/denied", "v");
    FAIL() << "a wrong password was accepted";
  } catch (const AuthFailed& e) {
    EXPECT_EQ(e.code(), GRPCCode::InvalidArgument);
    EXPECT_TRUE(contains(e.what(), "authentication failed")) << e.what();
    EXPECT_FALSE(contains(e.what(), wrong)) << "the password leaked into the exception: " << e.what();
  }
  EXPECT_THROW(get(client, "/tls-client/denied"), AuthFailed);
  const auto lines = log.lines();
  EXPECT_FALSE(lines.empty());
  for (const auto& line : lines) EXPECT_FALSE(contains(line, wrong)) << "the password leaked into the log: " << line;
  // One attempt per call: no authentication loop.
  EXPECT_EQ(log.authentications("root"), 2u) << log.text();
}

TEST_F(ClientTlsAuthTest, WrongCaIsConnectionFailedNamingTheCertificateProblem) {
  LogCapture log;
  Etcd3Options options = tls_options(etcd(), "root", kRootPassword, log);
  options.cacert = etcd().pki().wrong_ca;
  Etcd3Client client(options);
  try {
    get(client, "/tls-client/k");
    FAIL() << "a server certificate from another CA was trusted";
  } catch (const EtcdConnectionFailed& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "certificate")) << message;
    EXPECT_TRUE(contains(message, "verif")) << message;
    EXPECT_TRUE(contains(message, "cacert")) << message;
    EXPECT_FALSE(contains(message, "handshake refused")) << message;
    EXPECT_EQ(e.endpoint().rfind(etcd().endpoint(), 0), 0u) << e.endpoint();
  }
  EXPECT_EQ(log.authentications("root"), 0u) << log.text();
}

TEST_F(ClientTlsAuthTest, MissingClientCertificateIsConnectionFailedInTheHandshake) {
  LogCapture log;
  Etcd3Options options = tls_options(etcd(), "root", kRootPassword, log);
  options.cert.clear();
  options.key.clear();
  Etcd3Client client(options);
  try {
    get(client, "/tls-client/k");
    FAIL() << "a client without a certificate was served";
  } catch (const EtcdConnectionFailed& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "TLS handshake")) << message;
    EXPECT_TRUE(contains(message, "client certificate")) << message;
    // Not to be mistaken for a server verification problem.
    EXPECT_FALSE(contains(message, "verif")) << message;
  }
  EXPECT_EQ(log.authentications("root"), 0u) << log.text();
}

TEST_F(ClientTlsAuthTest, MissingTlsFileIsConfigErrorNamingTheKey) {
  const auto& pki = etcd().pki();
  const std::string missing = etcd().dir() + "/pki/does-not-exist.pem";
  struct Case {
    const char* key;
    std::string cacert, cert, key_file;
  };
  const Case cases[] = {
      {"cacert", missing, pki.client_cert, pki.client_key},
      {"cert", pki.ca, missing, pki.client_key},
      {"key", pki.ca, pki.client_cert, missing},
  };
  for (const auto& c : cases) {
    LogCapture log;
    Etcd3Options options = tls_options(etcd(), "root", kRootPassword, log);
    options.cacert = c.cacert;
    options.cert = c.cert;
    options.key = c.key_file;
    try {
      Etcd3Client client(options);
      ADD_FAILURE() << "a missing " << c.key << " file was accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key(), c.key);
      EXPECT_TRUE(contains(e.what(), std::string(c.key) + ":")) << e.what();
      EXPECT_TRUE(contains(e.what(), missing)) << e.what();
    }
  }
}

// A TLS etcd with auth whose simple tokens die after 2 s without use.
class ClientTokenExpiryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EtcdProcess::Options options;
    options.tls = true;
    options.extra_flags = {"--auth-token=simple", "--auth-token-ttl=2"};
    suite_.start(std::move(options), [](EtcdProcess& etcd) { etcd.enable_auth(kRootPassword); });
  }
  static void TearDownTestSuite() { suite_.etcd.reset(); }
  void SetUp() override { ASSERT_NE(suite_.etcd, nullptr) << "TLS etcd could not be started: " << suite_.error; }

  inline static SuiteEtcd suite_;
};

TEST_F(ClientTokenExpiryTest, ExpiredTokenIsRenewedExactlyOnce) {
  LogCapture log;
  Etcd3Client client(tls_options(*suite_.etcd, "root", kRootPassword, log));
  put(client, "/expiry/k", "v");
  const std::size_t before = log.authentications("root");
  ASSERT_EQ(before, 1u) << log.text();

  // Sliding TTL of 2 s, checked by etcd once a second: 4 s idle is always past it.
  std::this_thread::sleep_for(4s);
  const RangeResponse read = get(client, "/expiry/k");
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "v");
  EXPECT_EQ(log.authentications("root"), before + 1) << log.text();
  EXPECT_EQ(log.count("invalid auth token"), 1u) << log.text();

  // The renewed token is used from then on.
  put(client, "/expiry/k", "v2");
  EXPECT_EQ(get(client, "/expiry/k").kvs.at(0).value, "v2");
  EXPECT_EQ(log.authentications("root"), before + 1) << log.text();
}

// A plain etcd that never had auth enabled.
class ClientNoAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_.start({}, [](EtcdProcess&) {});
  }
  static void TearDownTestSuite() { suite_.etcd.reset(); }
  void SetUp() override { ASSERT_NE(suite_.etcd, nullptr) << "etcd could not be started: " << suite_.error; }

  inline static SuiteEtcd suite_;
};

TEST_F(ClientNoAuthTest, CredentialsOnANodeWithoutAuthAreHarmless) {
  LogCapture log;
  Etcd3Options options = client_options({suite_.etcd->endpoint()}, kRetryTimeout);
  options.username = "root";
  options.password = "unused-pw";
  options.log_sink = log.sink();
  Etcd3Client client(options);

  put(client, "/noauth/k", "v");
  EXPECT_EQ(get(client, "/noauth/k").kvs.at(0).value, "v");
  const LeaseGrantResponse lease = client.lease_grant(30);
  EXPECT_TRUE(client.lease_keepalive(lease.id).alive());
  client.lease_revoke(lease.id);

  // AuthNotEnabled was understood once; the client carries on without a token (on etcd 3.4.23 a
  // token, even a stale one, would be checked and refused) and does not retry authenticating.
  EXPECT_EQ(log.authentications("root"), 1u) << log.text();
  EXPECT_EQ(log.count("authentication is not enabled; going on without a token"), 1u) << log.text();
  EXPECT_EQ(log.count("re-authenticating"), 0u) << log.text();
  EXPECT_FALSE(contains(log.text(), "unused-pw")) << log.text();
}

}  // namespace
}  // namespace dcs::itest
