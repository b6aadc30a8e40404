// A member cut off from its quorum by a network partition (tests/support/peer_partition.hpp): it
// keeps running and accepting client requests, but it has no leader. Every request of the client
// carries `hasleader`, so such a member refuses it at once with "etcdserver: no leader"
// (Unavailable, refused before raft saw it) instead of holding it until its deadline. The client
// must leave it for the members that still form a quorum (for a read and for a plain write
// alike), tell its listener, not read a former leader's stale view, and be able to use the member
// again once the partition heals.
//
// The first suite checks the proxies on their own against a plain TCP server of the test; the
// second runs a three-member etcd cluster whose peer traffic passes through them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dcs/observer.hpp"
#include "integration/etcd_fixture.hpp"
#include "support/peer_partition.hpp"

namespace dcs::itest {
namespace {

using dcs::testing::PeerPartition;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// The proxies alone: a test-owned TCP server stands in for every member's peer port.

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return address;
}

// What arrived on a socket within a bound: the bytes, and whether the peer closed it.
struct Received {
  std::string data;
  bool closed = false;
};

// Reads until `want` bytes arrived, the peer closed the connection, or `bound` passed.
Received receive(const Fd& fd, std::size_t want, milliseconds bound = milliseconds{5000}) {
  Received received;
  const auto deadline = Clock::now() + bound;
  while (received.data.size() < want) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::recv(fd.get(), chunk, sizeof(chunk), 0);
    if (n <= 0) {
      received.closed = true;  // EOF, or a reset: either way the connection is gone
      break;
    }
    received.data.append(chunk, static_cast<std::size_t>(n));
  }
  return received;
}

