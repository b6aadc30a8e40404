// The seed endpoint list (spec 1.4): SRV discovery with a scripted DNS and real HTTP peers (the
// in-process mock) for the `-server` records, host expansion, and which source wins.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "etcd3/endpoint_discovery.hpp"
#include "net/dns_cache.hpp"
#include "unit/mock_etcd_server.hpp"

namespace dcs::etcd3::discovery {
namespace {

using dcs::test::MockEtcdServer;
using dcs::test::RecordingLog;
using Urls = std::vector<std::string>;

// SRV answers the test sets; records every name asked for.
class FakeSrv {
 public:
  void set(const std::string& name, std::vector<SrvRecord> records) {
    std::lock_guard lock(mutex_);
    answers_[name] = std::move(records);
  }
  void throw_for(const std::string& name) {
    std::lock_guard lock(mutex_);
    throwing_.push_back(name);
  }
  Urls queried() const {
    std::lock_guard lock(mutex_);
    return queried_;
  }
  SrvLookup fn() {
    return [this](const std::string& name) {
      std::lock_guard lock(mutex_);
      queried_.push_back(name);
      if (std::find(throwing_.begin(), throwing_.end(), name) != throwing_.end()) {
        throw std::runtime_error("DNS server failure");
      }
      const auto it = answers_.find(name);
      return it == answers_.end() ? std::vector<SrvRecord>{} : it->second;
    };
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<SrvRecord>> answers_;
  std::vector<std::string> throwing_;
  Urls queried_;
};

SrvRecord record(std::string target, int port, int priority = 0, int weight = 0) {
  return SrvRecord{std::move(target), port, priority, weight};
}

// A members array as etcd's peer port serves it at GET /members.
std::string members_json(const std::vector<Urls>& client_urls) {
  nlohmann::json members = nlohmann::json::array();
  int id = 1;
  for (const auto& urls : client_urls) {
    members.push_back({{"id", std::to_string(id)},
                       {"name", "m" + std::to_string(id)},
                       {"peerURLs", {"http://10.0.0." + std::to_string(id) + ":2380"}},
                       {"clientURLs", urls}});
    ++id;
  }
  return members.dump();
}

class EndpointDiscoveryTest : public ::testing::Test {
 protected:
  Etcd3Options srv_options(const std::string& suffix = "") {
    Etcd3Options o;
    o.srv = "example.org";
    o.srv_suffix = suffix;
    o.retry_timeout = std::chrono::seconds(5);
    return o;
  }
  Hooks hooks() {
    Hooks h;
    h.srv_lookup = srv.fn();
    h.host_lookup = [this](const std::string& host, int port) {
      std::lock_guard lock(mutex);
      host_lookups.push_back(host + ":" + std::to_string(port));
      const auto it = hosts.find(host);
      if (it == hosts.end()) throw net::DnsError("Name or service not known");
      return it->second;
    };
    h.log_sink = log.sink();
    return h;
  }
  bool logged(const std::string& text) const {
    for (const auto& line : log.lines()) {
      if (line.message.find(text) != std::string::npos) return true;
    }
    return false;
  }

