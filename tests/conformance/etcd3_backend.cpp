// The conformance suite's backend for Etcd3: one real etcd for the whole binary (each test has its
// own scope). Time passes for real, so the ttl is etcd's minimum lease ttl. An unreachable store is
// a killed etcd, restarted with its data when the test makes it reachable again.
#include <signal.h>

#include <chrono>
#include <memory>
#include <thread>

#include "conformance/backend.hpp"
#include "dcs/etcd3/client.hpp"
#include "dcs/etcd3/etcd3.hpp"
#include "support/etcd_process.hpp"

namespace dcs::conformance {

namespace {

using namespace std::chrono_literals;
using dcs::testing::EtcdProcess;

// The suite runs with a retry_timeout of 2 s (the least that leaves Patroni's "1 s left" checks
// of the leader operations passable). The client's own budget is cut to 0.6 s so that each of the
// many calls the suite makes against a killed etcd gives up quickly; a healthy local etcd answers
// in milliseconds.
constexpr std::chrono::milliseconds kClientBudget{600};

class Etcd3Backend final : public Backend {
 public:
  std::string label() const override { return "etcd3"; }

  std::unique_ptr<AbstractDCS> member(const DCSSettings& settings) override {
    etcd3::Etcd3Options options;
    options.endpoints = {etcd_.endpoint()};
    options.namespace_ = settings.namespace_;
    options.scope = settings.scope;
    options.name = settings.name;
    options.ttl = settings.ttl;
    options.loop_wait = settings.loop_wait;
    options.retry_timeout = settings.retry_timeout;
    options.citus_group = settings.citus_group;
    options.patronictl = settings.patronictl;
    options.log_sink = settings.log_sink;
    options.startup_timeout = 10s;
    auto dcs = std::make_unique<etcd3::Etcd3>(std::move(options));
    dcs->client().set_retry_timeout(kClientBudget);
    return dcs;
  }

  void let_time_pass(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }

  // etcd raises a shorter lease ttl to 1.5 x its election timeout (1 s by default), rounded up.
  std::chrono::seconds short_ttl() const override { return 2s; }

  void set_reachable(bool reachable) override {
    if (!reachable && etcd_.running(0)) {
      etcd_.signal(0, SIGKILL);
      // Each member's watcher cache learns of the loss from its stream's closed connection, a
      // moment after the kill; until then it serves the view it holds, as any cache would. No
      // member list is kept here to poll, and the moment is a few milliseconds.
      std::this_thread::sleep_for(200ms);
    }
    if (reachable && !etcd_.running(0)) etcd_.restart(0);
  }

  void put_raw(const std::string& key, const std::string& value) override {
    etcd3::PutRequest request;
    request.key = key;
    request.value = value;
    raw_.put(request);
  }

 private:
  static etcd3::Etcd3Options raw_options(const EtcdProcess& etcd) {
    etcd3::Etcd3Options options;
    options.endpoints = {etcd.endpoint()};
    return options;
  }

  EtcdProcess etcd_;
  etcd3::Etcd3Client raw_{raw_options(etcd_)};
};

}  // namespace

Backend& backend() {
  static Etcd3Backend instance;
  return instance;
}

}  // namespace dcs::conformance
