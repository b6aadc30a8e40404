// Endpoint failover against a real three-member etcd cluster: the member in use is killed or
// frozen and the client carries on with another member, sticks to it and tells its listener.
#include <signal.h>

#include <atomic>
#include <chrono>

#include "etcd_fixture.hpp"

namespace dcs::itest {
namespace {

class FailoverTest : public EtcdTest {
 protected:
  static void SetUpTestSuite() {
    EtcdProcess::Options options;
    options.members = 3;
    start_etcd(std::move(options));
  }

  void SetUp() override {
    EtcdTest::SetUp();
    client_ = std::make_unique<Etcd3Client>(client_options(etcd().endpoints(), std::chrono::seconds(10)));
    client().set_endpoint_listener([this](const std::string& endpoint) {
      std::lock_guard lock(listener_mutex_);
      switches_.push_back(endpoint);
    });
    lease_ = client().lease_grant(30).id;
  }

  void TearDown() override {
    // Heal whatever the test broke, so the next test starts with three members.
    if (stopped_ >= 0) etcd().signal(static_cast<std::size_t>(stopped_), SIGCONT);
    stopped_ = -1;
    etcd().restart_stopped();
  }

  std::size_t member_in_use() {
    const std::string in_use = client().current_endpoint();
    for (std::size_t m = 0; m < etcd().size(); ++m) {
      if (etcd().endpoint(m) == in_use) return m;
    }
    ADD_FAILURE() << "the client uses " << in_use << ", which is no member";
    return 0;
  }

  std::vector<std::string> switches() {
    std::lock_guard lock(listener_mutex_);
    return switches_;
  }

  std::int64_t lease_ = 0;
  int stopped_ = -1;
  std::mutex listener_mutex_;
  std::vector<std::string> switches_;
};

TEST_F(FailoverTest, ClientLearnsEveryMemberFromTheMemberList) {
  client().lease_keepalive(lease_);
  auto known = client().endpoints();
  auto expected = etcd().endpoints();
  std::sort(known.begin(), known.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(known, expected);
}

TEST_F(FailoverTest, MemberRestartedOnANewAddressIsLearntFromTheMemberList) {
  client().lease_keepalive(lease_);
  const std::size_t mover = (member_in_use() + 1) % etcd().size();
  const std::string old_url = etcd().endpoint(mover);
  etcd().signal(mover, SIGKILL);
  etcd().restart_on_new_client_port(mover);
  const std::string new_url = etcd().endpoint(mover);
  ASSERT_NE(new_url, old_url);

  ASSERT_TRUE(client().refresh_endpoints());
  const auto known = client().endpoints();
  EXPECT_NE(std::find(known.begin(), known.end(), new_url), known.end()) << "the new address is known";
  EXPECT_EQ(std::find(known.begin(), known.end(), old_url), known.end()) << "the old one is forgotten";
  EXPECT_TRUE(client().lease_keepalive(lease_).alive());
}

TEST_F(FailoverTest, KilledMemberInUseIsReplacedAndTheNewOneSticks) {
  ASSERT_TRUE(client().lease_keepalive(lease_).alive());
  const std::size_t victim = member_in_use();
  const std::string victim_url = etcd().endpoint(victim);
  etcd().signal(victim, SIGKILL);

  EXPECT_TRUE(client().lease_keepalive(lease_).alive()) << "the next keepalive succeeds on another member";
  const std::string now_in_use = client().current_endpoint();
  EXPECT_NE(now_in_use, victim_url);
  ASSERT_FALSE(switches().empty()) << "the listener hears about the switch";
  EXPECT_EQ(switches().back(), now_in_use);

  // Sticky: later requests stay on the new member even after the old one is back.
  etcd().restart(victim);
  put(key("after"), "v");
  EXPECT_EQ(client().current_endpoint(), now_in_use);
}

TEST_F(FailoverTest, FrozenMemberInUseIsRacedAndLeftBehind) {
  ASSERT_TRUE(client().lease_keepalive(lease_).alive());
  const std::size_t victim = member_in_use();
  const std::string victim_url = etcd().endpoint(victim);
  etcd().signal(victim, SIGSTOP);
  stopped_ = static_cast<int>(victim);

  // The frozen member accepts connections and never answers; the call must still succeed.
  EXPECT_TRUE(client().lease_keepalive(lease_).alive());
  EXPECT_NE(client().current_endpoint(), victim_url);
  // Reads are raced too, and a write (not raced) goes to the member now in use.
  EXPECT_NO_THROW(get(key("x")));
  EXPECT_NO_THROW(put(key("x"), "v"));
  EXPECT_NE(client().current_endpoint(), victim_url);
}

TEST_F(FailoverTest, AllMembersDownFailsWithinTheBudgetAndRecovers) {
  client_ = std::make_unique<Etcd3Client>(client_options(etcd().endpoints(), std::chrono::seconds(3)));
  ASSERT_NO_THROW(get(key("x")));
  for (std::size_t m = 0; m < etcd().size(); ++m) etcd().signal(m, SIGKILL);

  const auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(get(key("x")), EtcdConnectionFailed);
  // A correctness bound (the call never outlives its budget by much), not a performance figure.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(6));

  etcd().restart_stopped();
  EXPECT_TRUE(eventually([&] {
    try {
      get(key("x"));
      return true;
    } catch (const EtcdException&) {
      return false;
    }
  })) << "the same client works again once etcd is back";
}

}  // namespace
}  // namespace dcs::itest
