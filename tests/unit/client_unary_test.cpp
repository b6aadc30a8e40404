// Etcd3Client's unary calls against the in-process mock: recorded answers decode to the values a
// caller reads, etcd errors and non-etcd answers become the documented exceptions, and the
// transport keeps one connection alive.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codec/base64.hpp"
#include "dcs/etcd3/client.hpp"
#include "unit/mock_etcd_server.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::etcd3 {
namespace {

using dcs::test::CannedResponse;
using dcs::test::MockEtcdServer;
using dcs::test::options_for;
using dcs::test::RecordedRequest;
using nlohmann::json;
namespace rec = dcs::test::recorded;

// A loopback port nothing listens on.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("cannot bind a probe socket");
  }
  socklen_t length = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

RangeRequest key(std::string k) {
  RangeRequest r;
  r.key = std::move(k);
  return r;
}

class ClientUnary : public ::testing::Test {
 protected:
  MockEtcdServer server;
  Etcd3Client client{options_for(server)};
};

TEST_F(ClientUnary, RangeDecodesARecordedAnswer) {
  server.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  const RangeResponse r = client.range(key("foo"));
  EXPECT_EQ(r.header.cluster_id, 8443091972210274032ULL);
  EXPECT_EQ(r.header.member_id, 17184946936886216709ULL);
  EXPECT_EQ(r.header.revision, 5);
  EXPECT_EQ(r.header.raft_term, 2u);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0], (KeyValue{"foo", "bar2", 2, 4, 3, 0}));
  EXPECT_EQ(r.count, 1);
  EXPECT_FALSE(r.more);

  const RecordedRequest sent = server.last_request_to("/v3/kv/range");
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.header("Content-Type"), "application/json");
}

TEST_F(ClientUnary, AMissingKeyIsAnEmptyAnswerNotAnError) {
  server.answer("/v3/kv/range", 200, std::string(rec::kRangeMissing));
  const RangeResponse r = client.range(key("missing"));
  EXPECT_TRUE(r.kvs.empty());
  EXPECT_EQ(r.count, 0);
  EXPECT_EQ(r.header.revision, 5);
}

TEST_F(ClientUnary, PutDeleteTxnAndCompactDecode) {
  server.answer("/v3/kv/put", 200, std::string(rec::kPutPrevKv));
  server.answer("/v3/kv/deleterange", 200, std::string(rec::kDeletePrevKvs));
  server.answer("/v3/kv/txn", 200, std::string(rec::kTxnFailedRange));
  server.answer("/v3/kv/compaction", 200, std::string(rec::kCompaction));

  PutRequest put;
  put.key = "foo";
  put.value = "bar2";
  put.prev_kv = true;
  const PutResponse p = client.put(put);
  ASSERT_TRUE(p.prev_kv.has_value());
  EXPECT_EQ(p.prev_kv->value, "bar");
  EXPECT_EQ(p.header.revision, 3);

  DeleteRangeRequest del;
  del.key = "b/1";
  const DeleteRangeResponse d = client.delete_range(del);
  EXPECT_EQ(d.deleted, 1);
  ASSERT_EQ(d.prev_kvs.size(), 1u);
  EXPECT_EQ(d.prev_kvs[0].key, "b/1");

  const TxnResponse t = client.txn(TxnRequest{});
  EXPECT_FALSE(t.succeeded) << "absent 'succeeded' means the compares failed";
  ASSERT_EQ(t.responses.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<RangeResponse>(t.responses[0].response));

  EXPECT_EQ(client.compact(CompactionRequest{16, false}).revision, 18);
}

TEST_F(ClientUnary, LeaseCallsDecode) {
  server.answer("/v3/lease/grant", 200, std::string(rec::kLeaseGrant));
  server.answer("/v3/lease/keepalive", 200, std::string(rec::kLeaseKeepAlive));
  server.answer("/v3/lease/revoke", 200, std::string(rec::kLeaseRevoke));
  server.answer("/v3/lease/timetolive", 200, std::string(rec::kLeaseTimeToLiveKeys));

  const LeaseGrantResponse grant = client.lease_grant(30);
  EXPECT_EQ(grant.id, 5189732357884290374);
  EXPECT_EQ(grant.ttl, 30);

  const LeaseKeepAliveResponse alive = client.lease_keepalive(2000);
  EXPECT_TRUE(alive.alive());
  EXPECT_EQ(alive.ttl, 60);

  EXPECT_EQ(client.lease_revoke(2000).header.revision, 20);

  const LeaseTimeToLiveResponse ttl = client.lease_time_to_live(1000, true);
  EXPECT_EQ(ttl.granted_ttl, 5);
  EXPECT_EQ(ttl.keys, std::vector<std::string>{"lk"});
}

