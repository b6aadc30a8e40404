// The configuration both example programs share: a Patroni-style YAML file (`-c FILE`: the
// `etcd3`, `scope`, `namespace`, `name`, `ttl`, `loop_wait`, `retry_timeout` and `citus` keys)
// and the same settings as flags, which win over the file. The result is the JSON document
// dcs::etcd3::parse_patroni_config reads, so the library applies Patroni's own rules to it.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "common/args.hpp"
#include "dcs/errors.hpp"
#include "dcs/etcd3/config.hpp"

namespace dcs_examples {

/// Which of the shared flags a program offers.
struct DcsFlagSet {
  bool member = false;  ///< --name, --ttl, --loop-wait (a member, not a control tool)
};

/// The flags of the shared settings (config file, etcd endpoints, key layout, timing, auth, TLS).
std::vector<OptionSpec> dcs_option_specs(DcsFlagSet set);

/// A YAML document as JSON, with YAML 1.1 plain scalars typed as PyYAML types them (integers,
/// floats, true/false/yes/no/on/off, null/~/empty); quoted scalars stay strings.
nlohmann::json yaml_to_json(const YAML::Node& node);
/// JSON as a YAML document (block style), for show-config.
std::string json_to_yaml(const nlohmann::json& value);

/// Reads `path` as YAML; throws UsageError naming the file and the parse error.
nlohmann::json load_yaml_file(const std::string& path);

/// The file given with -c/--config (or {}), with the flags of `args` applied on top.
nlohmann::json load_config(const Args& args);

/// parse_patroni_config + validate: throws dcs::ConfigError naming the key.
dcs::etcd3::Etcd3Options etcd3_options(const nlohmann::json& config);

/// Parses "host:port,host:port" into Patroni's `hosts` list; throws UsageError when empty.
std::vector<std::string> split_hosts(const std::string& text);

}  // namespace dcs_examples
