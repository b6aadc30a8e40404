// Bodies copied verbatim from the recorded live etcd 3.4.23 traffic
// (/work/shared/spec/etcd-v3-json-api-observations.txt), plus the error shapes of the other
// etcd versions described in etcd-v3-json-api.md section 9.
#pragma once

#include <string_view>

namespace dcs::test::recorded {

// ---- kv1.txt / kv2.txt / del.txt / compact.txt ----
inline constexpr std::string_view kPutPlain =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"2","raft_term":"2"}})";
inline constexpr std::string_view kPutPrevKv =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"3","raft_term":"2"},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}})";
inline constexpr std::string_view kRangeFoo =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"5","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"4","version":"3","value":"YmFyMg=="}],"count":"1"})";
/// A key whose value is empty: no "value" field at all.
inline constexpr std::string_view kRangeEmptyValue =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"5","raft_term":"2"},"kvs":[{"key":"ZW1wdHl2YWw=","create_revision":"5","mod_revision":"5","version":"1"}],"count":"1"})";
/// A missing key: no kvs, no count.
inline constexpr std::string_view kRangeMissing =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"5","raft_term":"2"}})";
inline constexpr std::string_view kRangeCountOnly =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"5","raft_term":"2"},"count":"1"})";
inline constexpr std::string_view kRangePrefixLimit2 =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"9","raft_term":"2"},"kvs":[{"key":"YS8x","create_revision":"6","mod_revision":"6","version":"1","value":"di1hLzE="},{"key":"YS8y","create_revision":"7","mod_revision":"7","version":"1","value":"di1hLzI="}],"more":true,"count":"3"})";
inline constexpr std::string_view kRangeWithLease =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"19","raft_term":"2"},"kvs":[{"key":"bGs=","create_revision":"19","mod_revision":"19","version":"1","value":"bHY=","lease":"1000"}],"count":"1"})";
inline constexpr std::string_view kRangeBinaryKey =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"31","raft_term":"2"},"kvs":[{"key":"/wABaw==","create_revision":"31","mod_revision":"31","version":"1","value":"AP4="}],"count":"1"})";
inline constexpr std::string_view kDeleteMissing =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"9","raft_term":"2"}})";
inline constexpr std::string_view kDeletePrevKvs =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"10","raft_term":"2"},"deleted":"1","prev_kvs":[{"key":"Yi8x","create_revision":"9","mod_revision":"9","version":"1","value":"di1iLzE="}]})";
inline constexpr std::string_view kCompaction =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"18","raft_term":"2"}})";
inline constexpr std::string_view kStatus =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"18","raft_term":"2"},"version":"3.4.23","dbSize":"3043328","leader":"17184946936886216709","raftIndex":"33","raftTerm":"2","raftAppliedIndex":"33","dbSizeInUse":"28672"})";
/// No quorum: no leader, an error list.
inline constexpr std::string_view kStatusNoLeader =
    R"({"header":{"cluster_id":"8383292884484315934","member_id":"11400007924284601153","revision":"4","raft_term":"2"},"version":"3.4.23","dbSize":"20480","raftIndex":"13","raftTerm":"2","raftAppliedIndex":"13","errors":["etcdserver: no leader"],"dbSizeInUse":"16384"})";

// ---- txn1.txt / txn3.txt ----
inline constexpr std::string_view kTxnSucceededPut =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"12","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"12"}}}]})";
/// Compare failed: no "succeeded", the failure branch's range ran.
inline constexpr std::string_view kTxnFailedRange =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"12","raft_term":"2"},"responses":[{"response_range":{"header":{"revision":"12"},"kvs":[{"key":"dHhr","create_revision":"12","mod_revision":"12","version":"1","value":"djE="}],"count":"1"}}]})";
inline constexpr std::string_view kTxnThreeOps =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"13","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"13"},"prev_kv":{"key":"dHhr","create_revision":"12","mod_revision":"12","version":"1","value":"djE="}}},{"response_range":{"header":{"revision":"13"},"kvs":[{"key":"dHhr","create_revision":"12","mod_revision":"13","version":"2","value":"djI="}],"count":"1"}},{"response_delete_range":{"header":{"revision":"13"}}}]})";
/// Compare failed and the failure branch was empty: only a header.
inline constexpr std::string_view kTxnFailedEmpty =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"13","raft_term":"2"}})";
inline constexpr std::string_view kTxnNested =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"32","raft_term":"2"},"succeeded":true,"responses":[{"response_txn":{"header":{},"succeeded":true,"responses":[{"response_range":{"header":{"revision":"32"},"count":"1"}}]}}]})";

