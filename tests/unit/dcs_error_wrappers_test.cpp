// The three ways the Etcd3 DCS hands errors to the HA loop (spec 3.0), and the retried step.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "dcs/etcd3/errors.hpp"
#include "etcd3/dcs_error_wrappers.hpp"
#include "etcd3/dcs_retry.hpp"
#include "unit/mock_etcd_server.hpp"

namespace dcs::etcd3::detail {
namespace {

using namespace std::chrono_literals;

class DcsErrorWrappers : public ::testing::Test {
 protected:
  dcs::test::RecordingLog log;
  FailureLog failures{dcs::detail::Logger(log.sink(), "etcd3")};

  template <typename E>
  bool w1(const E& error) {
    return catch_etcd_errors(failures, "op", false, [&]() -> bool { throw error; });
  }
  template <typename E>
  bool w2(const E& error) {
    return run_and_handle(failures, "op", [&]() -> bool { throw error; });
  }
  template <typename E>
  int w3(const E& error) {
    return load_wrapper(failures, [&]() -> int { throw error; });
  }
};

TEST_F(DcsErrorWrappers, W1TurnsEtcdClientErrorsIntoTheFailureValue) {
  EXPECT_FALSE(w1(LeaseNotFound("etcdserver: requested lease not found", 404)));
  EXPECT_FALSE(w1(EtcdConnectionFailed("no answer", "http://a:2379", true)));
  EXPECT_FALSE(w1(RetryFailedError("Exceeded retry deadline")));
  EXPECT_FALSE(w1(MalformedResponse("garbage", 200)));
  EXPECT_EQ(catch_etcd_errors(failures, "op", std::optional<int>{}, [] { return std::optional<int>(5); }), 5);
  EXPECT_THROW(w1(std::runtime_error("bug")), Etcd3Error);
  EXPECT_THROW(w1(Etcd3Error("update_leader timeout")), Etcd3Error);
}

TEST_F(DcsErrorWrappers, W2RaisesEtcd3ErrorOnlyWhenEtcdCouldNotBeReached) {
  EXPECT_THROW(w2(RetryFailedError("Exceeded retry deadline")), Etcd3Error);
  EXPECT_THROW(w2(EtcdConnectionFailed("No more machines in the cluster")), Etcd3Error);
  EXPECT_THROW(w2(Unavailable("etcdserver: request timed out", 503)), Etcd3Error);
  EXPECT_FALSE(w2(LeaseNotFound("etcdserver: requested lease not found", 404)));
  EXPECT_FALSE(w2(Unknown("etcdserver: odd", 500)));
  try {
    w2(Etcd3Error("update_leader timeout"));
    FAIL() << "no exception";
  } catch (const Etcd3Error& e) {
    EXPECT_STREQ(e.what(), "update_leader timeout");  // raised on purpose: passes unchanged
  }
  try {
    w2(std::logic_error("bug"));
    FAIL() << "no exception";
  } catch (const Etcd3Error& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected error"), std::string::npos);
  }
}

TEST_F(DcsErrorWrappers, W3LetsUnsupportedEtcdVersionThroughAndWrapsEverythingElse) {
  EXPECT_THROW(w3(UnsupportedEtcdVersion("etcd 3.0.3 is too old")), UnsupportedEtcdVersion);
  for (const auto& thrower : {+[] { throw LeaseNotFound("x", 404); }, +[] { throw std::runtime_error("y"); },
                              +[] { throw RetryFailedError("z"); }}) {
    try {
      load_wrapper(failures, [&]() -> int {
        thrower();
        return 0;
      });
      FAIL() << "no exception";
    } catch (const Etcd3Error& e) {
      EXPECT_STREQ(e.what(), "Etcd is not responding properly");
    }
  }
  EXPECT_EQ(load_wrapper(failures, [] { return 3; }), 3);
  EXPECT_FALSE(failures.has_failed());  // a success ends the row of failures
}

TEST_F(DcsErrorWrappers, FirstFailureOfARowIsDetailedLaterOnesAreOneLiners) {
  w1(Unknown("etcdserver: first", 500));
  w1(Unknown("etcdserver: second", 500));
  catch_etcd_errors(failures, "op", false, [] { return true; });
  w1(EtcdConnectionFailed("third", "http://a:2379", false));
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].message.find("gRPC code 2 Unknown, HTTP 500"), std::string::npos) << lines[0].message;
  EXPECT_EQ(lines[1].message.rfind("op: ", 0), 0u) << lines[1].message;
  EXPECT_NE(lines[1].message.find("etcdserver: second"), std::string::npos) << lines[1].message;
  EXPECT_EQ(lines[1].message.find("gRPC code"), std::string::npos) << "later failures are one-liners";
  EXPECT_NE(lines[2].message.find("last endpoint http://a:2379"), std::string::npos) << lines[2].message;
}

TEST(StepBudget, RetriesFailedPreconditionUntilItHeals) {
  dcs::detail::Logger log({}, "etcd3");
  StepBudget step(2s);
  int calls = 0;
  const int result = step.retried(
      [&] {
        if (++calls < 3) throw FailedPrecondition("etcdserver: not ready", 412);
        return 7;
      },
      log);
  EXPECT_EQ(result, 7);
  EXPECT_EQ(calls, 3);
  // Anything else is not retried.
  calls = 0;
  EXPECT_THROW(step.retried([&]() -> int { ++calls, throw LeaseNotFound("gone", 404); }, log), LeaseNotFound);
  EXPECT_EQ(calls, 1);
}

TEST(StepBudget, ExhaustedBudgetIsRetryFailedError) {
  dcs::detail::Logger log({}, "etcd3");
  StepBudget step(300ms);
  EXPECT_THROW(step.retried([]() -> int { throw FailedPrecondition("etcdserver: not ready", 412); }, log),
               RetryFailedError);
  step.restart();
  EXPECT_GT(step.remaining(), 200ms);  // every step starts with the whole budget
}

}  // namespace
}  // namespace dcs::etcd3::detail
