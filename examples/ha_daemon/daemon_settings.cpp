#include "ha_daemon/daemon_settings.hpp"

#include <yaml-cpp/yaml.h>

#include "common/dcs_config.hpp"

namespace dcs_examples {
namespace {

using nlohmann::json;

std::string nested_string(const json& config, const char* section, const char* key) {
  const auto s = config.find(section);
  if (s == config.end() || !s->is_object()) return {};
  const auto v = s->find(key);
  return v != s->end() && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace

std::vector<OptionSpec> daemon_option_specs() {
  return {
      {"conn-url", "URL", "connection URL to publish (default postgres://127.0.0.1:5432/postgres)"},
      {"api-url", "URL", "REST API URL to publish (default http://127.0.0.1:8008/patroni)"},
      {"tag", "KEY=VALUE", "a member tag, e.g. nofailover=true (repeatable)"},
      {"synchronous-mode", "", "bootstrap the cluster with synchronous_mode on"},
      {"log-level", "LEVEL", "debug, info (default), warning or error"},
      {"trace", "", "also print lease renewals and acknowledged writes as JSON lines (scripts/torture.sh)"},
      {"help", "", "show this help", 'h'},
  };
}

NodeSettings node_settings(const json& config, const Args& args, const dcs::etcd3::Etcd3Options& options) {
  if (options.scope.empty()) throw UsageError("no scope: set `scope` in the configuration or pass --scope");
  if (options.name.empty()) throw UsageError("no member name: set `name` in the configuration or pass --name");

  NodeSettings settings;
  settings.name = options.name;
  settings.trace = args.has("trace");

  std::string pg = nested_string(config, "postgresql", "connect_address");
  settings.conn_url = pg.empty() ? "postgres://127.0.0.1:5432/postgres" : "postgres://" + pg + "/postgres";
  std::string api = nested_string(config, "restapi", "connect_address");
  settings.api_url = api.empty() ? "http://127.0.0.1:8008/patroni" : "http://" + api + "/patroni";
  if (const auto url = args.get("conn-url")) settings.conn_url = *url;
  if (const auto url = args.get("api-url")) settings.api_url = *url;

  if (const auto tags = config.find("tags"); tags != config.end()) {
    if (!tags->is_object()) throw UsageError("`tags` must be a mapping");
    settings.tags = *tags;
  }
  for (const auto& tag : args.get_all("tag")) {
    const auto eq = tag.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--tag needs KEY=VALUE, got '" + tag + "'");
    settings.tags[tag.substr(0, eq)] = yaml_to_json(YAML::Load(tag.substr(eq + 1)));
  }

  // The dynamic configuration a bootstrapping member stores (Patroni's bootstrap.dcs), with the
  // timing this member runs with.
  json dynamic = {{"ttl", options.ttl.count()},
                  {"loop_wait", options.loop_wait.count()},
                  {"retry_timeout", options.retry_timeout.count()},
                  {"maximum_lag_on_failover", 1048576}};
  if (const auto bootstrap = config.find("bootstrap"); bootstrap != config.end() && bootstrap->is_object()) {
    if (const auto dcs = bootstrap->find("dcs"); dcs != bootstrap->end() && dcs->is_object()) {
      dynamic.update(*dcs);
    }
  }
  if (args.has("synchronous-mode")) dynamic["synchronous_mode"] = true;
  settings.bootstrap_config = dynamic;
  return settings;
}

}  // namespace dcs_examples
