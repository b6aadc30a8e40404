// How one call's retry_timeout budget is spread over the endpoints (Patroni's table), and that
// each HTTP attempt is bounded by its slice (the Grpc-Timeout header tells etcd the same).
#include <gtest/gtest.h>

#include <chrono>

#include "dcs/etcd3/client.hpp"
#include "unit/mock_etcd_server.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::etcd3 {
namespace {

using dcs::test::MockEtcdServer;
using dcs::test::options_for;
using std::chrono::milliseconds;
namespace rec = dcs::test::recorded;

struct TimeoutCase {
  std::size_t endpoints;
  long long budget_ms;
  std::size_t nodes;
  long long per_node_ms;
  int retries;
};

class RequestTimeoutsTable : public ::testing::TestWithParam<TimeoutCase> {};

TEST_P(RequestTimeoutsTable, MatchesPatroni) {
  const TimeoutCase c = GetParam();
  const RequestTimeouts t = request_timeouts(c.endpoints, milliseconds(c.budget_ms));
  EXPECT_EQ(t.nodes, c.nodes);
  EXPECT_EQ(t.per_node, milliseconds(c.per_node_ms));
  EXPECT_EQ(t.retries, c.retries);
}

INSTANTIATE_TEST_SUITE_P(RetryTimeout10s, RequestTimeoutsTable,
                         ::testing::Values(TimeoutCase{1, 10000, 1, 3333, 2}, TimeoutCase{2, 10000, 2, 2500, 1},
                                           TimeoutCase{3, 10000, 3, 3333, 0}, TimeoutCase{4, 10000, 4, 2500, 0},
                                           TimeoutCase{5, 10000, 5, 2000, 0}, TimeoutCase{10, 10000, 10, 1000, 0},
                                           TimeoutCase{11, 10000, 10, 1000, 0}, TimeoutCase{50, 10000, 10, 1000, 0}));

INSTANTIATE_TEST_SUITE_P(RetryTimeout3s, RequestTimeoutsTable,
                         ::testing::Values(TimeoutCase{1, 3000, 1, 1000, 2}, TimeoutCase{2, 3000, 2, 1500, 0},
                                           TimeoutCase{3, 3000, 3, 1000, 0}, TimeoutCase{4, 3000, 3, 1000, 0},
                                           TimeoutCase{7, 3000, 3, 1000, 0}));

TEST(RequestTimeouts, NoEndpointOrNoBudgetGivesNothing) {
  const RequestTimeouts none = request_timeouts(0, milliseconds(10000));
  EXPECT_EQ(none.nodes, 0u);
  EXPECT_EQ(none.per_node, milliseconds(0));
  const RequestTimeouts tiny = request_timeouts(3, milliseconds(500));
  EXPECT_EQ(tiny.nodes, 0u) << "no endpoint can get a whole second";
}

struct SliceCase {
  std::size_t endpoints;
  int retry_timeout_s;
  const char* grpc_timeout;
};

class RequestTimeoutSlice : public ::testing::TestWithParam<SliceCase> {};

TEST_P(RequestTimeoutSlice, EachRequestAnnouncesItsSliceToEtcd) {
  const SliceCase c = GetParam();
  MockEtcdServer server;
  server.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  Etcd3Options options = options_for(server);
  // Extra endpoints only change the arithmetic: requests go to the first one.
  for (std::size_t i = 1; i < c.endpoints; ++i) options.endpoints.push_back("http://127.0.0.1:9");
  options.retry_timeout = std::chrono::seconds(c.retry_timeout_s);
  Etcd3Client client(options);
  client.range(RangeRequest::with_prefix("foo"));
  EXPECT_EQ(server.last_request_to("/v3/kv/range").header("Grpc-Timeout"), c.grpc_timeout);
}

INSTANTIATE_TEST_SUITE_P(Slices, RequestTimeoutSlice,
                         ::testing::Values(SliceCase{1, 10, "3333m"}, SliceCase{2, 10, "2500m"},
                                           SliceCase{5, 10, "2000m"}, SliceCase{1, 3, "1000m"},
                                           SliceCase{2, 3, "1500m"}));

}  // namespace
}  // namespace dcs::etcd3