TEST_F(ClientUnary, KeepAliveOfAVanishedLeaseIsNotAnError) {
  server.answer("/v3/lease/keepalive", 200, std::string(rec::kLeaseKeepAliveGone));
  const LeaseKeepAliveResponse gone = client.lease_keepalive(4242);
  EXPECT_FALSE(gone.alive());
  EXPECT_EQ(gone.ttl, 0);
  EXPECT_EQ(gone.id, 4242);
}

TEST_F(ClientUnary, MemberListAndStatusDecodeIdsAbove2To53Exactly) {
  server.answer("/v3/cluster/member/list", 200, std::string(rec::kMemberListWithLearner));
  server.answer("/v3/maintenance/status", 200, std::string(rec::kStatus));
  const MemberListResponse members = client.member_list();
  ASSERT_EQ(members.members.size(), 4u);
  EXPECT_EQ(members.members[3].id, 13788177485651825848ULL);
  EXPECT_TRUE(members.members[1].is_learner);
  EXPECT_TRUE(members.members[1].client_urls.empty());

  const StatusResponse status = client.status();
  EXPECT_EQ(status.leader, 17184946936886216709ULL);
  EXPECT_EQ(status.header.member_id, 17184946936886216709ULL);
  EXPECT_EQ(status.version, "3.4.23");
}

TEST_F(ClientUnary, EveryRequestKindAsksForAMemberWithALeader) {
  // Grpc-Metadata-hasleader: true makes a member without a raft leader refuse at once ("no
  // leader") instead of holding the request until its deadline, and end a watch it serves.
  server.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  server.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  server.answer("/v3/kv/deleterange", 200, std::string(rec::kDeleteMissing));
  server.answer("/v3/kv/txn", 200, std::string(rec::kTxnSucceededPut));
  server.answer("/v3/kv/compaction", 200, std::string(rec::kCompaction));
  server.answer("/v3/lease/grant", 200, std::string(rec::kLeaseGrant));
  server.answer("/v3/lease/keepalive", 200, std::string(rec::kLeaseKeepAlive));
  server.answer("/v3/lease/revoke", 200, std::string(rec::kLeaseRevoke));
  server.answer("/v3/lease/timetolive", 200, std::string(rec::kLeaseTimeToLiveKeys));
  server.answer("/v3/auth/authenticate", 200, std::string(rec::kAuthenticate));
  server.answer("/v3/cluster/member/list", 200, std::string(rec::kMemberListWithLearner));
  server.answer("/v3/maintenance/status", 200, std::string(rec::kStatus));
  server.stream("/v3/watch",
                dcs::test::StreamScript{200, {dcs::test::StreamStep::chunk(std::string(rec::kWatchCreated))}});

  client.range(key("foo"));
  client.put({.key = "foo", .value = "bar"});
  client.delete_range({.key = "foo"});
  client.txn(TxnRequest{});
  client.compact(CompactionRequest{16, false});
  client.lease_grant(30);
  client.lease_keepalive(2000);
  client.lease_revoke(2000);
  client.lease_time_to_live(1000, true);
  client.authenticate("user", "secret");
  client.member_list();
  client.status();
  WatchCanceller canceller;
  EXPECT_THROW(client.watch(
                   {.key = "foo"}, [](const WatchResponse&) {}, canceller),
               EtcdConnectionFailed);

  std::set<std::string> seen;
  for (const RecordedRequest& request : server.requests()) {
    if (request.path.rfind("/v3/", 0) != 0) continue;  // GET /version is not a gRPC call
    seen.insert(request.path);
    EXPECT_EQ(request.header("Grpc-Metadata-hasleader"), "true") << request.path;
  }
  EXPECT_EQ(seen.size(), 13u) << "every kind was sent";
}

