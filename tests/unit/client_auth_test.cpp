// Authentication: the credentials go only to /auth/authenticate (never with a token), the token
// then travels raw in the Authorization header (etcd before 3.5.32 rejects "Bearer "), and the
// password never shows up in an exception or a log line.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dcs/etcd3/client.hpp"
#include "unit/mock_etcd_server.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::etcd3 {
namespace {

using dcs::test::CannedResponse;
using dcs::test::MockEtcdServer;
using dcs::test::options_for;
using dcs::test::RecordedRequest;
using dcs::test::RecordingLog;
using nlohmann::json;
namespace rec = dcs::test::recorded;

constexpr const char* kPassword = "pw-S3cr3t-9f1c";
constexpr const char* kToken = "ZgcPPEMxYWkbeqfA.20";

class ClientAuth : public ::testing::Test {
 protected:
  ClientAuth() {
    server.answer("/v3/auth/authenticate", 200, std::string(rec::kAuthenticate));
    server.answer("/v3/kv/put", 200, std::string(rec::kAuthPut));
    server.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  }

  Etcd3Options options() {
    Etcd3Options o = options_for(server);
    o.username = "root";
    o.password = kPassword;
    o.log_sink = log.sink();
    return o;
  }

  // Every line logged so far, and the check that none carries the password.
  void expect_no_password_in_log() const {
    for (const auto& line : log.lines()) {
      EXPECT_EQ(line.message.find(kPassword), std::string::npos) << line.component << ": " << line.message;
    }
  }

