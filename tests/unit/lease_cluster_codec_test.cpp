// Lease, cluster, maintenance, auth and version codecs: request bodies and recorded answers.
#include <gtest/gtest.h>

#include "codec/cluster_codec.hpp"
#include "codec/lease_codec.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::codec {
namespace {

using namespace dcs::etcd3;
namespace rec = dcs::test::recorded;

TEST(LeaseCodec, GrantUsesUpperCaseTtlAndId) {
  // etcd ignores a lower-case "ttl" and silently grants its minimum TTL (lease1.txt).
  const json body = encode_lease_grant(30, 0);
  EXPECT_EQ(body, json::parse(R"({"TTL":"30"})"));
  EXPECT_FALSE(body.contains("ttl"));
  EXPECT_FALSE(body.contains("ID")) << "ID 0 lets the server pick";
  EXPECT_EQ(encode_lease_grant(5, 1000), json::parse(R"({"TTL":"5","ID":"1000"})"));
}

TEST(LeaseCodec, IdBodies) {
  EXPECT_EQ(encode_lease_id(5189732357884290374), json::parse(R"({"ID":"5189732357884290374"})"));
  EXPECT_EQ(encode_lease_time_to_live(1000, false), json::parse(R"({"ID":"1000"})"));
  EXPECT_EQ(encode_lease_time_to_live(1000, true), json::parse(R"({"ID":"1000","keys":true})"));
}

TEST(LeaseCodec, DecodesGrant) {
  const auto grant = decode_lease_grant_response(json::parse(rec::kLeaseGrant));
  EXPECT_EQ(grant.id, 5189732357884290374);
  EXPECT_EQ(grant.ttl, 30);
  EXPECT_EQ(grant.header.revision, 18);
  EXPECT_THROW(decode_lease_grant_response(json::parse(R"({"header":{},"TTL":"30"})")), DecodeError)
      << "a grant without an ID is not a grant";
}

TEST(LeaseCodec, DecodesKeepAliveOfALiveAndOfAVanishedLease) {
  const auto alive = decode_lease_keepalive_message(json::parse(rec::kLeaseKeepAlive));
  EXPECT_EQ(alive.id, 2000);
  EXPECT_EQ(alive.ttl, 60);
  EXPECT_TRUE(alive.alive());

  const auto gone = decode_lease_keepalive_message(json::parse(rec::kLeaseKeepAliveGone));
  EXPECT_EQ(gone.id, 4242);
  EXPECT_EQ(gone.ttl, 0);
  EXPECT_FALSE(gone.alive());

  EXPECT_THROW(decode_lease_keepalive_message(json::parse(R"({"ID":"1"})")), DecodeError) << "no result";
}

TEST(LeaseCodec, DecodesTimeToLive) {
  const auto with_keys = decode_lease_time_to_live_response(json::parse(rec::kLeaseTimeToLiveKeys));
  EXPECT_EQ(with_keys.id, 1000);
  EXPECT_EQ(with_keys.ttl, 4);
  EXPECT_EQ(with_keys.granted_ttl, 5);
  EXPECT_EQ(with_keys.keys, std::vector<std::string>{"lk"});

  const auto missing = decode_lease_time_to_live_response(json::parse(rec::kLeaseTimeToLiveMissing));
  EXPECT_EQ(missing.ttl, -1);
  EXPECT_EQ(missing.granted_ttl, 0);
  EXPECT_TRUE(missing.keys.empty());

  EXPECT_THROW(decode_lease_time_to_live_response(json::parse(R"({"keys":[1]})")), DecodeError);
}

TEST(ClusterCodec, DecodesMemberListWithUnstartedLearnerAndHugeIds) {
  const auto list = decode_member_list_response(json::parse(rec::kMemberListWithLearner));
  EXPECT_EQ(list.header.revision, 0) << "member list headers carry no revision";
  EXPECT_EQ(list.header.raft_term, 3u);
  ASSERT_EQ(list.members.size(), 4u);
  EXPECT_EQ(list.members[0].id, 1467786552160419915ULL);
  EXPECT_EQ(list.members[0].name, "m1");
  EXPECT_EQ(list.members[0].client_urls, std::vector<std::string>{"http://127.0.0.1:25379"});
  EXPECT_FALSE(list.members[0].is_learner);
  EXPECT_EQ(list.members[1].id, 2942762430644766975ULL);
  EXPECT_EQ(list.members[1].name, "");
  EXPECT_TRUE(list.members[1].client_urls.empty());
  EXPECT_EQ(list.members[1].peer_urls, std::vector<std::string>{"http://127.0.0.1:25410"});
  EXPECT_TRUE(list.members[1].is_learner);
  EXPECT_EQ(list.members[3].id, 13788177485651825848ULL) << "above 2^63, exact";

  EXPECT_THROW(decode_member_list_response(json::parse(R"({"members":[{"clientURLs":[1]}]})")), DecodeError);
}

TEST(ClusterCodec, DecodesStatus) {
  const auto status = decode_status_response(json::parse(rec::kStatus));
  EXPECT_EQ(status.version, "3.4.23");
  EXPECT_EQ(status.db_size, 3043328);
  EXPECT_EQ(status.leader, 17184946936886216709ULL);
  EXPECT_EQ(status.raft_index, 33u);
  EXPECT_EQ(status.raft_term, 2u);
  EXPECT_EQ(status.raft_applied_index, 33u);
  EXPECT_EQ(status.db_size_in_use, 28672);
  EXPECT_TRUE(status.errors.empty());
  EXPECT_FALSE(status.is_learner);

  const auto no_leader = decode_status_response(json::parse(rec::kStatusNoLeader));
  EXPECT_EQ(no_leader.leader, 0u) << "absent leader: none known";
  EXPECT_EQ(no_leader.errors, std::vector<std::string>{"etcdserver: no leader"});
}

TEST(ClusterCodec, DecodesAuthenticateAndRequiresAToken) {
  EXPECT_EQ(decode_authenticate_response(json::parse(rec::kAuthenticate)).token, "ZgcPPEMxYWkbeqfA.20");
  EXPECT_THROW(decode_authenticate_response(json::parse(R"({"header":{}})")), DecodeError);
}

TEST(ClusterCodec, DecodesVersion) {
  const auto info = decode_version_response(json::parse(R"({"etcdserver":"3.4.23","etcdcluster":"3.4.0"})"));
  EXPECT_EQ(info.server, "3.4.23");
  EXPECT_EQ(info.cluster, "3.4.0");
  EXPECT_THROW(decode_version_response(json::parse(R"({"etcdserver":"3.4.23"})")), DecodeError);
  EXPECT_THROW(decode_version_response(json::parse(R"({"etcdserver":3,"etcdcluster":"3.4.0"})")), DecodeError);
}

TEST(ClusterCodec, ParsesVersionNumbers) {
  EXPECT_EQ(parse_etcd_version("3.4.23"), (EtcdVersion{3, 4, 23}));
  EXPECT_EQ(parse_etcd_version("3.5.0-rc.1"), (EtcdVersion{3, 5, 0}));
  EXPECT_EQ(parse_etcd_version("3.6"), (EtcdVersion{3, 6, 0}));
  EXPECT_EQ(parse_etcd_version("3.0.4"), (EtcdVersion{3, 0, 4}));
  EXPECT_EQ(parse_etcd_version("not a version"), std::nullopt);
  EXPECT_EQ(parse_etcd_version(""), std::nullopt);
  EXPECT_LT((EtcdVersion{3, 0, 3}), (EtcdVersion{3, 0, 4}));
  EXPECT_LT((EtcdVersion{3, 3, 13}), (EtcdVersion{3, 4, 0}));
}

}  // namespace
}  // namespace dcs::codec
