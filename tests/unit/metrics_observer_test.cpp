// The metrics observer on the client's request path, against in-process mock members: one event
// per call with its operation, outcome, gRPC code, attempts and endpoint switch; state events for
// a switch and a re-authentication; a throwing observer changes nothing; the last error is kept
// for health() with or without an observer.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "dcs/etcd3/client.hpp"
#include "dcs/etcd3/metrics.hpp"
#include "unit/mock_etcd_server.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::etcd3 {
namespace {

using dcs::test::CannedResponse;
using dcs::test::MockEtcdServer;
using dcs::test::options_for;
using dcs::test::RecordedRequest;
using dcs::test::StreamScript;
using dcs::test::StreamStep;
namespace rec = dcs::test::recorded;

struct SeenRequest {
  Operation operation;
  std::string endpoint;
  RequestOutcome outcome;
  GRPCCode code;
  int attempts;
  bool switched;
  std::chrono::microseconds duration;
};

struct SeenState {
  StateChange change;
  std::string detail;
  std::int64_t value;
};

// Keeps every event (the callbacks may come from any thread).
class RecordingObserver : public MetricsObserver {
 public:
  void on_request(const RequestEvent& e) override {
    std::lock_guard lock(mutex_);
    requests_.push_back(
        {e.operation, std::string(e.endpoint), e.outcome, e.code, e.attempts, e.endpoint_switched, e.duration});
  }
  void on_state_change(const StateEvent& e) override {
    std::lock_guard lock(mutex_);
    states_.push_back({e.change, std::string(e.detail), e.value});
  }
  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<SeenState> states() const {
    std::lock_guard lock(mutex_);
    return states_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<SeenRequest> requests_;
  std::vector<SeenState> states_;
};

class ThrowingObserver : public MetricsObserver {
 public:
  void on_request(const RequestEvent&) override { throw std::runtime_error("observer failed"); }
  void on_state_change(const StateEvent&) override { throw std::runtime_error("observer failed"); }
};

std::string closed_port_url() {
  return "http://127.0.0.1:9";
}

class MetricsObserverUnit : public ::testing::Test {
 protected:
  Etcd3Options options(std::vector<std::string> endpoints) {
    Etcd3Options o;
    o.endpoints = std::move(endpoints);
    o.use_proxies = true;
    o.retry_timeout = std::chrono::seconds(2);
    o.metrics = observer;
    return o;
  }

  std::shared_ptr<RecordingObserver> observer = std::make_shared<RecordingObserver>();
  MockEtcdServer a;
  MockEtcdServer b;
};

TEST_F(MetricsObserverUnit, SuccessIsOneOkEventWithOneAttempt) {
  a.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  a.answer("/v3/lease/keepalive", 200, std::string(rec::kLeaseKeepAlive));
  Etcd3Client client(options({a.url()}));
  client.range({.key = "foo"});
  client.lease_keepalive(2000);
  const auto seen = observer->requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].operation, Operation::range);
  EXPECT_EQ(seen[1].operation, Operation::lease_keepalive);
  for (const auto& r : seen) {
    EXPECT_EQ(r.outcome, RequestOutcome::ok);
    EXPECT_EQ(r.code, GRPCCode::OK);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_FALSE(r.switched);
    EXPECT_EQ(r.endpoint, a.url());
    EXPECT_GT(r.duration.count(), 0);
  }
  EXPECT_TRUE(observer->states().empty());
  EXPECT_FALSE(client.last_error().has_value());
}

TEST_F(MetricsObserverUnit, EtcdErrorIsReportedWithItsGrpcCode) {
  a.answer("/v3/kv/put", 404, std::string(rec::kErrLeaseNotFound));
  Etcd3Client client(options({a.url()}));
  EXPECT_THROW(client.put({.key = "k", .value = "v", .lease = 7}), LeaseNotFound);
  const auto seen = observer->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].operation, Operation::put);
  EXPECT_EQ(seen[0].outcome, RequestOutcome::grpc_error);
  EXPECT_EQ(seen[0].code, GRPCCode::NotFound);
  EXPECT_EQ(seen[0].attempts, 1);
  EXPECT_EQ(seen[0].endpoint, a.url());
  const auto last = client.last_error();
  ASSERT_TRUE(last.has_value());
  EXPECT_NE(last->message.find("lease not found"), std::string::npos);
  EXPECT_EQ(last->endpoint, a.url());
}