// ---- lease1.txt / lease2.txt ----
inline constexpr std::string_view kLeaseGrant =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"18","raft_term":"2"},"ID":"5189732357884290374","TTL":"30"})";
inline constexpr std::string_view kLeaseKeepAlive =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"19","raft_term":"2"},"ID":"2000","TTL":"60"}})"
    "\n";
/// The lease no longer exists: no TTL.
inline constexpr std::string_view kLeaseKeepAliveGone =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"19","raft_term":"2"},"ID":"4242"}})"
    "\n";
inline constexpr std::string_view kLeaseRevoke =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"20","raft_term":"2"}})";
inline constexpr std::string_view kLeaseTimeToLiveKeys =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"19","raft_term":"2"},"ID":"1000","TTL":"4","grantedTTL":"5","keys":["bGs="]})";
inline constexpr std::string_view kLeaseTimeToLiveMissing =
    R"({"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"19","raft_term":"2"},"ID":"4242","TTL":"-1"})";

// ---- members.txt / cluster1.txt / auth2.txt ----
/// Member list with a learner that has not started (no name, no clientURLs); header without
/// revision.
inline constexpr std::string_view kMemberListWithLearner =
    R"({"header":{"cluster_id":"9415489580807235202","member_id":"1467786552160419915","raft_term":"3"},"members":[{"ID":"1467786552160419915","name":"m1","peerURLs":["http://127.0.0.1:25380"],"clientURLs":["http://127.0.0.1:25379"]},{"ID":"2942762430644766975","peerURLs":["http://127.0.0.1:25410"],"isLearner":true},{"ID":"3734583120830872579","name":"m3","peerURLs":["http://127.0.0.1:25400"],"clientURLs":["http://127.0.0.1:25399"]},{"ID":"13788177485651825848","name":"m2","peerURLs":["http://127.0.0.1:25390"],"clientURLs":["http://127.0.0.1:25389"]}]})";
inline constexpr std::string_view kAuthenticate =
    R"({"header":{"cluster_id":"13031016380352892281","member_id":"735143516750095108","revision":"1","raft_term":"2"},"token":"ZgcPPEMxYWkbeqfA.20"})";
inline constexpr std::string_view kAuthPut =
    R"({"header":{"cluster_id":"13031016380352892281","member_id":"735143516750095108","revision":"2","raft_term":"2"}})";

// ---- unary errors (3.4 shape, recorded) ----
inline constexpr std::string_view kErrLeaseNotFound =
    R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})";
inline constexpr std::string_view kErrRequestTimedOut =
    R"({"error":"etcdserver: request timed out","message":"etcdserver: request timed out","code":14})";
inline constexpr std::string_view kErrContextDeadline =
    R"({"error":"context deadline exceeded","message":"context deadline exceeded","code":2})";
inline constexpr std::string_view kErrCompacted =
    R"({"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11})";
inline constexpr std::string_view kErrNoSpace =
    R"({"error":"etcdserver: mvcc: database space exceeded","message":"etcdserver: mvcc: database space exceeded","code":8})";
inline constexpr std::string_view kErrAuthFailed =
    R"({"error":"etcdserver: authentication failed, invalid user ID or password","message":"etcdserver: authentication failed, invalid user ID or password","code":3})";
inline constexpr std::string_view kErrInvalidToken =
    R"({"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16})";
/// Any request carrying `Grpc-Metadata-hasleader: true` to a member without a leader (HTTP 503).
inline constexpr std::string_view kErrNoLeader =
    R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})";