  RecordingLog log;
  MockEtcdServer server;
  Etcd3Client client{options()};
};

TEST_F(ClientAuth, AuthenticateSendsNameAndPasswordWithoutAToken) {
  const AuthenticateResponse answer = client.authenticate("root", kPassword);
  EXPECT_EQ(answer.token, kToken);
  EXPECT_EQ(answer.header.member_id, 735143516750095108ULL);

  const RecordedRequest request = server.last_request_to("/v3/auth/authenticate");
  EXPECT_EQ(json::parse(request.body), (json{{"name", "root"}, {"password", kPassword}}));
  EXPECT_EQ(request.header("Authorization"), std::nullopt);
}

TEST_F(ClientAuth, LaterRequestsCarryTheRawToken) {
  client.range(RangeRequest::with_prefix("app/"));
  EXPECT_EQ(server.last_request_to("/v3/kv/range").header("Authorization"), std::nullopt) << "no token yet";

  client.authenticate("root", kPassword);
  client.put(PutRequest{"app/x", "x"});
  client.range(RangeRequest::with_prefix("app/"));
  EXPECT_EQ(server.last_request_to("/v3/kv/put").header("Authorization"), kToken) << "raw token, no 'Bearer '";
  EXPECT_EQ(server.last_request_to("/v3/kv/range").header("Authorization"), kToken);
}

TEST_F(ClientAuth, TheVersionProbeNeverCarriesTheToken) {
  client.authenticate("root", kPassword);
  client.detect_version();
  for (const auto& request : server.requests_to("/version")) {
    EXPECT_EQ(request.header("Authorization"), std::nullopt);
  }
  EXPECT_EQ(server.requests_to("/version").size(), 2u);
}

TEST_F(ClientAuth, ReauthenticationSendsNoStaleTokenAndSwitchesToTheNewOne) {
  std::atomic<int> calls{0};
  server.handle("/v3/auth/authenticate", [&calls](const RecordedRequest&) {
    const int n = ++calls;
    return CannedResponse{200, R"({"header":{},"token":"token-)" + std::to_string(n) + R"("})"};
  });
  client.authenticate("root", kPassword);
  client.authenticate("root", kPassword);
  const auto auths = server.requests_to("/v3/auth/authenticate");
  ASSERT_EQ(auths.size(), 2u);
  EXPECT_EQ(auths[1].header("Authorization"), std::nullopt) << "the old token is not sent to authenticate";

  client.put(PutRequest{"k", "v"});
  EXPECT_EQ(server.last_request_to("/v3/kv/put").header("Authorization"), "token-2");
}

TEST_F(ClientAuth, ClearTokenStopsSendingIt) {
  client.authenticate("root", kPassword);
  client.put(PutRequest{"k", "v"});
  ASSERT_EQ(server.last_request_to("/v3/kv/put").header("Authorization"), kToken);
  client.clear_token();
  client.put(PutRequest{"k", "v"});
  EXPECT_EQ(server.last_request_to("/v3/kv/put").header("Authorization"), std::nullopt);
}

TEST_F(ClientAuth, AWatchCarriesTheTokenToo) {
  server.stream("/v3/watch",
                dcs::test::StreamScript{200, {dcs::test::StreamStep::chunk(std::string(rec::kWatchCreated))}});
  client.authenticate("root", kPassword);
  WatchCanceller canceller;
  WatchCreateRequest request;
  request.key = "app/";
  EXPECT_THROW(client.watch(
                   request, [](const WatchResponse&) {}, canceller),
               EtcdConnectionFailed);
  EXPECT_EQ(server.last_request_to("/v3/watch").header("Authorization"), kToken);
}

TEST_F(ClientAuth, FailedAuthenticationIsAuthFailedAndLeavesNoToken) {
  server.answer("/v3/auth/authenticate", 400, std::string(rec::kErrAuthFailed));
  try {
    client.authenticate("root", kPassword);
    FAIL() << "no exception";
  } catch (const AuthFailed& e) {
    EXPECT_EQ(std::string(e.what()).find(kPassword), std::string::npos) << e.what();
    EXPECT_EQ(e.http_status(), 400);
  }
  client.put(PutRequest{"k", "v"});
  EXPECT_EQ(server.last_request_to("/v3/kv/put").header("Authorization"), std::nullopt);
  expect_no_password_in_log();
}

TEST_F(ClientAuth, AuthNotEnabledIsItsOwnClass) {
  server.answer(
      "/v3/auth/authenticate", 412,
      R"({"error":"etcdserver: authentication is not enabled","message":"etcdserver: authentication is not enabled","code":9})");
  EXPECT_THROW(client.authenticate("root", kPassword), AuthNotEnabled);
}

TEST_F(ClientAuth, ThePasswordAppearsInNoExceptionNorLogLine) {
  std::vector<std::string> messages;
  const auto attempt = [&](const char* what) {
    SCOPED_TRACE(what);
    try {
      client.authenticate("root", kPassword);
    } catch (const std::exception& e) {
      messages.emplace_back(e.what());
    }
  };
  attempt("success");
  server.answer("/v3/auth/authenticate", 400, std::string(rec::kErrAuthFailed));
  attempt("wrong password");
  server.answer("/v3/auth/authenticate", 200, "not json at all");
  attempt("garbage answer");
  server.answer("/v3/auth/authenticate", 200, R"({"header":{}})");
  attempt("answer without token");
  server.answer("/v3/auth/authenticate", 500, "Internal Server Error\n", "text/plain");
  attempt("non-JSON error page");
  server.answer("/v3/auth/authenticate", 400, R"({"error":"etcdserv)");
  attempt("truncated error");
  EXPECT_EQ(messages.size(), 5u) << "every failing attempt threw";

  for (const auto& message : messages) {
    EXPECT_EQ(message.find(kPassword), std::string::npos) << message;
  }
  const auto lines = log.lines();
  ASSERT_FALSE(lines.empty()) << "the client logs through the sink";
  bool mentions_user = false;
  for (const auto& line : lines) mentions_user = mentions_user || line.message.find("root") != std::string::npos;
  EXPECT_TRUE(mentions_user) << "the user name is logged, the password is not";
  expect_no_password_in_log();
}

TEST_F(ClientAuth, CredentialsThatAreNotUtf8AreRefusedBeforeSendingWithoutEchoingThem) {
  // JSON cannot carry them; the error must be a dcs::Error that does not quote the bytes.
  const std::string bad_password = std::string(kPassword) + "\xff";
  try {
    client.authenticate("root", bad_password);
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "password");
    EXPECT_EQ(std::string(e.what()).find(kPassword), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("0xFF"), std::string::npos) << e.what();
  }
  try {
    client.authenticate("r\xc3oot", kPassword);
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "username");
  }
  EXPECT_TRUE(server.requests_to("/v3/auth/authenticate").empty());
  expect_no_password_in_log();
}