TEST_F(MetricsObserverUnit, RefusedConnectionThenAnswerElsewhereIsASwitch) {
  b.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  Etcd3Client client(options({closed_port_url(), b.url()}));
  client.range({.key = "foo"});
  const auto seen = observer->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].operation, Operation::range);
  EXPECT_EQ(seen[0].outcome, RequestOutcome::ok);
  EXPECT_GE(seen[0].attempts, 1);
  EXPECT_TRUE(seen[0].switched);
  EXPECT_EQ(seen[0].endpoint, b.url());
  const auto states = observer->states();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].change, StateChange::endpoint_switched);
  EXPECT_EQ(states[0].detail, b.url());
  // A recovered failure is still what health() shows as the last error (when the refusal reached
  // the request path: a raced copy may also have answered before the refusal was noticed).
  if (const auto last = client.last_error()) {
    EXPECT_EQ(last->endpoint, closed_port_url());
  }

  // The next call stays on b: one attempt, no switch.
  client.range({.key = "foo"});
  const auto again = observer->requests();
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].attempts, 1);
  EXPECT_FALSE(again[1].switched);
  EXPECT_EQ(observer->states().size(), 1u);
}

TEST_F(MetricsObserverUnit, RefusalThenAnswerElsewhereCountsTwoAttemptsAndASwitch) {
  // "no leader" is refused before the proposal: even a plain put goes on to the next member.
  a.answer("/v3/kv/put", 503, std::string(rec::kErrNoLeader));
  b.answer("/v3/kv/put", 200, std::string(rec::kPutPlain));
  Etcd3Client client(options({a.url(), b.url()}));
  client.put({.key = "k", .value = "v"});
  const auto seen = observer->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].operation, Operation::put);
  EXPECT_EQ(seen[0].outcome, RequestOutcome::ok);
  EXPECT_EQ(seen[0].attempts, 2);
  EXPECT_TRUE(seen[0].switched);
  EXPECT_EQ(seen[0].endpoint, b.url());
  const auto last = client.last_error();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->endpoint, a.url());
  EXPECT_NE(last->message.find("no leader"), std::string::npos);
}

TEST_F(MetricsObserverUnit, NoEndpointReachableIsATransportError) {
  Etcd3Options o = options({closed_port_url()});
  o.retry_timeout = std::chrono::seconds(1);
  Etcd3Client client(o);
  EXPECT_THROW(client.range({.key = "foo"}), EtcdConnectionFailed);
  const auto seen = observer->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].operation, Operation::range);
  EXPECT_EQ(seen[0].outcome, RequestOutcome::transport_error);
  EXPECT_EQ(seen[0].code, GRPCCode::OK);
  ASSERT_TRUE(client.last_error().has_value());
}

TEST_F(MetricsObserverUnit, UnavailableEverywhereIsAGrpcErrorAfterSeveralAttempts) {
  a.answer("/v3/kv/range", 503, std::string(rec::kErrRequestTimedOut));
  b.answer("/v3/kv/range", 503, std::string(rec::kErrRequestTimedOut));
  Etcd3Options o = options({a.url(), b.url()});
  o.retry_timeout = std::chrono::seconds(1);
  Etcd3Client client(o);
  EXPECT_THROW(client.range({.key = "foo"}), Unavailable);
  const auto seen = observer->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].outcome, RequestOutcome::grpc_error);
  EXPECT_EQ(seen[0].code, GRPCCode::Unavailable);
  EXPECT_GE(seen[0].attempts, 2);
}

