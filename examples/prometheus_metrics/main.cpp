// prometheus_metrics: runs a short HA session against an etcd given on the command line (join as a
// member, read the cluster, take the leader key, keep it for a few cycles, release it) with a
// PrometheusObserver in Etcd3Options::metrics, then prints what the observer aggregated in
// Prometheus text format on stdout, and Etcd3::health() on stderr.
//
// A daemon would serve observer->render() on its /metrics page instead.
//
//   prometheus_metrics --hosts 127.0.0.1:2379 --scope demo --name m1 [--cycles 3]
#include <cstdio>
#include <memory>
#include <string>

#include "common/args.hpp"
#include "common/dcs_config.hpp"
#include "common/stderr_log.hpp"
#include "dcs/dcs.hpp"
#include "prometheus_metrics/prometheus_observer.hpp"

namespace {

using namespace dcs_examples;

constexpr const char* kUsage =
    "usage: prometheus_metrics [-c FILE] --hosts HOST:PORT[,...] [options]\n"
    "\n"
    "Runs a few HA cycles against etcd with a metrics observer and prints the metrics in\n"
    "Prometheus text format.\n"
    "\n"
    "options:\n";

int run(int argc, char** argv) {
  std::vector<OptionSpec> specs = dcs_option_specs({.member = true});
  specs.push_back({"cycles", "N", "HA cycles to run while holding the leader key (default 3)"});
  specs.push_back({"help", "", "show this help", 'h'});
  const Args args = Args::parse(argc, argv, 1, specs);
  if (args.has("help")) {
    std::fputs((std::string(kUsage) + format_options(specs)).c_str(), stdout);
    return 0;
  }
  set_min_log_level(dcs::LogLevel::warning);
  nlohmann::json config = load_config(args);
  if (!config.contains("scope")) config["scope"] = "prometheus-demo";
  if (!config.contains("name")) config["name"] = "metrics-demo";
  dcs::etcd3::Etcd3Options options = etcd3_options(config);
  options.log_sink = stderr_sink();
  options.startup_timeout = std::chrono::seconds{0};

  auto observer = std::make_shared<PrometheusObserver>();
  options.metrics = observer;
  const long long cycles = args.get_int("cycles").value_or(3);
  {
    dcs::etcd3::Etcd3 dcs(options);
    const nlohmann::json member = {{"conn_url", "postgres://127.0.0.1:5432/postgres"},
                                   {"api_url", "http://127.0.0.1:8008/patroni"},
                                   {"state", "running"},
                                   {"role", "replica"}};
    dcs.touch_member(member);
    auto cluster = dcs.get_cluster();
    if (cluster->is_unlocked() && dcs.attempt_to_acquire_leader()) {
      for (long long i = 0; i < cycles; ++i) {
        cluster = dcs.get_cluster();
        dcs.update_leader(*cluster, std::nullopt);
        dcs.touch_member(member);
      }
      cluster = dcs.get_cluster();
      dcs.delete_leader(cluster->leader);
    } else {
      std::fprintf(stderr, "prometheus_metrics: %s holds the leader key; only reading\n",
                   cluster->leader_name().c_str());
    }
    const auto health = dcs.health();
    std::fprintf(stderr, "health: endpoint %s, cache %s, lease %lld\n", health.endpoint.c_str(),
                 health.cache && health.cache->ready ? "ready" : "not ready", static_cast<long long>(health.lease_id));
  }
  std::fputs(observer->render().c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "prometheus_metrics: %s\n", e.what());
  } catch (const dcs::ConfigError& e) {
    std::fprintf(stderr, "prometheus_metrics: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prometheus_metrics: %s\n", e.what());
    return 2;
  }
  return 1;
}