TEST_F(ClientUnary, HugeValueRoundTripsThroughPutAndRange) {
  // A tiny key-value store inside the mock: put stores the base64 value it received, range
  // answers with it.
  auto stored = std::make_shared<std::pair<std::mutex, std::string>>();
  server.handle("/v3/kv/put", [stored](const RecordedRequest& request) {
    const json body = json::parse(request.body);
    std::lock_guard lock(stored->first);
    stored->second = body.at("value").get<std::string>();
    return CannedResponse{200, std::string(rec::kPutPlain)};
  });
  server.handle("/v3/kv/range", [stored](const RecordedRequest&) {
    std::lock_guard lock(stored->first);
    json answer = json::parse(rec::kRangeFoo);
    answer["kvs"][0]["value"] = stored->second;
    return CannedResponse{200, answer.dump()};
  });

  std::string big(1500000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  PutRequest put;
  put.key = "foo";
  put.value = big;
  // Two megabytes through a sanitized mock on a busy machine need more than the fixture's short
  // budget; a plain put is never re-sent, so its single attempt must fit.
  Etcd3Options roomy = options_for(server);
  roomy.retry_timeout = std::chrono::seconds(30);
  Etcd3Client roomy_client(roomy);
  roomy_client.put(put);
  EXPECT_EQ(codec::base64_decode(json::parse(server.last_request_to("/v3/kv/put").body).at("value").get<std::string>()),
            big);

  const RangeResponse r = roomy_client.range(key("foo"));
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].value.size(), big.size());
  EXPECT_TRUE(r.kvs[0].value == big);
}

// etcd sends big answers chunked (no Content-Length); the body is then sized from the last such
// answer on the connection. Answers bigger and smaller than the one before must arrive whole.
TEST_F(ClientUnary, ChunkedAnswersOfAnySizeArriveWhole) {
  for (const int count : {40, 5, 120, 120, 1}) {
    json answer = json::parse(rec::kRangeFoo);
    json kvs = json::array();
    for (int i = 0; i < count; ++i) {
      json kv = answer["kvs"][0];
      kv["key"] = codec::base64_encode("/k/" + std::to_string(i));
      kv["value"] = codec::base64_encode(std::string(200 + i, static_cast<char>('a' + i % 26)));
      kvs.push_back(kv);
    }
    answer["kvs"] = kvs;
    answer["count"] = std::to_string(count);
    const std::string text = answer.dump();
    dcs::test::StreamScript script;
    for (std::size_t at = 0; at < text.size(); at += 1000)
      script.steps.push_back(dcs::test::StreamStep::chunk(text.substr(at, 1000)));
    server.stream("/v3/kv/range", script);
    SCOPED_TRACE(count);
    const RangeResponse r = client.range(key("/k/"));
    ASSERT_EQ(r.kvs.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      EXPECT_EQ(r.kvs[static_cast<std::size_t>(i)].key, "/k/" + std::to_string(i));
      EXPECT_EQ(r.kvs[static_cast<std::size_t>(i)].value, std::string(200 + i, static_cast<char>('a' + i % 26)));
    }
  }
  EXPECT_EQ(server.remote_ports().size(), 1u) << "one kept-alive connection throughout";
}

TEST_F(ClientUnary, EtcdErrorsMapToTheirClassWithTheHttpStatus) {
  server.answer("/v3/lease/revoke", 404, std::string(rec::kErrLeaseNotFound));
  server.answer("/v3/kv/put", 503, std::string(rec::kErrRequestTimedOut));
  server.answer("/v3/kv/range", 400, std::string(rec::kErrCompacted));
  server.answer("/v3/lease/grant", 500, std::string(rec::kErrContextDeadline));

  try {
    client.lease_revoke(2000);
    FAIL() << "no exception";
  } catch (const LeaseNotFound& e) {
    EXPECT_EQ(e.http_status(), 404);
    EXPECT_EQ(e.code(), GRPCCode::NotFound);
    EXPECT_FALSE(e.retry_on_other_endpoint());
  }
  try {
    client.put(PutRequest{"k", "v"});
    FAIL() << "no exception";
  } catch (const Unavailable& e) {
    EXPECT_EQ(e.http_status(), 503);
    EXPECT_TRUE(e.retry_on_other_endpoint());
    EXPECT_TRUE(e.outcome_unknown()) << "the write may have been applied";
  }
  try {
    client.range(key("ck"));
    FAIL() << "no exception";
  } catch (const Etcd3ClientError& e) {
    EXPECT_EQ(typeid(e), typeid(Etcd3ClientError));
    EXPECT_EQ(e.code(), GRPCCode::OutOfRange);
    EXPECT_EQ(e.code_text(), "OutOfRange");
    EXPECT_EQ(e.http_status(), 400);
  }
  // DeadlineExceeded is worth asking again: the client retries until its budget is spent, then
  // reports the exhausted budget with etcd's last answer.
  try {
    client.lease_grant(10);
    FAIL() << "no exception";
  } catch (const RetryFailedError& e) {
    EXPECT_NE(std::string(e.what()).find("context deadline exceeded"), std::string::npos) << e.what();
  }
  EXPECT_GE(server.requests_to("/v3/lease/grant").size(), 2u) << "asked again before giving up";
}