bool send_all(const Fd& fd, const std::string& bytes) {
  return ::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

class PeerPartitionProxyTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kIdA = 0xa1;
  static constexpr std::uint64_t kIdB = 0xb2;

  void SetUp() override {
    server_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(server_);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof(address);
    ASSERT_EQ(::bind(server_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::getsockname(server_.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
    ASSERT_EQ(::listen(server_.get(), 16), 0);
    // Member 0 ("a") and member 1 ("b") both forward to the test's server.
    for (std::size_t m = 0; m < 2; ++m) proxies_.set_target_port(m, ntohs(address.sin_port));
    proxies_.set_member_id(0, kIdA);
    proxies_.set_member_id(1, kIdB);
  }

  // A connection to `callee`'s proxy that opens like an etcd raft stream from `from` (hex id;
  // empty: no X-Server-From at all).
  Fd dial(std::size_t callee, const std::string& from) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in address = loopback(proxies_.proxy_port(callee));
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_TRUE(send_all(fd, head(from)));
    return fd;
  }

  static std::string head(const std::string& from) {
    return "GET /raft/stream/message/" + from + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
           (from.empty() ? std::string() : "X-Server-From: " + from + "\r\n") + "\r\n";
  }

  // The next connection the proxies forwarded to the server; an empty Fd when none came.
  Fd forwarded(milliseconds bound = milliseconds{5000}) {
    pollfd p{server_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(bound.count())) <= 0) return Fd();
    return Fd(::accept4(server_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  }

  // Bytes pass both ways between a dialed connection and the server's end of it.
  static void expect_relayed(const Fd& dialed, const Fd& served) {
    ASSERT_TRUE(send_all(served, "pong"));
    EXPECT_EQ(receive(dialed, 4).data, "pong");
    ASSERT_TRUE(send_all(dialed, "ping"));
    EXPECT_EQ(receive(served, 4).data, "ping");
  }

  PeerPartition proxies_{2};
  Fd server_;
};

TEST_F(PeerPartitionProxyTest, RelaysTheRequestHeadAndThenBytesBothWays) {
  const Fd dialed = dial(0, "b2");
  const Fd served = forwarded();
  ASSERT_TRUE(served);
  EXPECT_EQ(receive(served, head("b2").size()).data, head("b2")) << "the head reaches the member unchanged";
  expect_relayed(dialed, served);
  EXPECT_TRUE(eventually([&] { return proxies_.relayed_connections() == 1; }));
}

TEST_F(PeerPartitionProxyTest, IsolationCutsOpenConnectionsOfTheMemberAndRefusesNewOnes) {
  const Fd from_b = dial(0, "b2");  // b calls a
  const Fd served_from_b = forwarded();
  const Fd to_b = dial(1, "a1");  // a calls b
  const Fd served_to_b = forwarded();
  ASSERT_TRUE(served_from_b && served_to_b);
  receive(served_from_b, head("b2").size());
  receive(served_to_b, head("a1").size());

  proxies_.isolate(1);
  EXPECT_TRUE(proxies_.isolated(1));
  // Both connections touching b are gone once isolate() returned, on both sides.
  EXPECT_TRUE(receive(from_b, 1).closed);
  EXPECT_TRUE(receive(served_from_b, 1).closed);
  EXPECT_TRUE(receive(to_b, 1).closed);
  EXPECT_TRUE(receive(served_to_b, 1).closed);
  EXPECT_EQ(proxies_.relayed_connections(), 0u);

  // b can neither call nor be called; nothing reaches the server.
  const Fd again_from_b = dial(0, "b2");
  EXPECT_TRUE(receive(again_from_b, 1).closed);
  const Fd again_to_b = dial(1, "a1");
  EXPECT_TRUE(receive(again_to_b, 1).closed);
  EXPECT_FALSE(forwarded(milliseconds{200}));
  EXPECT_GE(proxies_.refused_connections(), 4u);

  // Callers that are not b still reach a: an unregistered member and a request without
  // X-Server-From (etcd's version probes).
  for (const std::string from : {"c3", ""}) {
    const Fd other = dial(0, from);
    const Fd served = forwarded();
    ASSERT_TRUE(served) << "caller '" << from << "'";
    receive(served, head(from).size());
    expect_relayed(other, served);
  }
}

TEST_F(PeerPartitionProxyTest, CallerIdRegisteredAfterTheConnectionOpenedStillCountsForIsolation) {
  // etcd's peers connect before the harness can ask the members for their ids.
  const Fd early = dial(0, "c3");
  const Fd served = forwarded();
  ASSERT_TRUE(served);
  receive(served, head("c3").size());
  proxies_.set_member_id(1, 0xc3);
  proxies_.isolate(1);
  EXPECT_TRUE(receive(early, 1).closed);
  EXPECT_TRUE(receive(served, 1).closed);
}

TEST_F(PeerPartitionProxyTest, HealLetsTheIsolatedMemberConnectAgain) {
  proxies_.isolate(1);
  proxies_.heal();
  EXPECT_FALSE(proxies_.isolated(1));
  const Fd from_b = dial(0, "b2");
  const Fd served = forwarded();
  ASSERT_TRUE(served);
  receive(served, head("b2").size());
  expect_relayed(from_b, served);
}

TEST_F(PeerPartitionProxyTest, MemberWhosePeerPortIsDownLooksLikeARefusedConnection) {
  proxies_.set_target_port(0, dcs::testing::pick_free_port());  // nobody listens there
  const Fd dialed = dial(0, "b2");
  EXPECT_TRUE(receive(dialed, 1).closed);
}

// ---------------------------------------------------------------------------------------------
// A real cluster: one member is cut off from the other two.

class PartitionTest : public EtcdTest {
 protected:
  static void SetUpTestSuite() {
    EtcdProcess::Options options;
    options.members = 3;
    options.partitionable = true;
    // Short raft timers: an isolated member gives up on its leader (and a cluster that lost its
    // leader elects a new one) within about a second instead of several.
    options.extra_flags = {"--heartbeat-interval=50", "--election-timeout=500"};
    start_etcd(std::move(options));
  }

  void SetUp() override {
    EtcdTest::SetUp();
    if (HasFatalFailure()) return;
    const auto found = leader();
    ASSERT_TRUE(found.has_value()) << "the cluster has no leader before the test";
    leader_ = *found;
  }

  void TearDown() override {
    if (!etcd_) return;
    // The next test starts with a connected cluster that agrees on a leader.
    if (stopped_ >= 0) etcd().signal(static_cast<std::size_t>(stopped_), SIGCONT);
    stopped_ = -1;
    etcd().partition().heal();
    EXPECT_TRUE(leader().has_value()) << "the cluster found no common leader after healing";
  }

  /// The member every member names as leader, once they all agree (bounded wait).
  std::optional<std::size_t> leader() {
    std::optional<std::size_t> found;
    eventually([&] {
      found = common_leader({0, 1, 2});
      return found.has_value();
    });
    return found;
  }

  /// The leader `members` all report, if they agree on one.
  std::optional<std::size_t> common_leader(const std::vector<std::size_t>& members) {
    std::optional<std::uint64_t> agreed;
    for (const std::size_t m : members) {
      const auto status = etcd().member_status(m);
      if (!status || status->leader == 0 || (agreed && *agreed != status->leader)) return std::nullopt;
      agreed = status->leader;
    }
    for (std::size_t m = 0; m < etcd().size(); ++m) {
      const auto status = etcd().member_status(m);
      if (status && status->member_id == *agreed) return m;
    }
    return std::nullopt;
  }

  bool knows_no_leader(std::size_t member) {
    const auto status = etcd().member_status(member);
    return status && status->leader == 0;
  }

  std::vector<std::size_t> others(std::size_t member) const {
    std::vector<std::size_t> rest;
    for (std::size_t m = 0; m < 3; ++m) {
      if (m != member) rest.push_back(m);
    }
    return rest;
  }

  /// A client for `endpoints` that records endpoint switches and warnings.
  void use_client(Etcd3Options options) {
    options.log_sink = [this](LogLevel level, std::string_view, std::string_view message) {
      if (level < LogLevel::warning) return;
      std::lock_guard lock(mutex_);
      warnings_.emplace_back(message);
    };
    client_ = std::make_unique<Etcd3Client>(std::move(options));
    client().set_endpoint_listener([this](const std::string& endpoint) {
      std::lock_guard lock(mutex_);
      switches_.push_back(endpoint);
    });
  }

  /// A client that knows every member and prefers `member` (listed first; the member list the
  /// client reads keeps the preferred endpoint).
  void use_client_preferring(std::size_t member) {
    std::vector<std::string> endpoints = {etcd().endpoint(member)};
    for (const std::size_t m : others(member)) endpoints.push_back(etcd().endpoint(m));
    use_client(client_options(std::move(endpoints)));
    put(key("before"), "1");
    ASSERT_EQ(client().current_endpoint(), etcd().endpoint(member));
  }

  std::vector<std::string> switches() {
    std::lock_guard lock(mutex_);
    return switches_;
  }
  std::vector<std::string> warnings() {
    std::lock_guard lock(mutex_);
    return warnings_;
  }

  /// Isolates `member` (the client's), waits until it has lost its leader while the others keep
  /// one, then checks that a linearizable read and a write through the client succeed elsewhere.
  void expect_client_leaves_isolated_member(std::size_t member) {
    use_client_preferring(member);
    if (HasFatalFailure()) return;
    const std::string isolated_url = etcd().endpoint(member);

    const auto isolated_at = Clock::now();
    etcd().partition().isolate(member);
    ASSERT_TRUE(eventually([&] { return knows_no_leader(member); }, kWaitBound))
        << "the isolated member still follows a leader";
    const auto leaderless_at = Clock::now();
    const auto status = etcd().member_status(member);
    ASSERT_TRUE(status.has_value()) << "the isolated member still answers its clients";
    EXPECT_NE(std::find(status->errors.begin(), status->errors.end(), "etcdserver: no leader"), status->errors.end());

    // The client's first calls after the partition: a linearizable read, then a write.
    RangeResponse read;
    ASSERT_NO_THROW(read = get(key("before")));
    ASSERT_EQ(read.kvs.size(), 1u);
    EXPECT_EQ(read.kvs[0].value, "1");
    const auto read_at = Clock::now();
    ASSERT_NO_THROW(put(key("during"), "2"));
    const auto written_at = Clock::now();

    const std::string now_in_use = client().current_endpoint();
    EXPECT_NE(now_in_use, isolated_url);
    ASSERT_FALSE(switches().empty()) << "the listener hears about the switch";
    EXPECT_EQ(switches().back(), now_in_use);
    // The other two kept (or re-established) a quorum, and the isolated member is not its leader.
    const auto majority_leader = common_leader(others(member));
    ASSERT_TRUE(majority_leader.has_value());
    EXPECT_NE(*majority_leader, member);

    const auto ms = [](Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); };
    RecordProperty("isolation_to_leaderless_ms", static_cast<int>(ms(leaderless_at - isolated_at)));
    RecordProperty("leaderless_to_read_ms", static_cast<int>(ms(read_at - leaderless_at)));
    RecordProperty("isolation_to_write_ms", static_cast<int>(ms(written_at - isolated_at)));
    std::printf(
        "[ partition ] isolated %s: it lost its leader after %lld ms; read %lld ms later, write done %lld "
        "ms after isolation, now on %s\n",
        isolated_url.c_str(), static_cast<long long>(ms(leaderless_at - isolated_at)),
        static_cast<long long>(ms(read_at - leaderless_at)), static_cast<long long>(ms(written_at - isolated_at)),
        now_in_use.c_str());
    for (const auto& warning : warnings()) std::printf("[ partition ]   client: %s\n", warning.c_str());
  }

  std::size_t leader_ = 0;  // the leader when the test started
  int stopped_ = -1;        // a member frozen with SIGSTOP, thawed by TearDown
  std::mutex mutex_;
  std::vector<std::string> switches_;
  std::vector<std::string> warnings_;
};

TEST_F(PartitionTest, IsolatedMemberLosesItsLeaderWhileTheOthersKeepQuorum) {
  const std::size_t isolated = (leader_ + 1) % 3;  // a follower
  etcd().partition().isolate(isolated);
  EXPECT_TRUE(eventually([&] { return knows_no_leader(isolated); }));
  EXPECT_TRUE(eventually([&] { return common_leader(others(isolated)).has_value(); }));
  etcd().partition().heal();
  EXPECT_TRUE(leader().has_value()) << "the member rejoins and follows the common leader";
}

TEST_F(PartitionTest, ClientLeavesAnIsolatedFollowerForTheQuorum) {
  expect_client_leaves_isolated_member((leader_ + 1) % 3);
}

TEST_F(PartitionTest, ClientLeavesAnIsolatedLeaderForTheNewQuorum) {
  expect_client_leaves_isolated_member(leader_);
}

TEST_F(PartitionTest, PutSentFirstToTheIsolatedMemberSucceedsOnTheQuorum) {
  const std::size_t isolated = (leader_ + 1) % 3;
  use_client_preferring(isolated);
  if (HasFatalFailure()) return;
  etcd().partition().isolate(isolated);
  ASSERT_TRUE(eventually([&] { return knows_no_leader(isolated); }));

  // Without hasleader the member would hold the write until the request's deadline, and its
  // outcome would be unknown. With it, the member refuses the write before proposing it, so the
  // client hands it to the next member at once.
  const auto sent_at = Clock::now();
  ASSERT_NO_THROW(put(key("during"), "x"));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - sent_at).count();
  EXPECT_NE(client().current_endpoint(), etcd().endpoint(isolated));
  ASSERT_FALSE(switches().empty());
  EXPECT_EQ(switches().back(), client().current_endpoint());
  RecordProperty("put_via_quorum_ms", static_cast<int>(took));
  std::printf("[ partition ] put sent first to the isolated member %s succeeded on %s after %lld ms\n",
              etcd().endpoint(isolated).c_str(), client().current_endpoint().c_str(), static_cast<long long>(took));

  // The write happened exactly once, on the quorum.
  const RangeResponse read = get(key("during"));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].version, 1);
}

