// Shared by the conformance suite's test files: a fixture that gives each test its own scope and
// builds members on the binary's backend, and `eventually` for the places where real time
// matters (another member's write reaches an etcd member through its watch cache, not at once).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "conformance/backend.hpp"
#include "dcs/abstract_dcs.hpp"
#include "dcs/cluster.hpp"
#include "dcs/errors.hpp"

namespace dcs::conformance {

using namespace std::chrono_literals;

/// Polls `done` until it holds or `timeout` (real time) passes. With MemoryDCS it holds at once.
template <typename Predicate>
bool eventually(Predicate&& done, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

/// The settings the suite runs members with: the backend's shortest ttl, a one-second HA loop
/// and a short retry budget (an unreachable store must not keep a test waiting long).
DCSSettings suite_settings(const std::string& scope, const std::string& name, std::optional<int> citus_group = {});

/// A member's data as the HA loop would publish it.
nlohmann::json member_data(const std::string& name, const std::string& role = "replica");

class ConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// A member of this test's cluster (or of its Citus group).
  std::unique_ptr<AbstractDCS> member(const std::string& name, std::optional<int> citus_group = {});
  /// A member of another cluster, e.g. one whose name extends this test's scope.
  std::unique_ptr<AbstractDCS> member_of(const std::string& scope, const std::string& name,
                                         std::optional<int> citus_group = {});

  std::chrono::seconds ttl() const { return backend().short_ttl(); }
  std::chrono::seconds loop_wait() const { return loop_wait_; }
  /// Lets the backend's time pass, in HA-loop steps, calling `each_step` after every step.
  template <typename Step>
  void pass_in_loop_steps(std::chrono::seconds total, Step&& each_step) {
    for (auto passed = 0s; passed < total; passed += loop_wait_) {
      backend().let_time_pass(loop_wait_);
      each_step();
    }
  }

  /// Reads `dcs` until `check` holds for its cluster view; returns that view (null on timeout).
  template <typename Check>
  std::shared_ptr<const Cluster> read_until(AbstractDCS& dcs, Check&& check) {
    std::shared_ptr<const Cluster> view;
    eventually([&] {
      auto current = dcs.get_cluster();
      if (!current || !check(*current)) return false;
      view = std::move(current);
      return true;
    });
    return view;
  }

  std::string scope_;
  std::chrono::seconds loop_wait_{1};
};

}  // namespace dcs::conformance