inline constexpr std::string_view kErrUserEmpty =
    R"({"error":"etcdserver: user name is empty","message":"etcdserver: user name is empty","code":3})";

// ---- watch1.raw / watch2.raw / watch_shutdown.raw / ws_watch.txt / etcd-v3-json-api.md 6.10 ----
inline constexpr std::string_view kWatchCreated =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"20","raft_term":"2"},"created":true}})"
    "\n";
inline constexpr std::string_view kWatchPut =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"21","raft_term":"2"},"events":[{"kv":{"key":"d2s=","create_revision":"21","mod_revision":"21","version":"1","value":"dzE="}}]}})"
    "\n";
inline constexpr std::string_view kWatchPutPrevKv =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"22","raft_term":"2"},"events":[{"kv":{"key":"d2s=","create_revision":"21","mod_revision":"22","version":"2","value":"dzI="},"prev_kv":{"key":"d2s=","create_revision":"21","mod_revision":"21","version":"1","value":"dzE="}}]}})"
    "\n";
inline constexpr std::string_view kWatchDelete =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"23","raft_term":"2"},"events":[{"type":"DELETE","kv":{"key":"d2s=","mod_revision":"23"},"prev_kv":{"key":"d2s=","create_revision":"21","mod_revision":"22","version":"2","value":"dzI="}}]}})"
    "\n";
inline constexpr std::string_view kWatchPut24 =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"24","raft_term":"2"},"events":[{"kv":{"key":"d2s=","create_revision":"24","mod_revision":"24","version":"1","value":"dDE="}}]}})"
    "\n";
/// Batched historical replay (watch2.raw): four events, header revision is the store's.
inline constexpr std::string_view kWatchReplay =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"24","raft_term":"2"},"events":[{"kv":{"key":"d2s=","create_revision":"21","mod_revision":"21","version":"1","value":"dzE="}},{"kv":{"key":"d2s=","create_revision":"21","mod_revision":"22","version":"2","value":"dzI="}},{"type":"DELETE","kv":{"key":"d2s=","mod_revision":"23"}},{"kv":{"key":"d2s=","create_revision":"24","mod_revision":"24","version":"1","value":"dDE="}}]}})"
    "\n";
inline constexpr std::string_view kWatchWithId77 =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"25","raft_term":"2"},"watch_id":"77","events":[{"kv":{"key":"d2sy","create_revision":"24","mod_revision":"25","version":"2","value":"eg=="}}]}})"
    "\n";
/// A progress notification: header only.
inline constexpr std::string_view kWatchProgress =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","revision":"29","raft_term":"2"}}})"
    "\n";
/// The start revision was compacted; etcd keeps the stream open afterwards.
inline constexpr std::string_view kWatchCompacted =
    R"({"result":{"header":{"cluster_id":"8443091972210274032","member_id":"17184946936886216709","raft_term":"2"},"watch_id":"1","canceled":true,"compact_revision":"17"}})"
    "\n";
/// A watch created without permission (auth on).
inline constexpr std::string_view kWatchAuthCanceled =
    R"({"result":{"header":{"cluster_id":"13031016380352892281","member_id":"735143516750095108","revision":"3","raft_term":"2"},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"rpc error: code = PermissionDenied desc = etcdserver: permission denied"}})"
    "\n";
/// Graceful server stop (gw v1): no trailing newline.
inline constexpr std::string_view kWatchShutdownError =
    R"({"error":{"grpc_code":14,"http_code":503,"message":"transport is closing","http_status":"Service Unavailable"}})";
/// A watch opened with hasleader on a member that then lost its leader: after about three
/// election timeouts etcd ends the stream with this (HTTP 200, no trailing newline). A watch
/// opened while the member has no leader gets the same body with HTTP 503 instead.
inline constexpr std::string_view kWatchNoLeaderError =
    R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})";
/// The 3.6 (gw v2) stream error, with its delimiter.
inline constexpr std::string_view kWatchShutdownError36 =
    "{\"error\":{\"code\":14,\"message\":\"transport is closing\"}}\n";

}  // namespace dcs::test::recorded