TEST(ClientAuthRefused, ConnectionFailureWhileSendingCredentialsHidesThePassword) {
  RecordingLog log;
  auto server = std::make_unique<MockEtcdServer>();
  Etcd3Options options = options_for(*server);
  options.username = "root";
  options.password = kPassword;
  options.log_sink = log.sink();
  Etcd3Client client(options);
  client.detect_version();  // the API prefix is known...
  server.reset();           // ...then the server goes away: its port refuses connections
  try {
    client.authenticate("root", kPassword);
    FAIL() << "no exception";
  } catch (const EtcdConnectionFailed& e) {
    EXPECT_EQ(std::string(e.what()).find(kPassword), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/v3/auth/authenticate"), std::string::npos) << e.what();
    EXPECT_FALSE(e.request_sent());
  }
  ASSERT_FALSE(log.lines().empty());
  for (const auto& line : log.lines()) EXPECT_EQ(line.message.find(kPassword), std::string::npos) << line.message;
}

}  // namespace
}  // namespace dcs::etcd3

namespace dcs::etcd3 {
namespace {

// The request path's re-authentication: a refused token is replaced once per call, the listener
// learns whether watches opened with the old token need a restart, and a refusal that survives a
// fresh token goes straight back to the caller.
class Reauthentication : public ::testing::Test {
 protected:
  Reauthentication() {
    server.handle("/v3/auth/authenticate", [this](const RecordedRequest&) {
      const int n = ++authentications;
      return CannedResponse{200, R"({"header":{},"token":"token-)" + std::to_string(n) + R"("})"};
    });
    client.set_reauthentication_listener([this](bool restart) { restarts.push_back(restart); });
  }

  // Answers `path` with `refusal` while the request carries `stale_token`, else with `ok`.
  void refuse_token(const std::string& path, const std::string& stale_token, int status, std::string refusal,
                    std::string ok) {
    server.handle(path, [=](const RecordedRequest& request) {
      if (request.header("Authorization") == stale_token) return CannedResponse{status, refusal};
      return CannedResponse{200, ok};
    });
  }

  Etcd3Options options() {
    Etcd3Options o = options_for(server);
    o.username = "root";
    o.password = "secret";
    return o;
  }

  MockEtcdServer server;
  std::atomic<int> authentications{0};
  std::vector<bool> restarts;  // only touched on the calling thread
  Etcd3Client client{options()};
};

TEST_F(Reauthentication, InvalidTokenIsReplacedOnceAndWatchesMustRestart) {
  client.authenticate("root", "secret");  // token-1
  refuse_token("/v3/kv/range", "token-1", 401, R"({"error":"etcdserver: invalid auth token","code":16})",
               std::string(rec::kRangeFoo));
  EXPECT_EQ(client.range(RangeRequest{.key = "foo"}).count, 1);
  EXPECT_EQ(authentications.load(), 2);
  EXPECT_EQ(server.last_request_to("/v3/kv/range").header("Authorization"), "token-2");
  EXPECT_EQ(restarts, std::vector<bool>{true});
}

TEST_F(Reauthentication, OldAuthRevisionNeedsNoWatchRestart) {
  client.authenticate("root", "secret");
  refuse_token("/v3/kv/range", "token-1", 400, R"({"error":"etcdserver: revision of auth store is old","code":3})",
               std::string(rec::kRangeFoo));
  client.range(RangeRequest{.key = "foo"});
  EXPECT_EQ(restarts, std::vector<bool>{false});
}

TEST_F(Reauthentication, PermissionDeniedWithAFreshTokenGoesToTheCaller) {
  server.answer("/v3/kv/put", 403, R"({"error":"etcdserver: permission denied","code":7})");
  client.authenticate("root", "secret");
  EXPECT_THROW(client.put(PutRequest{.key = "k", .value = "v"}), PermissionDenied);
  EXPECT_EQ(authentications.load(), 2) << "exactly one re-authentication, no loop";
  EXPECT_EQ(server.requests_to("/v3/kv/put").size(), 2u);
}

TEST_F(Reauthentication, FirstMemberListIsAuthenticatedFirst) {
  server.answer("/v3/cluster/member/list", 200, std::string(rec::kMemberListWithLearner));
  Etcd3Options o = options();
  o.use_proxies = false;
  Etcd3Client discovering(o);
  try {
    discovering.range(RangeRequest{.key = "foo"});  // the recorded members are not reachable
  } catch (const EtcdException&) {
  }
  const auto requests = server.requests();
  const auto first_of = [&](const std::string& path) {
    return std::find_if(requests.begin(), requests.end(), [&](const auto& r) { return r.path == path; });
  };
  ASSERT_NE(first_of("/v3/cluster/member/list"), requests.end());
  EXPECT_LT(first_of("/v3/auth/authenticate"), first_of("/v3/cluster/member/list"));
  EXPECT_TRUE(restarts.empty()) << "the first authentication replaces no token";
}

}  // namespace
}  // namespace dcs::etcd3