  FakeSrv srv;
  RecordingLog log;
  std::mutex mutex;
  std::map<std::string, Urls> hosts;
  Urls host_lookups;
};

TEST(SrvLabelsTest, OrderWithoutSuffix) {
  EXPECT_EQ(srv_labels(""), (Urls{"-client-ssl", "-client", "-ssl", "", "-server-ssl", "-server"}));
}

TEST(SrvLabelsTest, SuffixIsAppendedToEveryLabelIncludingTheEmptyOne) {
  EXPECT_EQ(srv_labels("prod"),
            (Urls{"-client-ssl-prod", "-client-prod", "-ssl-prod", "-prod", "-server-ssl-prod", "-server-prod"}));
}

TEST_F(EndpointDiscoveryTest, QueriesEveryLabelInOrderWhenNothingAnswers) {
  const SeedEndpoints seed = seed_endpoints(srv_options(), hooks());
  EXPECT_TRUE(seed.endpoints.empty());
  EXPECT_FALSE(seed.from_srv);
  EXPECT_EQ(srv.queried(),
            (Urls{"_etcd-client-ssl._tcp.example.org", "_etcd-client._tcp.example.org", "_etcd-ssl._tcp.example.org",
                  "_etcd._tcp.example.org", "_etcd-server-ssl._tcp.example.org", "_etcd-server._tcp.example.org"}));
  EXPECT_TRUE(logged("Can not resolve SRV for example.org"));
}

TEST_F(EndpointDiscoveryTest, QueriesWithTheSuffix) {
  seed_endpoints(srv_options("prod"), hooks());
  EXPECT_EQ(srv.queried(), (Urls{"_etcd-client-ssl-prod._tcp.example.org", "_etcd-client-prod._tcp.example.org",
                                 "_etcd-ssl-prod._tcp.example.org", "_etcd-prod._tcp.example.org",
                                 "_etcd-server-ssl-prod._tcp.example.org", "_etcd-server-prod._tcp.example.org"}));
}

TEST_F(EndpointDiscoveryTest, StopsAtTheFirstLabelWithRecords) {
  srv.set("_etcd-ssl._tcp.example.org", {record("a.example.org", 2379)});
  srv.set("_etcd._tcp.example.org", {record("b.example.org", 2379)});
  const SeedEndpoints seed = seed_endpoints(srv_options(), hooks());
  EXPECT_EQ(seed.endpoints, Urls{"https://a.example.org:2379"});
  EXPECT_EQ(seed.protocol, "https");
  EXPECT_TRUE(seed.from_srv);
  EXPECT_EQ(srv.queried().size(), 3u);
}

TEST_F(EndpointDiscoveryTest, SchemeFollowsTheLabel) {
  srv.set("_etcd-client._tcp.example.org", {record("a.example.org", 2379)});
  SeedEndpoints seed = seed_endpoints(srv_options(), hooks());
  EXPECT_EQ(seed.endpoints, Urls{"http://a.example.org:2379"});
  EXPECT_EQ(seed.protocol, "http");

  srv.set("_etcd-client-ssl._tcp.example.org", {record("b.example.org", 2379)});
  seed = seed_endpoints(srv_options(), hooks());
  EXPECT_EQ(seed.endpoints, Urls{"https://b.example.org:2379"});
  EXPECT_EQ(seed.protocol, "https");

  srv.set("_etcd-prod._tcp.example.org", {record("c.example.org", 4001)});
  seed = seed_endpoints(srv_options("prod"), hooks());
  EXPECT_EQ(seed.endpoints, Urls{"http://c.example.org:4001"});
  EXPECT_EQ(seed.protocol, "http");
}

TEST_F(EndpointDiscoveryTest, RecordsAreOrderedDeduplicatedAndTrimmed) {
  srv.set("_etcd-client._tcp.example.org",
          {record("b.example.org.", 2379, 10), record("a.example.org", 2379, 0, 1), record("c.example.org", 2379, 0, 5),
           record("a.example.org.", 2379, 0), record(".", 2379), record("d.example.org", 0)});
  const SeedEndpoints seed = seed_endpoints(srv_options(), hooks());
  EXPECT_EQ(seed.endpoints,
            (Urls{"http://c.example.org:2379", "http://a.example.org:2379", "http://b.example.org:2379"}));
}

TEST_F(EndpointDiscoveryTest, DnsExceptionMeansNoUrls) {
  for (const auto& label : srv_labels("")) srv.throw_for("_etcd" + label + "._tcp.example.org");
  const SeedEndpoints seed = seed_endpoints(srv_options(), hooks());
  EXPECT_TRUE(seed.endpoints.empty());
  EXPECT_EQ(srv.queried().size(), 6u);
}

TEST_F(EndpointDiscoveryTest, DnsExceptionOnOneLabelMovesToTheNext) {
  srv.throw_for("_etcd-client-ssl._tcp.example.org");
  srv.set("_etcd-client._tcp.example.org", {record("a.example.org", 2379)});
  EXPECT_EQ(seed_endpoints(srv_options(), hooks()).endpoints, Urls{"http://a.example.org:2379"});
}

TEST_F(EndpointDiscoveryTest, ServerRecordsAreAskedForTheirMembers) {
  MockEtcdServer peer;
  peer.answer("/members", 200,
              members_json({{"http://10.0.0.1:2379", "http://10.0.0.2:2379"},
                            {"http://10.0.0.2:2379/", "http://10.0.0.3:2379"}}));
  srv.set("_etcd-server._tcp.example.org", {record("127.0.0.1", peer.port())});
  const SeedEndpoints seed = seed_endpoints(srv_options(), hooks());
  EXPECT_EQ(seed.endpoints, (Urls{"http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"}));
  EXPECT_EQ(seed.protocol, "http");
  EXPECT_TRUE(seed.from_srv);
  const auto requests = peer.requests_to("/members");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
}

TEST_F(EndpointDiscoveryTest, ServerRecordsWithSuffix) {
  MockEtcdServer peer;
  peer.answer("/members", 200, members_json({{"https://10.0.0.1:2379"}}));
  srv.set("_etcd-server-prod._tcp.example.org", {record("localhost", peer.port())});
  const SeedEndpoints seed = seed_endpoints(srv_options("prod"), hooks());
  EXPECT_EQ(seed.endpoints, Urls{"https://10.0.0.1:2379"});
  // The label decides the scheme, whatever the members advertise.
  EXPECT_EQ(seed.protocol, "http");
  EXPECT_EQ(peer.requests_to("/members").size(), 1u);
}

TEST_F(EndpointDiscoveryTest, ServerProbeStopsAtTheFirstPeerThatAnswers) {
  MockEtcdServer failing;  // HTTP 500
  MockEtcdServer garbled;  // 200 but not a members array
  MockEtcdServer missing;  // no /members route: 404
  MockEtcdServer good;
  MockEtcdServer unasked;
  failing.answer("/members", 500, "{}");
  garbled.answer("/members", 200, R"({"members": []})");
  good.answer("/members", 200, members_json({{"http://10.0.0.7:2379"}}));
  unasked.answer("/members", 200, members_json({{"http://10.0.0.8:2379"}}));
  srv.set("_etcd-server._tcp.example.org",
          {record("127.0.0.1", unasked.port(), 9), record("127.0.0.1", failing.port(), 1),
           record("127.0.0.1", garbled.port(), 2), record("127.0.0.1", missing.port(), 3),
           record("127.0.0.1", good.port(), 4)});
  const SeedEndpoints seed = seed_endpoints(srv_options(), hooks());
  EXPECT_EQ(seed.endpoints, Urls{"http://10.0.0.7:2379"});
  EXPECT_EQ(failing.requests_to("/members").size(), 1u);
  EXPECT_EQ(garbled.requests_to("/members").size(), 1u);
  EXPECT_EQ(missing.requests_to("/members").size(), 1u);
  EXPECT_EQ(good.requests_to("/members").size(), 1u);
  EXPECT_TRUE(unasked.requests_to("/members").empty());
  EXPECT_TRUE(logged("GET http://127.0.0.1:" + std::to_string(failing.port()) + "/members failed: HTTP status 500"));
}

TEST_F(EndpointDiscoveryTest, ServerProbeWithoutAnswersGivesNothing) {
  MockEtcdServer peer;
  peer.answer("/members", 503, "unavailable", "text/plain");
  srv.set("_etcd-server._tcp.example.org", {record("127.0.0.1", peer.port())});
  const SeedEndpoints seed = seed_endpoints(srv_options(), hooks());
  EXPECT_TRUE(seed.endpoints.empty());
  EXPECT_TRUE(logged("Can not resolve SRV for example.org"));
}

TEST_F(EndpointDiscoveryTest, MemberWithoutClientUrlsIsNoAnswer) {
  MockEtcdServer peer;
  peer.answer("/members", 200, R"([{"id":"1","clientURLs":["http://10.0.0.1:2379"]},{"id":"2"}])");
  std::vector<std::string> urls;
  std::string error;
  EXPECT_FALSE(fetch_peer_client_urls(peer.url() + "/members", std::chrono::seconds(5), urls, error));
  EXPECT_TRUE(urls.empty());
  EXPECT_EQ(error, "a member without clientURLs");
}

TEST_F(EndpointDiscoveryTest, SrvFailureFallsBackToConfiguredEndpoints) {
  Etcd3Options o = srv_options();
  o.endpoints = {"http://h1:2379", "http://h2:2379"};
  const SeedEndpoints seed = seed_endpoints(o, hooks());
  EXPECT_EQ(seed.endpoints, o.endpoints);
  EXPECT_FALSE(seed.from_srv);
  EXPECT_EQ(srv.queried().size(), 6u);
}

TEST_F(EndpointDiscoveryTest, SrvWinsOverConfiguredEndpoints) {
  srv.set("_etcd-client._tcp.example.org", {record("a.example.org", 2379)});
  Etcd3Options o = srv_options();
  o.endpoints = {"http://h1:2379"};
  EXPECT_EQ(seed_endpoints(o, hooks()).endpoints, Urls{"http://a.example.org:2379"});
}

TEST_F(EndpointDiscoveryTest, UseProxiesKeepsTheListAndSkipsDiscovery) {
  Etcd3Options o = srv_options();
  o.use_proxies = true;
  o.expand_host = true;
  o.endpoints = {"http://proxy:3000/"};
  srv.set("_etcd-client._tcp.example.org", {record("a.example.org", 2379)});
  hosts["proxy"] = {"10.0.0.1"};
  const SeedEndpoints seed = seed_endpoints(o, hooks());
  EXPECT_EQ(seed.endpoints, Urls{"http://proxy:3000"});
  EXPECT_TRUE(srv.queried().empty());
  EXPECT_TRUE(host_lookups.empty());
}

TEST_F(EndpointDiscoveryTest, HostsAreKeptAsGiven) {
  Etcd3Options o;
  o.endpoints = {"http://h1:2379", "http://h2:4001", "http://h1:2379"};
  hosts["h1"] = {"10.0.0.1"};
  const SeedEndpoints seed = seed_endpoints(o, hooks());
  EXPECT_EQ(seed.endpoints, o.endpoints);
  EXPECT_EQ(seed.protocol, "http");
  EXPECT_TRUE(host_lookups.empty());
  EXPECT_TRUE(srv.queried().empty());
}

TEST_F(EndpointDiscoveryTest, HostIsExpandedToEveryAddress) {
  Etcd3Options o;
  o.endpoints = {"http://etcd.local:4001"};
  o.expand_host = true;
  hosts["etcd.local"] = {"10.0.0.1", "fd00::2", "10.0.0.1", "10.0.0.3"};
  const SeedEndpoints seed = seed_endpoints(o, hooks());
  EXPECT_EQ(seed.endpoints, (Urls{"http://10.0.0.1:4001", "http://[fd00::2]:4001", "http://10.0.0.3:4001"}));
  EXPECT_EQ(host_lookups, Urls{"etcd.local:4001"});
}

TEST_F(EndpointDiscoveryTest, UnresolvableHostFallsBackToItsUrl) {
  Etcd3Options o;
  o.endpoints = {"http://nowhere.invalid:2379"};
  o.expand_host = true;
  EXPECT_EQ(seed_endpoints(o, hooks()).endpoints, Urls{"http://nowhere.invalid:2379"});
  hosts["nowhere.invalid"] = {};  // resolves to nothing at all
  EXPECT_EQ(seed_endpoints(o, hooks()).endpoints, Urls{"http://nowhere.invalid:2379"});
  EXPECT_EQ(host_lookups.size(), 2u);
}

TEST_F(EndpointDiscoveryTest, HttpsHostIsNotExpanded) {
  Etcd3Options o;
  o.protocol = "https";
  o.endpoints = {"https://etcd.local:2379"};
  o.expand_host = true;
  hosts["etcd.local"] = {"10.0.0.1"};
  const SeedEndpoints seed = seed_endpoints(o, hooks());
  EXPECT_EQ(seed.endpoints, Urls{"https://etcd.local:2379"});
  EXPECT_EQ(seed.protocol, "https");
  EXPECT_TRUE(host_lookups.empty());
}

TEST(ExpandHostTest, SystemLookupOfLocalhostAndLiterals) {
  // No hook: getaddrinfo, which answers localhost from /etc/hosts.
  const Urls local = expand_host("http://localhost:2379", {});
  ASSERT_FALSE(local.empty());
  for (const auto& url : local) {
    EXPECT_TRUE(url == "http://127.0.0.1:2379" || url == "http://[::1]:2379") << url;
  }
  EXPECT_EQ(expand_host("http://[::1]:2379", {}), Urls{"http://[::1]:2379"});
  EXPECT_EQ(expand_host("http://127.0.0.1:2379", {}), Urls{"http://127.0.0.1:2379"});
}

TEST(ExpandHostTest, WorksWithTheCachingResolver) {
  int calls = 0;
  net::DnsCachingResolver::Options options;
  options.lookup = [&calls](const std::string&, int) {
    ++calls;
    return std::vector<std::string>{"10.0.0.5"};
  };
  net::DnsCachingResolver resolver(options);
  const HostLookup lookup = [&resolver](const std::string& host, int port) { return resolver.resolve(host, port); };
  EXPECT_EQ(expand_host("http://etcd:2379", lookup), Urls{"http://10.0.0.5:2379"});
  EXPECT_EQ(expand_host("http://etcd:2379", lookup), Urls{"http://10.0.0.5:2379"});
  EXPECT_EQ(calls, 1);
}

TEST(MakeUrlTest, BracketsIpv6Literals) {
  EXPECT_EQ(make_url("http", "10.0.0.1", 2379), "http://10.0.0.1:2379");
  EXPECT_EQ(make_url("https", "fd00::1", 2379), "https://[fd00::1]:2379");
  EXPECT_EQ(make_url("http", "[fd00::1]", 1), "http://[fd00::1]:1");
  EXPECT_EQ(make_url("http", "etcd", 2379), "http://etcd:2379");
}

// A DNS response as a server sends it: the question, then answer records whose names use
// compression pointers into the question.
std::vector<unsigned char> srv_response() {
  std::vector<unsigned char> m = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 4, 0, 0, 0, 0};
  const auto name = [&m](std::initializer_list<std::string> labels) {
    for (const auto& label : labels) {
      m.push_back(static_cast<unsigned char>(label.size()));
      m.insert(m.end(), label.begin(), label.end());
    }
  };
  const auto u16 = [&m](int v) {
    m.push_back(static_cast<unsigned char>(v >> 8));
    m.push_back(static_cast<unsigned char>(v & 0xff));
  };
  name({"_etcd-client", "_tcp", "example", "org"});
  m.push_back(0);
  u16(33);                                          // SRV
  u16(1);                                           // IN
  constexpr int kExampleOrg = 12 + 1 + 12 + 1 + 4;  // offset of "example.org" in the question
  const auto srv_rr = [&](int priority, int weight, int port, std::initializer_list<std::string> target,
                          bool compressed_tail, int type = 33) {
    u16(0xc00c);  // the question's name
    u16(type);
    u16(1);
    m.insert(m.end(), {0, 0, 0x0e, 0x10});  // TTL 3600
    std::vector<unsigned char> rdata;
    std::swap(m, rdata);
    u16(priority);
    u16(weight);
    u16(port);
    name(target);
    if (compressed_tail) {
      u16(0xc000 | kExampleOrg);
    } else {
      m.push_back(0);
    }
    std::swap(m, rdata);
    u16(static_cast<int>(rdata.size()));
    m.insert(m.end(), rdata.begin(), rdata.end());
  };
  srv_rr(10, 60, 2379, {"etcd-1"}, true);
  srv_rr(20, 0, 4001, {"etcd-2", "other", "net"}, false);
  srv_rr(0, 0, 2379, {}, false);       // "." : no service
  srv_rr(0, 0, 2379, {"x"}, true, 5);  // not SRV (a CNAME's type): skipped
  return m;
}

TEST(ParseSrvAnswerTest, ReadsTargetsPortsAndPriorities) {
  const auto message = srv_response();
  const auto records = parse_srv_answer(message.data(), static_cast<int>(message.size()));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].target, "etcd-1.example.org");
  EXPECT_EQ(records[0].port, 2379);
  EXPECT_EQ(records[0].priority, 10);
  EXPECT_EQ(records[0].weight, 60);
  EXPECT_EQ(records[1].target, "etcd-2.other.net");
  EXPECT_EQ(records[1].port, 4001);
  EXPECT_EQ(records[1].priority, 20);
}

TEST(ParseSrvAnswerTest, TruncatedMessageGivesNoRecords) {
  const auto message = srv_response();
  EXPECT_TRUE(parse_srv_answer(message.data(), 40).empty());
  EXPECT_TRUE(parse_srv_answer(message.data(), 5).empty());
}

TEST(SystemSrvLookupTest, InvalidNameGivesNoRecords) {
  // Longer than a DNS name may be: refused before anything is sent, so no network is needed.
  EXPECT_TRUE(system_srv_lookup("_etcd._tcp." + std::string(300, 'a') + ".org").empty());
}

}  // namespace
}  // namespace dcs::etcd3::discovery
