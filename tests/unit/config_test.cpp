// Etcd3Options from Patroni's etcd3 section: every key, Patroni's precedence, and a clear
// ConfigError naming the key for every invalid input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include "dcs/errors.hpp"
#include "dcs/etcd3/config.hpp"

namespace {

using dcs::ConfigError;
using dcs::etcd3::Etcd3Options;
using dcs::etcd3::parse_etcd3_options;
using dcs::etcd3::parse_patroni_config;
using dcs::etcd3::validate;
using nlohmann::json;
using Endpoints = std::vector<std::string>;

// Runs `fn`, expects a ConfigError, returns the key it named.
template <typename Fn>
std::string config_error_key(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(e.key()), std::string::npos) << e.what();
    return e.key();
  }
  ADD_FAILURE() << "no ConfigError";
  return {};
}

TEST(ConfigTest, HostGetsDefaultPortAndIsExpanded) {
  const Etcd3Options o = parse_etcd3_options(json{{"host", "etcd.local"}});
  EXPECT_EQ(o.endpoints, Endpoints{"http://etcd.local:2379"});
  EXPECT_TRUE(o.expand_host);
  EXPECT_FALSE(o.use_proxies);
}

TEST(ConfigTest, ExplicitPortWinsOverPortInHost) {
  EXPECT_EQ(parse_etcd3_options(json{{"host", "a:1111"}}).endpoints, Endpoints{"http://a:1111"});
  EXPECT_EQ(parse_etcd3_options(json{{"host", "a:1111"}, {"port", 2222}}).endpoints, Endpoints{"http://a:2222"});
}

TEST(ConfigTest, HostsAsListOrCommaStringWithDefaultPortAndProtocol) {
  const Endpoints expected{"https://a:2379", "https://b:4001", "https://[::1]:2379", "https://[fe80::1]:7"};
  EXPECT_EQ(
      parse_etcd3_options(json{{"hosts", {"a", "b:4001", "[::1]", "[fe80::1]:7"}}, {"protocol", "https"}}).endpoints,
      expected);
  EXPECT_EQ(parse_etcd3_options(json{{"hosts", "a, b:4001,[::1],[fe80::1]:7"}, {"protocol", "https"}}).endpoints,
            expected);
  EXPECT_EQ(parse_etcd3_options(json{{"hosts", "a,b"}, {"port", "4001"}}).endpoints,
            (Endpoints{"http://a:4001", "http://b:4001"}));
}

TEST(ConfigTest, UrlSetsProtocolHostPortAndReplacesCredentials) {
  const Etcd3Options o =
      parse_etcd3_options(json{{"url", "https://u:p@etcd:2400/x"}, {"username", "old"}, {"password", "old"}});
  EXPECT_EQ(o.endpoints, Endpoints{"https://etcd:2400"});
  EXPECT_EQ(o.protocol, "https");
  EXPECT_EQ(o.username, "u");
  EXPECT_EQ(o.password, "p");
  // A URL without user info still replaces the keys (with nothing), as in Patroni.
  const Etcd3Options bare = parse_etcd3_options(json{{"url", "http://etcd"}, {"username", "x"}, {"password", "y"}});
  EXPECT_EQ(bare.endpoints, Endpoints{"http://etcd:2379"});
  EXPECT_TRUE(bare.username.empty());
  EXPECT_TRUE(bare.password.empty());
}

TEST(ConfigTest, ProxyForcesUseProxiesAndWinsOverEverything) {
  const Etcd3Options o = parse_etcd3_options(
      json{{"proxy", "http://proxy:3000"}, {"url", "http://u:1"}, {"hosts", "h:2"}, {"host", "x:3"}});
  EXPECT_EQ(o.endpoints, Endpoints{"http://proxy:3000"});
  EXPECT_TRUE(o.use_proxies);
  EXPECT_FALSE(o.expand_host);
}

TEST(ConfigTest, UrlWinsOverHostsWhichWinOverHost) {
  EXPECT_EQ(parse_etcd3_options(json{{"url", "http://u:1"}, {"hosts", "h:2"}}).endpoints, Endpoints{"http://u:1"});
  EXPECT_EQ(parse_etcd3_options(json{{"hosts", "h:2"}, {"host", "x:3"}}).endpoints, Endpoints{"http://h:2"});
}

TEST(ConfigTest, SrvAndItsLegacyAliases) {
  EXPECT_EQ(parse_etcd3_options(json{{"srv", "example.org"}, {"srv_suffix", "s"}}).srv, "example.org");
  EXPECT_EQ(parse_etcd3_options(json{{"srv", "example.org"}, {"srv_suffix", "s"}}).srv_suffix, "s");
  EXPECT_EQ(parse_etcd3_options(json{{"discovery_srv", "a.org"}}).srv, "a.org");
  EXPECT_EQ(parse_etcd3_options(json{{"srv_domain", "b.org"}}).srv, "b.org");
}

