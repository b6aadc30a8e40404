// Shared scaffolding of the integration tests: one real etcd per test suite (started in
// SetUpTestSuite, stopped in TearDownTestSuite), one Etcd3Client and one key prefix per test, and
// a helper that runs a watch on a thread of its own.
//
// When etcd cannot be started every test of the suite fails with the reason: the integration
// tests are never skipped.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "dcs/etcd3/client.hpp"
#include "support/etcd_process.hpp"

namespace dcs::itest {

using namespace dcs::etcd3;
using dcs::testing::EtcdProcess;

/// The bound of every wait for something etcd does asynchronously.
inline constexpr std::chrono::seconds kWaitBound{20};

inline Etcd3Options client_options(std::vector<std::string> endpoints,
                                   std::chrono::seconds retry_timeout = std::chrono::seconds{10}) {
  Etcd3Options options;
  options.endpoints = std::move(endpoints);
  options.retry_timeout = retry_timeout;
  return options;
}

/// Polls `condition` every 100 ms until it holds or `bound` has passed; returns its last value.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds bound = kWaitBound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
}

class EtcdTest : public ::testing::Test {
 protected:
  /// Starts the suite's etcd; a failure is recorded and reported by every test's SetUp.
  static void start_etcd(EtcdProcess::Options options = {}) {
    etcd_.reset();
    start_error_.clear();
    try {
      etcd_ = std::make_unique<EtcdProcess>(std::move(options));
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void SetUpTestSuite() { start_etcd(); }
  static void TearDownTestSuite() { etcd_.reset(); }

  void SetUp() override {
    ASSERT_NE(etcd_, nullptr) << "etcd could not be started: " << start_error_;
    client_ = std::make_unique<Etcd3Client>(client_options({etcd_->endpoint()}));
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = std::string("/itest/") + info->test_suite_name() + "/" + info->name() + "/";
  }

  EtcdProcess& etcd() { return *etcd_; }
  Etcd3Client& client() { return *client_; }
  /// A key under this test's own prefix.
  std::string key(std::string_view name) const { return prefix_ + std::string(name); }
  const std::string& prefix() const { return prefix_; }

  PutResponse put(const std::string& key_name, const std::string& value, std::int64_t lease = 0) {
    PutRequest request;
    request.key = key_name;
    request.value = value;
    request.lease = lease;
    return client().put(request);
  }
  RangeResponse get(const std::string& key_name) {
    RangeRequest request;
    request.key = key_name;
    return client().range(request);
  }

  inline static std::unique_ptr<EtcdProcess> etcd_;
  inline static std::string start_error_;
  std::unique_ptr<Etcd3Client> client_;
  std::string prefix_;
};

/// Runs Etcd3Client::watch on a thread of its own and records what it delivers and how it ended.
/// The destructor cancels the watch and joins the thread.
class WatchRunner {
 public:
  WatchRunner(Etcd3Client& client, WatchCreateRequest request,
              std::chrono::milliseconds idle_timeout = std::chrono::milliseconds{0})
      : thread_([this, &client, request = std::move(request), idle_timeout] {
          std::exception_ptr error;
          try {
            client.watch(
                request,
                [this](const WatchResponse& response) {
                  std::lock_guard lock(mutex_);
                  responses_.push_back(response);
                  changed_.notify_all();
                },
                canceller_, idle_timeout);
          } catch (...) {
            error = std::current_exception();
          }
          std::lock_guard lock(mutex_);
          error_ = error;
          done_ = true;
          changed_.notify_all();
        }) {}

  ~WatchRunner() {
    canceller_.cancel();
    thread_.join();
  }
  WatchRunner(const WatchRunner&) = delete;
  WatchRunner& operator=(const WatchRunner&) = delete;

  /// Waits (bounded) until `condition` holds for the responses so far; false when the watch
  /// ended first or the bound passed.
  bool wait_for(const std::function<bool(const std::vector<WatchResponse>&)>& condition,
                std::chrono::milliseconds bound = kWaitBound) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return condition(responses_) || done_; }) && condition(responses_);
  }
  /// Waits (bounded) until the first message (the "created" one) arrived.
  bool wait_created(std::chrono::milliseconds bound = kWaitBound) {
    return wait_for([](const std::vector<WatchResponse>& all) { return !all.empty(); }, bound);
  }
  /// Waits (bounded) until `count` events arrived in total.
  bool wait_events(std::size_t count, std::chrono::milliseconds bound = kWaitBound) {
    return wait_for([count](const std::vector<WatchResponse>& all) { return count_events(all) >= count; }, bound);
  }
  /// Waits (bounded) until Etcd3Client::watch has returned or thrown.
  bool wait_done(std::chrono::milliseconds bound = kWaitBound) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return done_; });
  }

  void cancel() noexcept { canceller_.cancel(); }
  bool done() const {
    std::lock_guard lock(mutex_);
    return done_;
  }
  /// What watch() threw; null when it returned normally (or is still running).
  std::exception_ptr error() const {
    std::lock_guard lock(mutex_);
    return error_;
  }
  std::vector<WatchResponse> responses() const {
    std::lock_guard lock(mutex_);
    return responses_;
  }
  /// Every event delivered so far, in order.
  std::vector<Event> events() const {
    std::lock_guard lock(mutex_);
    std::vector<Event> all;
    for (const auto& response : responses_) all.insert(all.end(), response.events.begin(), response.events.end());
    return all;
  }

 private:
  static std::size_t count_events(const std::vector<WatchResponse>& all) {
    std::size_t count = 0;
    for (const auto& response : all) count += response.events.size();
    return count;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<WatchResponse> responses_;
  std::exception_ptr error_;
  bool done_ = false;
  WatchCanceller canceller_;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace dcs::itest
