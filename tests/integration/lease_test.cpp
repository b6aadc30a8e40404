// Leases against a real etcd: grant, keepalive, time-to-live, revoke and expiry.
#include <algorithm>
#include <random>

#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using LeaseTest = EtcdTest;

std::int64_t random_lease_id() {
  std::random_device device;
  std::uniform_int_distribution<std::int64_t> distribution(1'000'000, 1'000'000'000);
  return distribution(device);
}

TEST_F(LeaseTest, GrantReturnsIdAndTtl) {
  const LeaseGrantResponse lease = client().lease_grant(30);
  EXPECT_GT(lease.id, 0);
  EXPECT_EQ(lease.ttl, 30);
  EXPECT_GT(lease.header.revision, 0);
  client().lease_revoke(lease.id);
}

TEST_F(LeaseTest, GrantWithChosenIdAndDuplicateId) {
  const std::int64_t id = random_lease_id();
  const LeaseGrantResponse lease = client().lease_grant(30, id);
  EXPECT_EQ(lease.id, id);
  EXPECT_EQ(lease.ttl, 30);
  try {
    client().lease_grant(30, id);
    FAIL() << "a duplicate lease id was accepted";
  } catch (const FailedPrecondition& e) {
    EXPECT_EQ(e.code(), GRPCCode::FailedPrecondition);
    EXPECT_NE(e.error().find("lease already exists"), std::string::npos) << e.error();
  }
  client().lease_revoke(id);
}

TEST_F(LeaseTest, TtlBelowTheMinimumIsRaised) {
  const LeaseGrantResponse lease = client().lease_grant(1);
  EXPECT_GE(lease.ttl, 1);  // etcd's minimum (2 s with default election timeouts) or more
  client().lease_revoke(lease.id);
}

TEST_F(LeaseTest, TooLargeTtlIsOutOfRange) {
  try {
    client().lease_grant(9'000'000'001LL);
    FAIL() << "a huge TTL was accepted";
  } catch (const Etcd3ClientError& e) {
    EXPECT_EQ(e.code(), GRPCCode::OutOfRange);
  }
}

TEST_F(LeaseTest, KeepaliveRefreshesALiveLease) {
  const LeaseGrantResponse lease = client().lease_grant(30);
  const LeaseKeepAliveResponse refreshed = client().lease_keepalive(lease.id);
  EXPECT_TRUE(refreshed.alive());
  EXPECT_EQ(refreshed.id, lease.id);
  EXPECT_EQ(refreshed.ttl, 30);
  EXPECT_GT(refreshed.header.revision, 0);
  client().lease_revoke(lease.id);
}

TEST_F(LeaseTest, TimeToLiveReportsTtlAndKeys) {
  const LeaseGrantResponse lease = client().lease_grant(60);
  put(key("a"), "1", lease.id);
  put(key("b"), "2", lease.id);

  const LeaseTimeToLiveResponse with_keys = client().lease_time_to_live(lease.id, /*keys=*/true);
  EXPECT_EQ(with_keys.id, lease.id);
  EXPECT_EQ(with_keys.granted_ttl, 60);
  EXPECT_GT(with_keys.ttl, 0);
  EXPECT_LE(with_keys.ttl, 60);
  std::vector<std::string> keys = with_keys.keys;
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{key("a"), key("b")}));

  const LeaseTimeToLiveResponse without_keys = client().lease_time_to_live(lease.id);
  EXPECT_TRUE(without_keys.keys.empty());
  EXPECT_EQ(without_keys.granted_ttl, 60);
  client().lease_revoke(lease.id);
}

TEST_F(LeaseTest, TimeToLiveOfUnknownLeaseIsMinusOne) {
  const LeaseTimeToLiveResponse unknown = client().lease_time_to_live(random_lease_id());
  EXPECT_EQ(unknown.ttl, -1);
}

TEST_F(LeaseTest, RevokeDeletesAttachedKeysAndEndsTheLease) {
  const LeaseGrantResponse lease = client().lease_grant(60);
  put(key("attached"), "v", lease.id);
  put(key("free"), "v");

  const LeaseRevokeResponse revoked = client().lease_revoke(lease.id);
  EXPECT_GT(revoked.header.revision, 0);
  EXPECT_TRUE(get(key("attached")).kvs.empty());
  EXPECT_EQ(get(key("free")).kvs.size(), 1u);

  EXPECT_EQ(client().lease_time_to_live(lease.id).ttl, -1);
  EXPECT_FALSE(client().lease_keepalive(lease.id).alive());
  try {
    client().lease_revoke(lease.id);
    FAIL() << "revoking twice was accepted";
  } catch (const LeaseNotFound& e) {
    EXPECT_EQ(e.code(), GRPCCode::NotFound);
  }
}

TEST_F(LeaseTest, KeepaliveOfUnknownLeaseIsNotAlive) {
  const LeaseKeepAliveResponse response = client().lease_keepalive(random_lease_id());
  EXPECT_FALSE(response.alive());
  EXPECT_EQ(response.ttl, 0);
}

TEST_F(LeaseTest, PutWithUnknownLeaseIsLeaseNotFound) {
  EXPECT_THROW(put(key("k"), "v", random_lease_id()), LeaseNotFound);
}

TEST_F(LeaseTest, ExpiredLeaseDeletesItsKeyAndCannotBeKeptAlive) {
  const LeaseGrantResponse lease = client().lease_grant(2);
  ASSERT_GT(lease.id, 0);
  put(key("expiring"), "v", lease.id);
  ASSERT_EQ(get(key("expiring")).kvs.size(), 1u);

  // No refresh from here on. etcd may raise the TTL to its minimum and checks expiry every
  // 500 ms, so poll with a generous bound.
  const bool gone = eventually([&] { return get(key("expiring")).kvs.empty(); }, std::chrono::seconds{15});
  ASSERT_TRUE(gone) << "the key of an unrefreshed 2 s lease still exists after 15 s";

  const LeaseKeepAliveResponse late = client().lease_keepalive(lease.id);
  EXPECT_FALSE(late.alive());
  EXPECT_EQ(client().lease_time_to_live(lease.id).ttl, -1);
}

}  // namespace
}  // namespace dcs::itest
