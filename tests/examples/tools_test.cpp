// The parts of ha_daemon and dcsctl that need no etcd: YAML configuration and flags, ISO 8601
// times, and dcsctl's JSON view and change lines of a cluster.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/args.hpp"
#include "common/dcs_config.hpp"
#include "common/iso8601.hpp"
#include "dcs/cluster.hpp"
#include "dcs/errors.hpp"
#include "dcsctl/cluster_report.hpp"

namespace dcs_examples {
namespace {

using nlohmann::json;

Args parse(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "prog");
  return Args::parse(static_cast<int>(argv.size()), argv.data(), 1, dcs_option_specs({.member = true}));
}

TEST(ExampleConfig, YamlScalarsAreTypedAsPatroniReadsThem) {
  const json value = yaml_to_json(
      YAML::Load("ttl: 30\nratio: 0.5\non: yes\noff: off\nnothing: ~\nname: '1'\nhosts: [a:1, b:2]\nnested: {k: v}\n"));
  EXPECT_EQ(value["ttl"], 30);
  EXPECT_EQ(value["ratio"], 0.5);
  EXPECT_EQ(value["on"], true);
  EXPECT_EQ(value["off"], false);
  EXPECT_TRUE(value["nothing"].is_null());
  EXPECT_EQ(value["name"], "1") << "a quoted scalar stays a string";
  EXPECT_EQ(value["hosts"], json({"a:1", "b:2"}));
  EXPECT_EQ(value["nested"]["k"], "v");
}

TEST(ExampleConfig, FlagsWinOverTheFile) {
  const std::string path = ::testing::TempDir() + "/ha_daemon_config.yaml";
  {
    std::ofstream file(path);
    file << "scope: from-file\nname: n1\nttl: 30\netcd3:\n  url: http://10.0.0.1:2379\n  username: u\n";
  }
  const Args args = parse({"-c", path.c_str(), "--scope", "from-flag", "--hosts", "127.0.0.1:2379,127.0.0.2:2380",
                           "--ttl", "5", "--group", "1"});
  const json config = load_config(args);
  EXPECT_EQ(config["scope"], "from-flag");
  EXPECT_EQ(config["name"], "n1");
  EXPECT_EQ(config["ttl"], 5);
  EXPECT_FALSE(config["etcd3"].contains("url")) << "--hosts replaces the endpoints of the file";
  EXPECT_EQ(config["etcd3"]["username"], "u");
  const auto options = etcd3_options(config);
  EXPECT_EQ(options.endpoints, (std::vector<std::string>{"http://127.0.0.1:2379", "http://127.0.0.2:2380"}));
  EXPECT_EQ(options.ttl.count(), 5);
  EXPECT_EQ(options.citus_group, 1);
  std::remove(path.c_str());
}

TEST(ExampleConfig, BadInputIsAUsageOrConfigError) {
  EXPECT_THROW(parse({"--ttl", "soon"}).get_int("ttl"), UsageError);
  EXPECT_THROW(parse({"--no-such-flag"}), UsageError);
  EXPECT_THROW(parse({"--hosts"}), UsageError);
  EXPECT_THROW(load_yaml_file("/nonexistent/file.yaml"), UsageError);
  EXPECT_THROW(etcd3_options(json{{"scope", "x"}}), dcs::ConfigError) << "no etcd3 section";
  EXPECT_THROW(etcd3_options(json{{"ttl", -1}, {"etcd3", {{"hosts", "a:1"}}}}), dcs::ConfigError);
}

// Found by fuzz_yaml_config: an alias inside its own anchor made the reader recurse until the
// stack overflowed.
TEST(ExampleConfig, AnAliasInsideItsOwnAnchorIsAUsageError) {
  EXPECT_THROW(yaml_to_json(YAML::Load("etcd3: &a {hosts: x, again: *a}\n")), UsageError);
}

TEST(ExampleConfig, AliasesThatExpandWithoutBoundAreAUsageError) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 8; ++level) {
    text += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) text += (i ? ", *a" : "*a") + std::to_string(level - 1);
    text += "]\n";
  }
  EXPECT_THROW(yaml_to_json(YAML::Load(text)), UsageError);
  // A real document with aliases still reads.
  EXPECT_EQ(yaml_to_json(YAML::Load("base: &b {ttl: 30}\nother: *b\n"))["other"]["ttl"], 30);
}

TEST(ExampleConfig, JsonRendersAsYamlThatReadsBack) {
  const json config = {
      {"ttl", 30}, {"postgresql", {{"parameters", {{"max_connections", 100}}}}}, {"text", "yes"}, {"list", {1, 2}}};
  EXPECT_EQ(yaml_to_json(YAML::Load(json_to_yaml(config))), config);
}

TEST(Iso8601, ParsesPatroniTimestamps) {
  EXPECT_EQ(parse_iso8601("2023-11-14T22:13:20+00:00"), 1700000000.0);
  EXPECT_EQ(parse_iso8601("2023-11-14T22:13:20Z"), 1700000000.0);
  EXPECT_EQ(parse_iso8601("2023-11-15T00:13:20+02:00"), 1700000000.0);
  EXPECT_EQ(parse_iso8601("2023-11-14T22:13:20.5+0000"), 1700000000.5);
  EXPECT_FALSE(parse_iso8601("tomorrow"));
  EXPECT_FALSE(parse_iso8601("2023-13-01T00:00:00Z"));
  EXPECT_EQ(format_iso8601_utc(1700000000.7), "2023-11-14T22:13:20+00:00");
}

