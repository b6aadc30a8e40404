// members/<name> as Patroni reads it: JSON objects, the Governor-era connection URL, and garbage.
// The legacy URL expectations come from Python 3.11's urllib, the way Patroni splits them:
//   python3 -c 'from urllib.parse import *; s,n,p,a,q,f = urlparse(V);
//               print(urlunparse((s,n,p,a,"",f)), [v for k,v in parse_qsl(q) if k=="application_name"])'
#include <gtest/gtest.h>

#include "dcs/cluster.hpp"

namespace dcs {
namespace {

using nlohmann::json;

TEST(Member, ReadsJsonObject) {
  const auto m = Member::from_node(
      7, "node1", 99,
      R"({"conn_url":"postgres://10.0.0.1:5432/postgres","api_url":"http://10.0.0.1:8008/patroni",)"
      R"("state":"running","role":"primary","version":"4.1.4","xlog_location":123456,"tags":{"nofailover":true}})");
  EXPECT_EQ(m.version, 7);
  EXPECT_EQ(m.name, "node1");
  EXPECT_EQ(m.session, 99);
  EXPECT_EQ(m.conn_url(), "postgres://10.0.0.1:5432/postgres");
  EXPECT_EQ(m.api_url(), "http://10.0.0.1:8008/patroni");
  EXPECT_TRUE(m.is_running());
  EXPECT_TRUE(m.is_primary());
  EXPECT_EQ(m.lsn(), 123456);
  EXPECT_EQ(m.patroni_version(), (std::array<int, 3>{4, 1, 4}));
  EXPECT_TRUE(m.nofailover());
  EXPECT_EQ(m.tags(), json({{"nofailover", true}}));
}

TEST(Member, TreatsMasterAsPrimary) {
  // Patroni 3.0.2 writes "master" for a primary.
  EXPECT_TRUE(Member::from_node(1, "a", 0, R"({"role":"master"})").is_primary());
  EXPECT_FALSE(Member::from_node(1, "a", 0, R"({"role":"replica"})").is_primary());
  EXPECT_FALSE(Member::from_node(1, "a", 0, R"({"role":"standby_leader"})").is_primary());
}

TEST(Member, LegacyConnectionUrlCarriesApiUrlInApplicationName) {
  // V = "postgres://u:p@h:5432/db?application_name=http://h:8008/patroni"
  const auto m = Member::from_node(3, "old", 0, "postgres://u:p@h:5432/db?application_name=http://h:8008/patroni");
  EXPECT_EQ(m.data, json({{"conn_url", "postgres://u:p@h:5432/db"}, {"api_url", "http://h:8008/patroni"}}));
}

TEST(Member, LegacyUrlWithoutApplicationNameHasNullApiUrl) {
  // V = "postgres" -> ('postgres', None)
  EXPECT_EQ(Member::from_node(1, "a", 0, "postgres").data, json({{"conn_url", "postgres"}, {"api_url", nullptr}}));
  // V = "postgres://h/db;p?x=1" -> ('postgres://h/db;p', None)
  EXPECT_EQ(Member::from_node(1, "a", 0, "postgres://h/db;p?x=1").data,
            json({{"conn_url", "postgres://h/db;p"}, {"api_url", nullptr}}));
}

TEST(Member, LegacyUrlFollowsUrllibEdgeCases) {
  // V = "postgres:///db?application_name=x" -> ('postgres:/db', 'x')
  EXPECT_EQ(Member::from_node(1, "a", 0, "postgres:///db?application_name=x").data,
            json({{"conn_url", "postgres:/db"}, {"api_url", "x"}}));
  // V = "postgres://h/db?a=1&application_name=&application_name=b+c%2Fd#frag" -> ('postgres://h/db#frag', 'b c/d')
  EXPECT_EQ(Member::from_node(1, "a", 0, "postgres://h/db?a=1&application_name=&application_name=b+c%2Fd#frag").data,
            json({{"conn_url", "postgres://h/db#frag"}, {"api_url", "b c/d"}}));
  // V = "postgresql://h?application_name=%ff%41" -> ('postgresql://h', '\ufffdA')
  EXPECT_EQ(Member::from_node(1, "a", 0, "postgresql://h?application_name=%ff%41").data,
            json({{"conn_url", "postgresql://h"},
                  {"api_url",
                   "\xEF\xBF\xBD"
                   "A"}}));
  // V = "postgres://h/db#f?application_name=x" -> the '?' is inside the fragment: None
  EXPECT_EQ(Member::from_node(1, "a", 0, "postgres://h/db#f?application_name=x").data,
            json({{"conn_url", "postgres://h/db#f?application_name=x"}, {"api_url", nullptr}}));
  // V = "postgres://[::1]:5/db?application_name=a=b" -> ('postgres://[::1]:5/db', 'a=b')
  EXPECT_EQ(Member::from_node(1, "a", 0, "postgres://[::1]:5/db?application_name=a=b").data,
            json({{"conn_url", "postgres://[::1]:5/db"}, {"api_url", "a=b"}}));
  // V = "postgres://h/db?application_name=%zz;a" -> ('postgres://h/db', '%zz;a')
  EXPECT_EQ(Member::from_node(1, "a", 0, "postgres://h/db?application_name=%zz;a").data,
            json({{"conn_url", "postgres://h/db"}, {"api_url", "%zz;a"}}));
  // V = "postgres://h/db\t?x" -> ('postgres://h/db', None): tabs are dropped
  EXPECT_EQ(Member::from_node(1, "a", 0, "postgres://h/db\t?x").data,
            json({{"conn_url", "postgres://h/db"}, {"api_url", nullptr}}));
}

TEST(Member, AnythingButAJsonObjectIsEmptyData) {
  for (const char* value : {"", "{", "[1,2]", "\"text\"", "42", "null", "not json at all", "{\"a\":\"\xFF\"}"}) {
    const auto m = Member::from_node(5, "x", 1, value);
    EXPECT_EQ(m.data, json::object()) << value;
    EXPECT_EQ(m.conn_url(), "");
    EXPECT_EQ(m.api_url(), "");
    EXPECT_FALSE(m.lsn());
    EXPECT_FALSE(m.patroni_version());
    EXPECT_FALSE(m.nofailover());
    EXPECT_EQ(m.version, 5);
  }
  EXPECT_EQ(Member::from_node(1, "x", 0, std::string(100000, '[')).data, json::object());
}

TEST(Member, WrongTypedFieldsReadAsAbsent) {
  const auto m = Member::from_node(
      1, "x", 0,
      R"({"conn_url":5,"api_url":null,"state":["running"],"tags":"nofailover","xlog_location":"12","version":3})");
  EXPECT_EQ(m.conn_url(), "");
  EXPECT_EQ(m.api_url(), "");
  EXPECT_FALSE(m.is_running());
  EXPECT_EQ(m.tags(), json::object());
  EXPECT_FALSE(m.lsn());
  EXPECT_FALSE(m.patroni_version());
}

TEST(Member, NofailoverFollowsPatroniHeadTagRules) {
  const auto tagged = [](const char* tags) {
    return Member::from_node(1, "x", 0, std::string(R"({"tags":)") + tags + "}").nofailover();
  };
  EXPECT_TRUE(tagged(R"({"nofailover":true})"));
  EXPECT_FALSE(tagged(R"({"nofailover":false})"));
  EXPECT_TRUE(tagged(R"({"nofailover":"false"})"));                       // Python truthiness of a non-empty string
  EXPECT_FALSE(tagged(R"({"nofailover":false,"failover_priority":0})"));  // the boolean tag wins
  EXPECT_TRUE(tagged(R"({"failover_priority":0})"));
  EXPECT_TRUE(tagged(R"({"failover_priority":"-1"})"));
  EXPECT_FALSE(tagged(R"({"failover_priority":1})"));
  EXPECT_FALSE(tagged(R"({})"));
}

}  // namespace
}  // namespace dcs
