// Authentication against a real etcd: one node with auth enabled (root user added and auth
// switched on through the JSON API, as etcd-local.sh does) and one node without auth.
#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using dcs::testing::http_post;
using dcs::testing::HttpResult;

constexpr const char* kRootPassword = "r00t-pw";

class AuthTest : public EtcdTest {
 protected:
  static void SetUpTestSuite() {
    EtcdProcess::Options options;
    options.extra_flags = {"--auth-token=simple", "--auth-token-ttl=300"};
    start_etcd(std::move(options));
    if (!etcd_) return;
    // Etcd3Client has no user management: spec §7.1 through raw HTTP.
    const std::string base = etcd_->endpoint() + "/v3/auth";
    const std::pair<std::string, std::string> steps[] = {
        {"/user/add", std::string(R"({"name":"root","password":")") + kRootPassword + R"("})"},
        {"/user/grant", R"({"user":"root","role":"root"})"},
        {"/enable", "{}"},
    };
    for (const auto& [path, body] : steps) {
      const HttpResult result = http_post(base + path, body);
      if (result.status != 200) {
        start_error_ =
            "enabling auth failed at " + path + ": HTTP " + std::to_string(result.status) + " " + result.body;
        etcd_.reset();
        return;
      }
    }
  }
};

using NoAuthTest = EtcdTest;

TEST_F(AuthTest, AuthenticatedCallsSucceed) {
  const AuthenticateResponse auth = client().authenticate("root", kRootPassword);
  EXPECT_FALSE(auth.token.empty());
  EXPECT_NE(auth.header.member_id, 0u);

  put(key("k"), "v");
  const RangeResponse read = get(key("k"));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "v");

  TxnRequest txn;
  txn.compare = {Compare::value_of(key("k"), CompareResult::equal, "v")};
  EXPECT_TRUE(client().txn(txn).succeeded);

  const LeaseGrantResponse lease = client().lease_grant(30);
  EXPECT_TRUE(client().lease_keepalive(lease.id).alive());
  client().lease_revoke(lease.id);
  EXPECT_EQ(client().member_list().members.size(), 1u);
}

TEST_F(AuthTest, WatchWithTokenDeliversEvents) {
  client().authenticate("root", kRootPassword);
  WatchCreateRequest request;
  request.key = key("w");
  WatchRunner watch(client(), request);
  ASSERT_TRUE(watch.wait_created());
  put(key("w"), "v");
  ASSERT_TRUE(watch.wait_events(1));
  EXPECT_EQ(watch.events().at(0).kv.value, "v");
}

TEST_F(AuthTest, WrongPasswordIsAuthFailed) {
  try {
    client().authenticate("root", "not-the-password");
    FAIL() << "a wrong password was accepted";
  } catch (const AuthFailed& e) {
    EXPECT_EQ(e.code(), GRPCCode::InvalidArgument);
    EXPECT_EQ(std::string(e.what()).find("not-the-password"), std::string::npos) << "the password leaked";
  }
  EXPECT_THROW(client().authenticate("nobody", kRootPassword), AuthFailed);
  EXPECT_THROW(get(key("k")), UserEmpty);  // no token was kept
}

TEST_F(AuthTest, NoTokenIsUserEmpty) {
  try {
    get(key("k"));
    FAIL() << "a request without a token was served";
  } catch (const UserEmpty& e) {
    EXPECT_EQ(e.code(), GRPCCode::InvalidArgument);
  }
  EXPECT_THROW(put(key("k"), "v"), UserEmpty);
}

TEST_F(AuthTest, ClearTokenDropsTheToken) {
  client().authenticate("root", kRootPassword);
  put(key("k"), "v");
  client().clear_token();
  EXPECT_THROW(get(key("k")), UserEmpty);
  client().authenticate("root", kRootPassword);
  EXPECT_EQ(get(key("k")).kvs.size(), 1u);
}

TEST_F(AuthTest, WatchWithoutTokenIsCanceled) {
  WatchCreateRequest request;
  request.key = key("w");
  WatchRunner watch(client(), request);
  ASSERT_TRUE(watch.wait_done()) << "a watch refused by auth did not return";
  ASSERT_NE(watch.error(), nullptr);
  try {
    std::rethrow_exception(watch.error());
  } catch (const Etcd3WatchCanceled& e) {
    EXPECT_NE(e.cancel_reason().find("user name is empty"), std::string::npos) << e.cancel_reason();
    EXPECT_EQ(e.compact_revision(), 0);
  } catch (const std::exception& e) {
    FAIL() << "unexpected exception: " << e.what();
  }
}

TEST_F(NoAuthTest, AuthenticateWithoutAuthIsAuthNotEnabled) {
  try {
    client().authenticate("root", "whatever");
    FAIL() << "authenticate succeeded on a node without auth";
  } catch (const AuthNotEnabled& e) {
    EXPECT_EQ(e.code(), GRPCCode::FailedPrecondition);
  }
  // The failed attempt left no token behind: plain requests still work.
  put(key("k"), "v");
  EXPECT_EQ(get(key("k")).kvs.size(), 1u);
}

}  // namespace
}  // namespace dcs::itest
