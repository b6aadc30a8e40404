// The watcher cache on an etcd with authentication: a token that dies under the cache (expired by
// etcd's --auth-token-ttl, or revoked because the user's password was changed) must not leave the
// cache stuck. etcd does not end a watch that is already running when its token dies; it refuses
// the next one (the cache re-opens a quiet stream every probe_interval), and the cache has to get
// a fresh token and watch again, following changes, without turning not-ready or relisting.
#include "dcs/etcd3/etcd3.hpp"
#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRootPassword = "r00t-pw";

class KVCacheAuth : public EtcdTest {
 protected:
  static void SetUpTestSuite() { start_with_token_ttl(1); }

  // Simple tokens live `seconds` after their last use (every use extends them).
  static void start_with_token_ttl(int seconds) {
    EtcdProcess::Options options;
    options.extra_flags = {"--auth-token=simple", "--auth-token-ttl=" + std::to_string(seconds)};
    start_etcd(std::move(options));
    if (!etcd_) return;
    try {
      etcd_->enable_auth(kRootPassword);
    } catch (const std::exception& e) {
      start_error_ = e.what();
      etcd_.reset();
    }
  }

  void SetUp() override {
    EtcdTest::SetUp();
    // With credentials the client re-authenticates by itself once its token has expired.
    auto writer = client_options({etcd().endpoint()});
    writer.username = "root";
    writer.password = kRootPassword;
    client_ = std::make_unique<Etcd3Client>(writer);
  }

  Etcd3Options options(std::chrono::seconds ttl) const {
    Etcd3Options o;
    o.endpoints = {etcd_->endpoint()};
    o.username = "root";
    o.password = kRootPassword;
    o.namespace_ = "/itest-cache-auth/";
    o.scope = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    o.name = "b";
    o.ttl = ttl;
    o.loop_wait = 2s;
    o.retry_timeout = 4s;
    o.startup_timeout = 10s;
    return o;
  }

  // After the token died: the cache re-opens its stream with it, is refused, gets a new token and
  // follows changes again.
  void expect_recovery(Etcd3& b, std::uint64_t renewals_before) {
    EXPECT_TRUE(eventually([&] { return b.kv_cache()->health().token_renewals > renewals_before; }))
        << "the refused stream was not resumed with a new token; last error: " << b.kv_cache()->health().last_error;
    ASSERT_TRUE(eventually([&] { return b.kv_cache()->ready(); }))
        << "not ready again; last error: " << b.kv_cache()->health().last_error;
    put(b.leader_path(), "after");
    EXPECT_TRUE(eventually([&] { return b.get_cluster()->leader_name() == "after"; }))
        << "a change made after the recovery never reached the cache; last error: "
        << b.kv_cache()->health().last_error;
    put(b.members_path() + "x", R"({"state":"running"})");
    EXPECT_TRUE(eventually([&] { return b.get_cluster()->has_member("x"); }));
  }
};

TEST_F(KVCacheAuth, RecoversWhenItsTokenExpiresWhileWatching) {
  // ttl 12 s: the quiet stream is re-opened every 2 s, by then the 1 s token has expired.
  Etcd3 b(options(12s));
  ASSERT_TRUE(eventually([&] { return b.kv_cache()->ready(); })) << b.kv_cache()->health().last_error;
  put(b.leader_path(), "before");
  ASSERT_TRUE(eventually([&] { return b.get_cluster()->leader_name() == "before"; }));
  const auto before = b.kv_cache()->health();
  // Nothing uses b's token from here on; the stream goes quiet and is re-opened on a dead token.
  EXPECT_TRUE(eventually([&] { return b.kv_cache()->health().streams >= before.streams + 2; }))
      << "the quiet stream was never re-opened";
  expect_recovery(b, before.token_renewals);
}

// Tokens that would live for minutes: only the revocation can kill the cache's.
class KVCacheAuthLongToken : public KVCacheAuth {
 protected:
  static void SetUpTestSuite() { start_with_token_ttl(300); }
};

TEST_F(KVCacheAuthLongToken, RecoversWhenItsTokenIsRevokedByAPasswordChange) {
  Etcd3 b(options(6s));
  ASSERT_TRUE(eventually([&] { return b.kv_cache()->ready(); })) << b.kv_cache()->health().last_error;
  const auto before = b.kv_cache()->health();
  // Setting the same password again invalidates every token of the user (and the cached
  // permissions) while the credentials the cache holds stay valid.
  const std::string root_token = etcd().authenticate("root", kRootPassword);
  const auto changed = etcd().post("/v3/auth/user/changepw",
                                   std::string(R"({"name":"root","password":")") + kRootPassword + R"("})", root_token);
  ASSERT_EQ(changed.status, 200) << changed.body;
  expect_recovery(b, before.token_renewals);
}

// A watch re-opened on an expired token is cancelled by etcd; the cache gets a new token with one
// small request and re-opens the stream from the next revision at once, still ready: no relist,
// not a moment not-ready, on a quiet cluster whose token lapses between any two quiet re-opens (a
// simple token idle longer than its TTL, or a JWT past its fixed expiry).
TEST_F(KVCacheAuth, StaysReadyWhenItsTokenExpiresOnAQuietCluster) {
  Etcd3 b(options(12s));  // quiet re-opens every 2 s, the token dies after 1 s idle
  ASSERT_TRUE(eventually([&] { return b.kv_cache()->ready(); })) << b.kv_cache()->health().last_error;
  const auto before = b.kv_cache()->health();
  int polls = 0, not_ready = 0;
  const auto end = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < end) {
    ++polls;
    if (!b.kv_cache()->ready()) ++not_ready;
    std::this_thread::sleep_for(10ms);
  }
  const auto after = b.kv_cache()->health();
  EXPECT_GE(after.streams, before.streams + 3) << "the quiet stream was re-opened";
  EXPECT_EQ(not_ready, 0) << "not ready in " << not_ready << " of " << polls << " polls; " << after.last_error;
  EXPECT_EQ(after.rebuilds, before.rebuilds) << "relisted for an expired token";
  EXPECT_GE(after.token_renewals, before.token_renewals + 2) << "the token lapsed at every quiet re-open";
}

}  // namespace
}  // namespace dcs::itest