TEST_F(ClientUnary, NonJsonErrorPagesAreUnknownWithTheRawText) {
  // Nothing registered: the mock answers like etcd's mux outside the gateway.
  try {
    client.member_list();
    FAIL() << "no exception";
  } catch (const Unknown& e) {
    EXPECT_EQ(e.error(), "404 page not found");
    EXPECT_EQ(e.http_status(), 404);
    EXPECT_EQ(e.code_text(), "");
  }
  server.answer("/v3/kv/range", 405, "Method Not Allowed\n", "text/plain");
  try {
    client.range(key("foo"));
    FAIL() << "no exception";
  } catch (const Unknown& e) {
    EXPECT_EQ(e.error(), "Method Not Allowed");
    EXPECT_EQ(e.http_status(), 405);
  }
  server.answer("/v3/kv/put", 400, R"({"error":"etcdserv)");
  try {
    client.put(PutRequest{"k", "v"});
    FAIL() << "no exception";
  } catch (const Unknown& e) {
    EXPECT_EQ(e.error(), R"({"error":"etcdserv)");
  }
}

TEST_F(ClientUnary, SuccessStatusWithANonEtcdBodyIsMalformedResponse) {
  const std::pair<const char*, const char*> bodies[] = {
      {"plain text", "<html>proxy login</html>"},
      {"truncated JSON", R"({"header":{"cluster_id":"8443091972210274032","member_id":"1718)"},
      {"empty", ""},
      {"an array", "[]"},
      {"a string", R"("ok")"},
  };
  for (const auto& [what, body] : bodies) {
    SCOPED_TRACE(what);
    server.answer("/v3/kv/range", 200, body);
    try {
      client.range(key("foo"));
      ADD_FAILURE() << "no exception";
    } catch (const MalformedResponse& e) {
      EXPECT_EQ(e.http_status(), 200);
      EXPECT_TRUE(e.retry_on_other_endpoint());
      EXPECT_TRUE(e.outcome_unknown());
    }
  }
}

TEST_F(ClientUnary, WrongTypedFieldsAreMalformedResponse) {
  server.answer("/v3/kv/range", 200, R"({"header":{"revision":"5"},"count":true})");
  EXPECT_THROW(client.range(key("foo")), MalformedResponse);
  server.answer("/v3/kv/range", 200, R"({"kvs":{"key":"Zm9v"}})");
  EXPECT_THROW(client.range(key("foo")), MalformedResponse);
  server.answer("/v3/kv/range", 200, R"({"kvs":[{"key":"Zm9v","value":"not base64!"}]})");
  EXPECT_THROW(client.range(key("foo")), MalformedResponse);
  server.answer("/v3/kv/put", 200, R"({"header":{"revision":"abc"}})");
  EXPECT_THROW(client.put(PutRequest{"k", "v"}), MalformedResponse);
  server.answer("/v3/kv/txn", 200, R"({"succeeded":"yes"})");
  EXPECT_THROW(client.txn(TxnRequest{}), MalformedResponse);
  server.answer("/v3/lease/grant", 200, R"({"header":{},"TTL":"30"})");
  EXPECT_THROW(client.lease_grant(30), MalformedResponse) << "no lease ID";
  server.answer("/v3/maintenance/status", 200, R"({"leader":"-3"})");
  EXPECT_THROW(client.status(), MalformedResponse);
}

TEST_F(ClientUnary, ErrorObjectInASuccessfulStreamIsMapped) {
  // Keepalive without quorum after the headers went out: HTTP 200, error object in the body.
  server.answer(
      "/v3/lease/keepalive", 200,
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  try {
    client.lease_keepalive(2000);
    FAIL() << "no exception";
  } catch (const Unavailable& e) {
    EXPECT_EQ(e.error(), "etcdserver: no leader");
    EXPECT_EQ(e.http_status(), 503);
  }
}

TEST_F(ClientUnary, RedirectsAreNotFollowed) {
  server.answer("/v3/kv/range", 307, "");
  try {
    client.range(key("foo"));
    FAIL() << "no exception";
  } catch (const MalformedResponse& e) {
    EXPECT_EQ(e.http_status(), 307);
  }
}

TEST_F(ClientUnary, ManyRequestsShareOneKeptAliveConnection) {
  server.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  server.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  constexpr int kRequests = 30;
  for (int i = 0; i < kRequests; ++i) {
    if (i % 3 == 0) {
      client.put(PutRequest{"foo", std::to_string(i)});
    } else {
      client.range(key("foo"));
    }
  }
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), kRequests + 1u) << "one GET /version, then the calls";
  EXPECT_EQ(server.requests_to("/version").size(), 1u) << "the version is detected once";
  EXPECT_EQ(server.remote_ports().size(), 1u) << "every request on one TCP connection";
}

