#include "common/dcs_config.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace dcs_examples {
namespace {

using nlohmann::json;

bool is_one_of(const std::string& text, std::initializer_list<const char*> words) {
  for (const char* word : words) {
    if (text == word) return true;
  }
  return false;
}

json plain_scalar(const std::string& text) {
  if (is_one_of(text, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (is_one_of(text, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})) return true;
  if (is_one_of(text, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})) return false;
  const char* begin = text.data();
  const char* end = begin + text.size();
  const char* digits = (*begin == '+') ? begin + 1 : begin;
  long long integer = 0;
  if (auto [ptr, ec] = std::from_chars(digits, end, integer); ec == std::errc() && ptr == end) return integer;
  double real = 0;
  if (auto [ptr, ec] = std::from_chars(digits, end, real); ec == std::errc() && ptr == end) return real;
  return text;
}

void emit(YAML::Emitter& out, const json& value) {
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [key, item] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      emit(out, item);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : value) emit(out, item);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    const auto text = value.get<std::string>();
    // A string that would read back as another type is quoted.
    if (!plain_scalar(text).is_string()) {
      out << YAML::DoubleQuoted << text;
    } else {
      out << text;
    }
  } else if (value.is_null()) {
    out << YAML::Null;
  } else {
    out << value.dump();
  }
}

void set_if(json& target, const char* key, const std::optional<std::string>& value) {
  if (value) target[key] = *value;
}

void set_int_if(json& target, const char* key, const Args& args, const char* flag) {
  if (const auto value = args.get_int(flag)) target[key] = *value;
}

}  // namespace

std::vector<OptionSpec> dcs_option_specs(DcsFlagSet set) {
  std::vector<OptionSpec> specs = {
      {"config", "FILE", "Patroni-style YAML configuration (etcd3, scope, namespace, ...)", 'c'},
      {"hosts", "H:P[,H:P...]", "etcd endpoints (replaces the etcd3 endpoints of the file)"},
      {"protocol", "http|https", "scheme of the --hosts endpoints"},
      {"scope", "NAME", "cluster name"},
      {"namespace", "PATH", "key namespace (default /service/)"},
  };
  if (set.member) {
    specs.push_back({"name", "NAME", "this member's name"});
    specs.push_back({"ttl", "SECONDS", "leader and member key lease TTL"});
    specs.push_back({"loop-wait", "SECONDS", "HA loop period"});
  }
  specs.push_back({"retry-timeout", "SECONDS", "time budget of one etcd call"});
  specs.push_back({"group", "N", "Citus group (0 = coordinator)"});
  specs.push_back({"username", "USER", "etcd user"});
  specs.push_back({"password", "PASSWORD", "etcd password"});
  specs.push_back({"cacert", "FILE", "CA bundle to verify etcd's certificate"});
  specs.push_back({"cert", "FILE", "client certificate (mutual TLS)"});
  specs.push_back({"key", "FILE", "client certificate key"});
  return specs;
}

namespace {

// YAML aliases make the document a graph: an alias inside its own anchor is a cycle, and
// aliases of aliases grow exponentially ("billion laughs"). Neither belongs in a configuration
// file, so the walk stops at a depth and a node count far beyond any real one.
constexpr int kMaxYamlDepth = 64;
constexpr std::size_t kMaxYamlNodes = 100000;

json yaml_to_json_walk(const YAML::Node& node, int depth, std::size_t& nodes) {
  if (depth > kMaxYamlDepth) {
    throw UsageError("the YAML nests deeper than " + std::to_string(kMaxYamlDepth) +
                     " levels (an alias inside its own anchor?)");
  }
  if (++nodes > kMaxYamlNodes) {
    throw UsageError("the YAML expands to more than " + std::to_string(kMaxYamlNodes) +
                     " values (aliases of aliases?)");
  }
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted (non-plain) scalars "!" and plain ones "?".
      return node.Tag() == "!" ? json(node.Scalar()) : plain_scalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(yaml_to_json_walk(item, depth + 1, nodes));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node)
        out[item.first.as<std::string>()] = yaml_to_json_walk(item.second, depth + 1, nodes);
      return out;
    }
  }
  return nullptr;
}

}  // namespace

json yaml_to_json(const YAML::Node& node) {
  std::size_t nodes = 0;
  return yaml_to_json_walk(node, 0, nodes);
}

std::string json_to_yaml(const json& value) {
  YAML::Emitter out;
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

json load_yaml_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw UsageError("cannot read configuration file '" + path + "'");
  try {
    json config = yaml_to_json(YAML::Load(file));
    if (config.is_null()) config = json::object();
    if (!config.is_object()) throw UsageError("configuration file '" + path + "' is not a YAML mapping");
    return config;
  } catch (const YAML::Exception& e) {
    throw UsageError("configuration file '" + path + "': " + e.what());
  }
}

std::vector<std::string> split_hosts(const std::string& text) {
  std::vector<std::string> hosts;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) hosts.push_back(item);
  }
  if (hosts.empty()) throw UsageError("--hosts needs at least one host:port");
  return hosts;
}

json load_config(const Args& args) {
  json config = json::object();
  if (const auto path = args.get("config")) config = load_yaml_file(*path);

  set_if(config, "scope", args.get("scope"));
  set_if(config, "namespace", args.get("namespace"));
  set_if(config, "name", args.get("name"));
  set_int_if(config, "ttl", args, "ttl");
  set_int_if(config, "loop_wait", args, "loop-wait");
  set_int_if(config, "retry_timeout", args, "retry-timeout");
  if (const auto group = args.get_int("group")) {
    if (!config.contains("citus") || !config["citus"].is_object()) config["citus"] = json::object();
    config["citus"]["group"] = *group;
  }

  const bool touches_etcd3 = args.has("hosts") || args.has("protocol") || args.has("username") ||
                             args.has("password") || args.has("cacert") || args.has("cert") || args.has("key");
  if (touches_etcd3) {
    if (!config.contains("etcd3") || !config["etcd3"].is_object()) config["etcd3"] = json::object();
    json& etcd3 = config["etcd3"];
    if (const auto hosts = args.get("hosts")) {
      // Patroni prefers proxy > url > hosts > host: the flag only wins when the others go.
      for (const char* key : {"proxy", "url", "host", "hosts", "srv", "discovery_srv", "srv_domain", "port"}) {
        etcd3.erase(key);
      }
      etcd3["hosts"] = split_hosts(*hosts);
    }
    set_if(etcd3, "protocol", args.get("protocol"));
    set_if(etcd3, "username", args.get("username"));
    set_if(etcd3, "password", args.get("password"));
    set_if(etcd3, "cacert", args.get("cacert"));
    set_if(etcd3, "cert", args.get("cert"));
    set_if(etcd3, "key", args.get("key"));
  }
  return config;
}

dcs::etcd3::Etcd3Options etcd3_options(const json& config) {
  auto options = dcs::etcd3::parse_patroni_config(config);
  dcs::etcd3::validate(options);
  return options;
}

}  // namespace dcs_examples