TEST(ConfigTest, TimingsNamesAndFlags) {
  const Etcd3Options o = parse_etcd3_options(json{{"host", "a"},
                                                  {"ttl", 20},
                                                  {"loop_wait", "5"},
                                                  {"retry_timeout", 7.0},
                                                  {"namespace", "/patroni/"},
                                                  {"scope", "demo"},
                                                  {"name", "node1"},
                                                  {"use_proxies", "yes"},
                                                  {"patronictl", true},
                                                  {"username", "u"},
                                                  {"password", "p"},
                                                  {"cacert", "/ca"},
                                                  {"cert", "/c"},
                                                  {"key", "/k"},
                                                  {"key_password", "ignored"},
                                                  {"user", "ignored, not an alias"}});
  EXPECT_EQ(o.ttl, std::chrono::seconds(20));
  EXPECT_EQ(o.loop_wait, std::chrono::seconds(5));
  EXPECT_EQ(o.retry_timeout, std::chrono::seconds(7));
  EXPECT_EQ(o.namespace_, "/patroni/");
  EXPECT_EQ(o.scope, "demo");
  EXPECT_EQ(o.name, "node1");
  EXPECT_TRUE(o.use_proxies);
  EXPECT_TRUE(o.patronictl);
  EXPECT_EQ(o.username, "u");
  EXPECT_EQ(o.password, "p");
  EXPECT_EQ(o.cacert, "/ca");
  EXPECT_EQ(o.cert, "/c");
  EXPECT_EQ(o.key, "/k");
}

TEST(ConfigTest, DefaultsFollowPatroni) {
  const Etcd3Options o = parse_etcd3_options(json{{"host", "a"}});
  EXPECT_EQ(o.ttl, std::chrono::seconds(30));
  EXPECT_EQ(o.loop_wait, std::chrono::seconds(10));
  EXPECT_EQ(o.retry_timeout, std::chrono::seconds(10));
  EXPECT_EQ(o.namespace_, "/service/");
  EXPECT_EQ(o.protocol, "http");
}

TEST(ConfigTest, PatroniConfigCopiesGlobalKeysIntoTheSection) {
  const Etcd3Options o = parse_patroni_config(json{{"scope", "demo"},
                                                   {"name", "n1"},
                                                   {"namespace", "/ns/"},
                                                   {"ttl", 40},
                                                   {"loop_wait", 4},
                                                   {"retry_timeout", 12},
                                                   {"etcd3", {{"hosts", "a:1"}, {"ttl", 99}, {"scope", "other"}}}});
  EXPECT_EQ(o.scope, "demo");
  EXPECT_EQ(o.name, "n1");
  EXPECT_EQ(o.namespace_, "/ns/");
  EXPECT_EQ(o.ttl, std::chrono::seconds(40));
  EXPECT_EQ(o.loop_wait, std::chrono::seconds(4));
  EXPECT_EQ(o.retry_timeout, std::chrono::seconds(12));
  EXPECT_EQ(config_error_key([] { parse_patroni_config(json{{"scope", "x"}}); }), "etcd3");
}

TEST(ConfigTest, PatroniConfigReadsCitusGroup) {
  const json section = {{"hosts", "a:1"}};
  EXPECT_EQ(parse_patroni_config(json{{"etcd3", section}}).citus_group, std::nullopt);
  EXPECT_EQ(parse_patroni_config(json{{"etcd3", section}, {"citus", {{"database", "citus"}}}}).citus_group,
            std::nullopt);
  EXPECT_EQ(parse_patroni_config(json{{"etcd3", section}, {"citus", {{"group", 0}}}}).citus_group, 0);
  EXPECT_EQ(parse_patroni_config(json{{"etcd3", section}, {"citus", {{"group", 3}, {"database", "d"}}}}).citus_group,
            3);
  // Anything that is not a non-negative integer would put the keys outside the member's group.
  for (const json& bad : {json(-1), json("1"), json(1.5), json(true), json::array({1})}) {
    EXPECT_EQ(config_error_key([&] {
                parse_patroni_config(json{{"etcd3", section}, {"citus", {{"group", bad}}}});
              }),
              "citus.group")
        << bad.dump();
  }
  EXPECT_EQ(config_error_key([&] { parse_patroni_config(json{{"etcd3", section}, {"citus", 1}}); }), "citus");
  // The section's own keys never carry the group (only the top-level citus mapping does).
  EXPECT_EQ(parse_etcd3_options(json{{"hosts", "a:1"}, {"group", 2}}).citus_group, std::nullopt);
}