TEST_F(MetricsObserverUnit, ReauthenticationIsAnAuthenticateRequestAndAStateChange) {
  std::atomic<int> ranges{0};
  a.answer("/v3/auth/authenticate", 200, std::string(rec::kAuthenticate));
  a.handle("/v3/kv/range", [&](const RecordedRequest&) {
    // The first range is refused for its (missing) token; the retry with a token succeeds.
    if (ranges++ == 0) return CannedResponse{401, std::string(rec::kErrInvalidToken)};
    return CannedResponse{200, std::string(rec::kRangeFoo)};
  });
  Etcd3Options o = options({a.url()});
  o.username = "root";
  o.password = "pw";
  Etcd3Client client(o);
  client.range({.key = "foo"});
  const auto seen = observer->requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].operation, Operation::authenticate);
  EXPECT_EQ(seen[0].outcome, RequestOutcome::ok);
  EXPECT_EQ(seen[1].operation, Operation::range);
  EXPECT_EQ(seen[1].outcome, RequestOutcome::ok);
  EXPECT_EQ(seen[1].attempts, 2) << "the refused attempt and the one with the new token";
  const auto states = observer->states();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].change, StateChange::reauthenticated);
  EXPECT_EQ(states[0].detail, a.url());
}

TEST_F(MetricsObserverUnit, WatchOpenIsReportedOnceAtTheCreatedMessage) {
  a.stream("/v3/watch", StreamScript{200,
                                     {StreamStep::chunk(std::string(rec::kWatchCreated)),
                                      StreamStep::chunk(std::string(rec::kWatchPut)), StreamStep::hold_open()}});
  Etcd3Client client(options({a.url()}));
  WatchCanceller canceller;
  int messages = 0;
  client.watch(
      {.key = "wk"},
      [&](const WatchResponse&) {
        if (++messages == 2) canceller.cancel();
      },
      canceller);
  const auto seen = observer->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].operation, Operation::watch_open);
  EXPECT_EQ(seen[0].outcome, RequestOutcome::ok);
  EXPECT_EQ(seen[0].attempts, 1);
  EXPECT_EQ(seen[0].endpoint, a.url() + "/v3/watch");
}

TEST_F(MetricsObserverUnit, WatchRefusedBeforeItsFirstMessageIsReportedWithTheCode) {
  a.answer("/v3/watch", 401, std::string(rec::kErrInvalidToken));
  Etcd3Client client(options({a.url()}));
  WatchCanceller canceller;
  EXPECT_THROW(client.watch(
                   {.key = "wk"}, [](const WatchResponse&) {}, canceller),
               InvalidAuthToken);
  const auto seen = observer->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].operation, Operation::watch_open);
  EXPECT_EQ(seen[0].outcome, RequestOutcome::grpc_error);
  EXPECT_EQ(seen[0].code, GRPCCode::Unauthenticated);
}

TEST_F(MetricsObserverUnit, AThrowingObserverChangesNothing) {
  b.answer("/v3/kv/range", 200, std::string(rec::kRangeFoo));
  Etcd3Options o = options({closed_port_url(), b.url()});
  o.metrics = std::make_shared<ThrowingObserver>();
  Etcd3Client client(o);
  EXPECT_EQ(client.range({.key = "foo"}).kvs.at(0).value, "bar2");
  EXPECT_EQ(client.current_endpoint(), b.url());
}

TEST_F(MetricsObserverUnit, LastErrorIsKeptWithoutAnObserver) {
  a.answer("/v3/kv/put", 404, std::string(rec::kErrLeaseNotFound));
  Etcd3Options o = options({a.url()});
  o.metrics = nullptr;
  Etcd3Client client(o);
  EXPECT_FALSE(client.last_error().has_value());
  EXPECT_THROW(client.put({.key = "k", .value = "v", .lease = 7}), LeaseNotFound);
  ASSERT_TRUE(client.last_error().has_value());
  EXPECT_NE(client.last_error()->message.find("lease not found"), std::string::npos);
  EXPECT_TRUE(observer->requests().empty());
}

TEST(MetricsNames, EveryEnumeratorHasAStableName) {
  EXPECT_EQ(to_string(Operation::lease_keepalive), "lease_keepalive");
  EXPECT_EQ(to_string(Operation::watch_open), "watch_open");
  EXPECT_EQ(to_string(RequestOutcome::transport_error), "transport_error");
  EXPECT_EQ(to_string(StateChange::cache_not_ready), "cache_not_ready");
  EXPECT_EQ(to_string(StateChange::lease_lost), "lease_lost");
}

}  // namespace
}  // namespace dcs::etcd3