TEST_F(ClientUnary, AConnectionFailureAfterAnErrorAnswerStillReusesTheConnection) {
  // An etcd error is an answer: the connection stays usable.
  server.answer("/v3/kv/put", 503, std::string(rec::kErrRequestTimedOut));
  server.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  EXPECT_THROW(client.put(PutRequest{"k", "v"}), Unavailable);
  EXPECT_NO_THROW(client.range(key("foo")));
  EXPECT_EQ(server.remote_ports().size(), 1u);
}

TEST_F(ClientUnary, ConcurrentCallersShareTheClientSafely) {
  // The HA loop and a watcher thread call one client at the same time.
  server.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  server.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  server.stream("/v3/watch", dcs::test::StreamScript{200,
                                                     {dcs::test::StreamStep::chunk(std::string(rec::kWatchCreated)),
                                                      dcs::test::StreamStep::chunk(std::string(rec::kWatchPut))}});
  constexpr int kPerThread = 20;
  std::atomic<int> ok{0};
  const auto caller = [&](bool writer) {
    for (int i = 0; i < kPerThread; ++i) {
      if (writer) {
        client.put(PutRequest{"foo", std::to_string(i)});
        ++ok;
      } else if (client.range(key("foo")).kvs.size() == 1) {
        ++ok;
      }
    }
  };
  std::thread reader(caller, false);
  std::thread writer(caller, true);
  std::vector<WatchResponse> messages;
  WatchCanceller canceller;
  WatchCreateRequest watch;
  watch.key = "wk";
  EXPECT_THROW(client.watch(
                   watch, [&](const WatchResponse& r) { messages.push_back(r); }, canceller),
               EtcdConnectionFailed);
  reader.join();
  writer.join();
  EXPECT_EQ(ok.load(), 2 * kPerThread);
  EXPECT_EQ(messages.size(), 2u);
  EXPECT_EQ(server.requests_to("/v3/kv/range").size() + server.requests_to("/v3/kv/put").size(), 2u * kPerThread);
  // At most one kept-alive connection per concurrent unary caller, plus the watch's own
  // (the version probe may race on a third).
  EXPECT_LE(server.remote_ports().size(), 4u);
}

TEST(ClientConnection, RefusedConnectionIsEtcdConnectionFailedBeforeSending) {
  Etcd3Options options;
  options.endpoints = {"http://127.0.0.1:" + std::to_string(closed_port())};
  options.retry_timeout = std::chrono::seconds(1);  // refused again and again until the budget ends
  Etcd3Client client(options);
  try {
    client.range(key("foo"));
    FAIL() << "no exception";
  } catch (const EtcdConnectionFailed& e) {
    EXPECT_FALSE(e.request_sent());
    EXPECT_FALSE(e.outcome_unknown()) << "nothing was sent, nothing can have been applied";
    EXPECT_TRUE(e.retry_on_other_endpoint());
    EXPECT_NE(e.endpoint().find(options.endpoints[0]), std::string::npos) << e.endpoint();
  }
}

TEST(ClientConfiguration, RejectsUnusableOptionsBeforeAnyIo) {
  Etcd3Options none;
  try {
    Etcd3Client client(none);
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "endpoints");
  }
  Etcd3Options no_scheme;
  no_scheme.endpoints = {"127.0.0.1:2379"};
  EXPECT_THROW(Etcd3Client{no_scheme}, ConfigError);

  Etcd3Options zero_timeout;
  zero_timeout.endpoints = {"http://127.0.0.1:2379"};
  zero_timeout.retry_timeout = std::chrono::seconds(0);
  try {
    Etcd3Client client(zero_timeout);
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "retry_timeout");
  }
}

TEST(ClientConfiguration, TrailingSlashesOfEndpointsAreIgnored) {
  MockEtcdServer server;
  server.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  Etcd3Options options = options_for(server);
  options.endpoints[0] += "//";
  Etcd3Client client(options);
  EXPECT_EQ(client.range(key("foo")).kvs.size(), 1u);
  EXPECT_EQ(client.current_endpoint(), server.url());
  EXPECT_EQ(server.requests_to("/v3/kv/range").size(), 1u);
}

}  // namespace
}  // namespace dcs::etcd3