dcs::Cluster sample_cluster() {
  const std::string base = "";
  std::vector<dcs::StoredKey> keys = {
      {"initialize", "7000", 2, 0},
      {"config", R"({"ttl":30,"synchronous_mode":true})", 3, 0},
      {"leader", "a", 4, 77},
      {"members/a",
       R"({"conn_url":"postgres://10.0.0.1:5432/postgres","api_url":"http://10.0.0.1:8008/patroni",)"
       R"("state":"running","role":"primary","timeline":2,"xlog_location":5000})",
       5, 77},
      {"members/b",
       R"({"conn_url":"postgres://10.0.0.2:5432/postgres","state":"running","role":"replica",)"
       R"("timeline":2,"xlog_location":4000,"tags":{"nofailover":true}})",
       6, 78},
      {"members/c", R"({"conn_url":"postgres://10.0.0.3:5432/postgres","state":"running","role":"replica"})", 7, 79},
      {"sync", R"({"leader":"a","quorum":0,"sync_standby":"b"})", 8, 0},
      {"history", R"([[1,3000,"no recovery target specified","2023-11-14T22:13:20+00:00","a"]])", 9, 0},
      {"status", R"({"optime":5000})", 10, 0},
      {"failover", R"({"leader":"a","member":"c","scheduled_at":"2030-01-01T00:00:00+00:00"})", 11, 0},
  };
  return dcs::Cluster::from_keys(keys);
}

TEST(ClusterReport, JsonHoldsTheDocumentedFields) {
  const json doc = cluster_to_json("demo", sample_cluster(), false);
  EXPECT_EQ(doc["scope"], "demo");
  EXPECT_EQ(doc["leader"], "a");
  EXPECT_EQ(doc["initialize"], "7000");
  EXPECT_EQ(doc["config"], json({{"ttl", 30}, {"synchronous_mode", true}}));
  EXPECT_EQ(doc["failover"], json({{"leader", "a"}, {"member", "c"}, {"scheduled_at", "2030-01-01T00:00:00+00:00"}}));
  EXPECT_EQ(doc["sync"]["sync_standby"], "b");
  EXPECT_EQ(doc["history"][0][4], "a");
  EXPECT_EQ(doc["status"]["optime"], 5000);
  EXPECT_TRUE(doc["failsafe"].is_null());
  ASSERT_EQ(doc["members"].size(), 3u);
  const json& a = doc["members"][0];
  EXPECT_EQ(a["name"], "a");
  EXPECT_EQ(a["role"], "leader");
  EXPECT_EQ(a["state"], "running");
  EXPECT_EQ(a["api_url"], "http://10.0.0.1:8008/patroni");
  EXPECT_EQ(a["conn_url"], "postgres://10.0.0.1:5432/postgres");
  EXPECT_EQ(a["timeline"], 2);
  EXPECT_TRUE(a["lag"].is_null()) << "the leader has no lag";
  EXPECT_EQ(doc["members"][1]["role"], "sync_standby");
  EXPECT_EQ(doc["members"][1]["lag"], 1000);
  EXPECT_EQ(doc["members"][1]["tags"], json({{"nofailover", true}}));
  EXPECT_EQ(doc["members"][2]["role"], "replica");
  EXPECT_TRUE(doc["members"][2]["lag"].is_null()) << "no position reported: unknown";
}

TEST(ClusterReport, TableShowsEveryMemberAndTheScheduledSwitchover) {
  const std::string table = render_table("demo", sample_cluster(), false);
  EXPECT_NE(table.find(" Cluster: demo (7000) "), std::string::npos) << table;
  EXPECT_NE(table.find("| Sync Standby |"), std::string::npos) << table;
  EXPECT_NE(table.find("| 10.0.0.3 "), std::string::npos) << table;
  EXPECT_NE(table.find("nofailover: true"), std::string::npos) << table;
  EXPECT_NE(table.find("Switchover scheduled at: 2030-01-01T00:00:00+00:00 from a to c"), std::string::npos) << table;
}

TEST(ClusterReport, ChangesAreOneLineEach) {
  const json before = cluster_to_json("demo", sample_cluster(), false);
  json after = before;
  after["leader"] = "c";
  after["members"][0]["role"] = "replica";
  after["members"][2]["role"] = "leader";
  after["members"].erase(1);
  after["failover"] = json::object();
  const auto lines = describe_changes(before, after);
  const std::vector<std::string> expected = {"leader: a -> c", "member a: role leader -> replica",
                                             "member c: role replica -> leader", "member b: gone", "failover: {}"};
  EXPECT_EQ(lines, expected);
  EXPECT_TRUE(describe_changes(before, before).empty());
  EXPECT_FALSE(describe_changes(nullptr, before).empty()) << "the first state is printed in full";
}

}  // namespace
}  // namespace dcs_examples