// A member that lost quorum: Unavailable leads to a switch. The client's first endpoint is the
// member cut off from the others; a linearizable read and a plain put each reach the quorum
// because that member answered "no leader" (not because a hedged copy overtook a silent member).
TEST_F(PartitionTest, MemberThatLostQuorumAnswersUnavailableAndTheClientSwitches) {
  const std::size_t isolated = (leader_ + 1) % 3;
  const std::string isolated_url = etcd().endpoint(isolated);
  put(key("before"), "1");
  etcd().partition().isolate(isolated);
  ASSERT_TRUE(eventually([&] { return knows_no_leader(isolated); }));

  // Every member listed, the isolated one first, in this order (no member list).
  const auto fresh_client = [&] {
    std::vector<std::string> endpoints = {isolated_url};
    for (const std::size_t m : others(isolated)) endpoints.push_back(etcd().endpoint(m));
    Etcd3Options options = client_options(std::move(endpoints));
    options.use_proxies = true;
    {
      std::lock_guard lock(mutex_);
      warnings_.clear();
      switches_.clear();
    }
    use_client(std::move(options));
  };
  // The call switched away from the isolated member because it answered "no leader".
  const auto expect_switched_on_no_leader = [&](const char* what, long long took) {
    const auto logged = warnings();
    std::string trace;
    for (const auto& line : logged) trace += "\n  " + line;
    EXPECT_NE(client().current_endpoint(), isolated_url) << what << trace;
    EXPECT_EQ(switches(), std::vector<std::string>{client().current_endpoint()}) << what << trace;
    EXPECT_TRUE(std::any_of(logged.begin(), logged.end(),
                            [&](const std::string& line) {
                              return line.rfind("Request to server " + isolated_url + " failed", 0) == 0 &&
                                     line.find("Unavailable error: 'etcdserver: no leader'") != std::string::npos;
                            }))
        << what << ": the isolated member answered 'no leader'" << trace;
    EXPECT_FALSE(
        std::any_of(logged.begin(), logged.end(),
                    [](const std::string& line) { return line.find("did not answer in time") != std::string::npos; }))
        << what << ": no hedged copy was needed" << trace;
    std::printf("[ partition ] %s sent first to the isolated member %s: done on %s after %lld ms%s\n", what,
                isolated_url.c_str(), client().current_endpoint().c_str(), took, trace.c_str());
  };
  const auto ms_since = [](Clock::time_point start) {
    return static_cast<long long>(std::chrono::duration_cast<milliseconds>(Clock::now() - start).count());
  };

  fresh_client();
  auto started = Clock::now();
  RangeResponse read;
  ASSERT_NO_THROW(read = get(key("before")));  // linearizable
  const long long read_ms = ms_since(started);
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "1");
  expect_switched_on_no_leader("linearizable read", read_ms);
  RecordProperty("read_ms", static_cast<int>(read_ms));

  fresh_client();
  started = Clock::now();
  ASSERT_NO_THROW(put(key("after"), "2"));  // a plain put: never re-sent after an unknown outcome
  const long long put_ms = ms_since(started);
  expect_switched_on_no_leader("plain put", put_ms);
  RecordProperty("put_ms", static_cast<int>(put_ms));
  const RangeResponse written = get(key("after"));
  ASSERT_EQ(written.kvs.size(), 1u);
  EXPECT_EQ(written.kvs[0].version, 1) << "applied once";
}