TEST(ConfigTest, StartupTimeoutIsReadAndChecked) {
  EXPECT_EQ(parse_etcd3_options(json{{"host", "a"}}).startup_timeout, std::chrono::seconds(60));
  EXPECT_EQ(parse_etcd3_options(json{{"host", "a"}, {"startup_timeout", 0}}).startup_timeout, std::chrono::seconds(0));
  EXPECT_EQ(config_error_key([] {
              parse_etcd3_options(json{{"host", "a"}, {"startup_timeout", -1}});
            }),
            "startup_timeout");
  Etcd3Options o;
  o.endpoints = {"http://etcd:2379"};
  o.startup_timeout = std::chrono::seconds(-1);
  EXPECT_EQ(config_error_key([&] { validate(o); }), "startup_timeout");
  o.startup_timeout = std::chrono::seconds(0);
  o.citus_group = -2;
  EXPECT_EQ(config_error_key([&] { validate(o); }), "citus.group");
}

TEST(ConfigTest, InvalidConfigNamesTheKey) {
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"srv_suffix", "x"}}); }), "etcd3");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json::object()); }), "etcd3");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json::array()); }), "etcd3");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "a"}, {"protocol", "ftp"}}); }), "protocol");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"url", "gopher://a"}}); }), "url");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"url", "no-scheme"}}); }), "url");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "a"}, {"port", 70000}}); }), "port");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "a"}, {"port", 0}}); }), "port");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "a:99999"}}); }), "host");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "a:http"}}); }), "host");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"hosts", {"a", 1}}}); }), "hosts");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"hosts", 5}}); }), "hosts");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", 5}}); }), "host");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "a"}, {"ttl", "thirty"}}); }), "ttl");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "a"}, {"retry_timeout", -1}}); }), "retry_timeout");
  EXPECT_EQ(config_error_key([] {
              parse_etcd3_options(json{{"host", "a"}, {"use_proxies", "maybe"}});
            }),
            "use_proxies");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "a"}, {"username", 7}}); }), "username");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "a"}, {"key", "/k"}}); }), "key");
  EXPECT_EQ(config_error_key([] { parse_etcd3_options(json{{"host", "[::1"}}); }), "host");
}

TEST(ConfigTest, ValidateChecksEndpointsTimingsAndTlsFiles) {
  Etcd3Options o;
  EXPECT_EQ(config_error_key([&] { validate(o); }), "endpoints");
  o.endpoints = {"etcd:2379"};
  EXPECT_EQ(config_error_key([&] { validate(o); }), "endpoints");
  o.endpoints = {"http://etcd:2379"};
  EXPECT_NO_THROW(validate(o));
  o.retry_timeout = std::chrono::seconds(0);
  EXPECT_EQ(config_error_key([&] { validate(o); }), "retry_timeout");
  o.retry_timeout = std::chrono::seconds(10);

  o.cacert = "/nonexistent/ca.crt";
  EXPECT_EQ(config_error_key([&] { validate(o); }), "cacert");
  o.cacert.clear();

  const std::string cert_only = testing::TempDir() + "/cert_only.pem";
  std::ofstream(cert_only) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  o.cert = cert_only;
  EXPECT_EQ(config_error_key([&] { validate(o); }), "cert");
  const std::string combined = testing::TempDir() + "/combined.pem";
  std::ofstream(combined) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
                          << "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
  o.cert = combined;
  EXPECT_NO_THROW(validate(o));
  o.key = "/nonexistent/client.key";
  EXPECT_EQ(config_error_key([&] { validate(o); }), "key");
  std::remove(cert_only.c_str());
  std::remove(combined.c_str());
}

// Found by fuzz_yaml_config: a YAML file is not checked for UTF-8, and the message naming a value
// of the wrong type printed it with nlohmann's strict dump, which threw type_error 316 instead.
TEST(ConfigTest, WrongTypeHoldingInvalidUtf8IsStillAConfigError) {
  EXPECT_THROW(parse_patroni_config(json{{"etcd3", "host\x97\xc5 k.pem"}}), ConfigError);
  EXPECT_THROW(parse_etcd3_options(json{{"hosts", json{{"a\xff", 1}}}}), ConfigError);
  EXPECT_THROW(parse_etcd3_options(json{{"host", "h"}, {"ttl", "\xc3"}}), ConfigError);
}

// Found by fuzz_config: a float integer setting is truncated as Python's int() does, but one
// outside long long (1e300, inf from YAML's .inf) made the cast undefined behaviour.
TEST(ConfigTest, FloatOutsideIntegerRangeIsAConfigError) {
  EXPECT_EQ(parse_etcd3_options(json{{"host", "h"}, {"ttl", 30.7}}).ttl.count(), 30);
  EXPECT_THROW(parse_etcd3_options(json{{"host", "h"}, {"ttl", 1e300}}), ConfigError);
  EXPECT_THROW(parse_etcd3_options(json{{"host", "h"}, {"port", -1e19}}), ConfigError);
  EXPECT_THROW(parse_etcd3_options(json{{"host", "h"}, {"loop_wait", std::numeric_limits<double>::infinity()}}),
               ConfigError);
  EXPECT_THROW(parse_etcd3_options(json{{"host", "h"}, {"loop_wait", std::nan("")}}), ConfigError);
}

}  // namespace
