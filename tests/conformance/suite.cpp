#include "conformance/suite.hpp"

#include <atomic>
#include <random>

namespace dcs::conformance {

namespace {

/// Scopes unique within the run and across runs against the same store.
std::string unique_scope() {
  static const std::string run = [] {
    std::random_device random;
    return std::to_string(random() % 1000000);
  }();
  static std::atomic<int> counter{0};
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string scope = "conf-" + run + "-" + std::to_string(counter++);
  if (test != nullptr) scope += std::string("-") + test->name();
  return scope;
}

}  // namespace

DCSSettings suite_settings(const std::string& scope, const std::string& name, std::optional<int> citus_group) {
  DCSSettings settings;
  settings.namespace_ = "/conformance/";
  settings.scope = scope;
  settings.name = name;
  settings.ttl = backend().short_ttl();
  settings.loop_wait = 1s;
  settings.retry_timeout = 2s;
  settings.citus_group = citus_group;
  return settings;
}

nlohmann::json member_data(const std::string& name, const std::string& role) {
  return {{"conn_url", "postgres://" + name + ".example:5432/postgres"},
          {"api_url", "http://" + name + ".example:8008/patroni"},
          {"state", "running"},
          {"role", role},
          {"version", "4.1.4"},
          {"xlog_location", 50331808}};
}

void ConformanceTest::SetUp() {
  scope_ = unique_scope();
}

void ConformanceTest::TearDown() {
  backend().set_reachable(true);
}

std::unique_ptr<AbstractDCS> ConformanceTest::member(const std::string& name, std::optional<int> citus_group) {
  return member_of(scope_, name, citus_group);
}

std::unique_ptr<AbstractDCS> ConformanceTest::member_of(const std::string& scope, const std::string& name,
                                                        std::optional<int> citus_group) {
  auto settings = suite_settings(scope, name, citus_group);
  loop_wait_ = settings.loop_wait;
  return backend().member(settings);
}

}  // namespace dcs::conformance