TEST_F(PartitionTest, IsolatedFormerLeaderRefusesEvenSerializableReads) {
  // A serializable read (what Patroni's HA loop uses) would be answered by any member from its
  // own data, even without quorum: a former leader cut off from the new majority holds an old
  // view. Asked with hasleader, it refuses instead, even a client that never saw the newer term.
  const std::size_t old_leader = leader_;
  const std::vector<std::size_t> majority = others(old_leader);
  const std::size_t preferred = majority[0];
  const std::size_t fallback = majority[1];
  put(key("k"), "old");
  etcd().partition().isolate(old_leader);
  ASSERT_TRUE(eventually([&] {
    const auto elected = common_leader(majority);
    return elected && *elected != old_leader;  // until they notice, they still name the old one
  })) << "the majority elects a new leader";
  ASSERT_TRUE(eventually([&] { return knows_no_leader(old_leader); })) << "the former leader stepped down";

  // In order: a member of the majority, the former leader, the other member of the majority.
  Etcd3Options options =
      client_options({etcd().endpoint(preferred), etcd().endpoint(old_leader), etcd().endpoint(fallback)});
  options.use_proxies = true;  // keep this order (no member list)
  use_client(std::move(options));
  const std::int64_t written = put(key("k"), "new").header.revision;
  ASSERT_TRUE(eventually([&] {
    const auto status = etcd().member_status(fallback);
    return status && status->revision >= written;
  })) << "the other member of the majority applies the write";
  const auto stale = etcd().member_status(old_leader);
  ASSERT_TRUE(stale.has_value());
  ASSERT_LT(stale->revision, written) << "the former leader holds the old view";

  RangeRequest serializable;
  serializable.key = key("k");
  serializable.serializable = true;
  Etcd3Options pinned = client_options({etcd().endpoint(old_leader)}, std::chrono::seconds{1});
  pinned.use_proxies = true;
  Etcd3Client unaware(std::move(pinned));
  EXPECT_THROW(unaware.range(serializable), NoLeader) << "the old view is not served";

  // The preferred member freezes: the copy of the read raced to the former leader is refused,
  // which is held against the former leader (not the silent member), and the other member of
  // the majority answers.
  etcd().signal(preferred, SIGSTOP);
  stopped_ = static_cast<int>(preferred);
  RangeResponse read;
  ASSERT_NO_THROW(read = client().range(serializable));
  std::string trace = "frozen " + etcd().endpoint(preferred) + ", former leader " + etcd().endpoint(old_leader) +
                      ", other " + etcd().endpoint(fallback) + "; client log:";
  const auto logged = warnings();
  for (const auto& line : logged) trace += "\n  " + line;
  ASSERT_EQ(read.kvs.size(), 1u) << trace;
  EXPECT_EQ(read.kvs[0].value, "new") << trace;
  EXPECT_EQ(client().current_endpoint(), etcd().endpoint(fallback)) << trace;
  ASSERT_FALSE(switches().empty()) << trace;
  EXPECT_EQ(switches().back(), etcd().endpoint(fallback)) << trace;
  const auto any_line = [&](const std::string& start, const std::string& part) {
    return std::any_of(logged.begin(), logged.end(), [&](const std::string& line) {
      return line.rfind(start, 0) == 0 && line.find(part) != std::string::npos;
    });
  };
  EXPECT_TRUE(any_line("Request to server " + etcd().endpoint(old_leader) + " failed", "etcdserver: no leader"))
      << trace;
  EXPECT_FALSE(any_line("Request to server " + etcd().endpoint(preferred), "")) << "it gave no answer; " << trace;
  std::printf("[ partition ] serializable read with a frozen member and a leaderless former leader:%s\n",
              trace.c_str());
}

TEST_F(PartitionTest, HealedMemberCatchesUpAndServesAgain) {
  const std::size_t isolated = (leader_ + 1) % 3;
  etcd().partition().isolate(isolated);
  ASSERT_TRUE(eventually([&] { return knows_no_leader(isolated); }));
  // Written while the member is cut off: it can only learn it after the partition.
  client_ = std::make_unique<Etcd3Client>(client_options({etcd().endpoint(others(isolated).front())}));
  put(key("during"), "written while isolated");

  etcd().partition().heal();
  ASSERT_TRUE(leader().has_value());
  // A client that only knows the healed member reads the write linearizably through it.
  Etcd3Options pinned = client_options({etcd().endpoint(isolated)});
  pinned.use_proxies = true;  // keep exactly this endpoint
  client_ = std::make_unique<Etcd3Client>(std::move(pinned));
  const RangeResponse read = get(key("during"));
  ASSERT_EQ(read.kvs.size(), 1u);
  EXPECT_EQ(read.kvs[0].value, "written while isolated");
  EXPECT_EQ(client().current_endpoint(), etcd().endpoint(isolated));
}

}  // namespace
}  // namespace dcs::itest
