#include "dcs/etcd3/config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "dcs/errors.hpp"
#include "etcd3/endpoint_discovery.hpp"

namespace dcs::etcd3 {

using nlohmann::json;

namespace {

constexpr int kDefaultPort = 2379;

std::string type_problem(const json& value, std::string_view expected) {
  // A document built from YAML or by hand may hold strings that are not UTF-8: the strict dump
  // would throw its own type_error instead of the ConfigError being built.
  return "should be " + std::string(expected) + ", got " + std::string(value.type_name()) + " " +
         value.dump(-1, ' ', false, json::error_handler_t::replace);
}

const json* field(const json& section, const char* key) {
  const auto it = section.find(key);
  return it == section.end() || it->is_null() ? nullptr : &*it;
}

std::string get_string(const json& section, const char* key) {
  const json* v = field(section, key);
  if (!v) return {};
  if (!v->is_string()) throw ConfigError(key, type_problem(*v, "a string"));
  return v->get<std::string>();
}

std::optional<long long> get_integer(const json& section, const char* key) {
  const json* v = field(section, key);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->get<long long>();
  if (v->is_number_float()) {
    // Patroni: int(value). Outside long long (or inf, nan) the cast would be undefined behaviour.
    const double d = v->get<double>();
    if (std::isfinite(d) && d > -9.2e18 && d < 9.2e18) return static_cast<long long>(d);
    throw ConfigError(key, type_problem(*v, "an integer in range"));
  }
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    long long out = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (!s.empty() && ec == std::errc{} && ptr == s.data() + s.size()) return out;
  }
  throw ConfigError(key, type_problem(*v, "an integer"));
}

bool get_bool(const json& section, const char* key) {
  const json* v = field(section, key);
  if (!v) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_number_integer()) return v->get<long long>() != 0;
  if (v->is_string()) {
    std::string s = v->get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "on" || s == "true" || s == "yes" || s == "1") return true;
    if (s == "off" || s == "false" || s == "no" || s == "0") return false;
  }
  throw ConfigError(key, type_problem(*v, "a boolean"));
}

int checked_port(long long port, const char* key) {
  if (port < 1 || port > 65535) throw ConfigError(key, "port " + std::to_string(port) + " is out of range 1..65535");
  return static_cast<int>(port);
}

std::string checked_protocol(const std::string& protocol, const char* key) {
  if (protocol != "http" && protocol != "https") {
    throw ConfigError(key, "unknown protocol '" + protocol + "' (use http or https)");
  }
  return protocol;
}

struct HostPort {
  std::string host;  // without brackets
  std::optional<int> port;
};

// "host", "host:port", "[v6]", "[v6]:port"; a bare IPv6 address (several colons) has no port.
HostPort split_host_port(const std::string& text, const char* key) {
  HostPort out;
  std::string_view rest = text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) throw ConfigError(key, "'" + text + "' has an unclosed '['");
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.empty()) return out;
    if (rest.front() != ':') throw ConfigError(key, "'" + text + "' has junk after ']'");
    rest.remove_prefix(1);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || rest.find(':') != colon) {
      out.host = text;
      return out;
    }
    out.host = std::string(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  long long port = 0;
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
  if (rest.empty() || ec != std::errc{} || ptr != rest.data() + rest.size()) {
    throw ConfigError(key, "'" + text + "' has an invalid port");
  }
  out.port = checked_port(port, key);
  if (out.host.empty()) throw ConfigError(key, "'" + text + "' has no host name");
  return out;
}

struct ParsedUrl {
  std::string protocol;
  HostPort where;
  std::optional<std::string> username;
  std::optional<std::string> password;
};

// scheme://[user[:password]@]host[:port][/path]
ParsedUrl parse_url(const std::string& text, const char* key) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) throw ConfigError(key, "'" + text + "' is not a URL (scheme://host:port)");
  ParsedUrl out;
  out.protocol = checked_protocol(text.substr(0, scheme_end), key);
  std::string authority = text.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    out.username = userinfo.substr(0, colon);
    if (colon != std::string::npos) out.password = userinfo.substr(colon + 1);
  }
  if (authority.empty()) throw ConfigError(key, "URL has no host");
  out.where = split_host_port(authority, key);
  return out;
}

std::vector<std::string> get_hosts(const json& section) {
  const json* v = field(section, "hosts");
  std::vector<std::string> out;
  if (v->is_string()) {
    std::stringstream in(v->get<std::string>());
    for (std::string item; std::getline(in, item, ',');) {
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty()) out.push_back(item);
    }
    return out;
  }
  if (!v->is_array()) throw ConfigError("hosts", type_problem(*v, "a list or a comma-separated string"));
  for (const auto& item : *v) {
    if (!item.is_string()) throw ConfigError("hosts", "every entry " + type_problem(item, "a string"));
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::chrono::seconds get_seconds(const json& section, const char* key, std::chrono::seconds fallback) {
  const auto value = get_integer(section, key);
  if (!value) return fallback;
  if (*value <= 0) throw ConfigError(key, "must be a positive number of seconds, got " + std::to_string(*value));
  return std::chrono::seconds(*value);
}

void check_readable(const std::string& path, const char* key) {
  std::ifstream file(path);
  if (!file) throw ConfigError(key, "cannot read '" + path + "'");
}

bool file_holds_private_key(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str().find("PRIVATE KEY-----") != std::string::npos;
}

// `citus.group`: Patroni 3.0.2 merges the citus mapping into the DCS section and uses `group`
// only when it is an integer. A silently ignored group would put the member's keys outside its
// group, so anything but a non-negative integer is refused here.
std::optional<int> citus_group(const json& config) {
  const json* citus = field(config, "citus");
  if (!citus) return std::nullopt;
  if (!citus->is_object()) throw ConfigError("citus", type_problem(*citus, "a mapping"));
  const json* group = field(*citus, "group");
  if (!group) return std::nullopt;
  if (!group->is_number_integer()) throw ConfigError("citus.group", type_problem(*group, "a non-negative integer"));
  const auto value = group->get<long long>();
  if (value < 0 || value > std::numeric_limits<int>::max()) {
    throw ConfigError("citus.group", "must be a non-negative integer, got " + std::to_string(value));
  }
  return static_cast<int>(value);
}

}  // namespace

Etcd3Options parse_etcd3_options(const json& section) {
  if (!section.is_object()) throw ConfigError("etcd3", type_problem(section, "a mapping"));
  Etcd3Options options;
  options.protocol =
      checked_protocol(get_string(section, "protocol").empty() ? "http" : get_string(section, "protocol"), "protocol");
  options.username = get_string(section, "username");
  options.password = get_string(section, "password");
  options.use_proxies = get_bool(section, "use_proxies");
  options.cacert = get_string(section, "cacert");
  options.cert = get_string(section, "cert");
  options.key = get_string(section, "key");
  options.srv = get_string(section, "srv");
  if (options.srv.empty()) options.srv = get_string(section, "discovery_srv");
  if (options.srv.empty()) options.srv = get_string(section, "srv_domain");
  options.srv_suffix = get_string(section, "srv_suffix");
  options.ttl = get_seconds(section, "ttl", options.ttl);
  options.loop_wait = get_seconds(section, "loop_wait", options.loop_wait);
  options.retry_timeout = get_seconds(section, "retry_timeout", options.retry_timeout);
  if (field(section, "namespace")) options.namespace_ = get_string(section, "namespace");
  options.scope = get_string(section, "scope");
  options.name = get_string(section, "name");
  options.patronictl = get_bool(section, "patronictl");
  // Not a Patroni key (Patroni ignores it): how long the Etcd3 constructor waits for etcd.
  if (const auto wait = get_integer(section, "startup_timeout")) {
    if (*wait < 0) throw ConfigError("startup_timeout", "must not be negative, got " + std::to_string(*wait));
    options.startup_timeout = std::chrono::seconds(*wait);
  }
  const auto explicit_port = get_integer(section, "port");
  if (explicit_port) checked_port(*explicit_port, "port");

  // Patroni's precedence: proxy (forces use_proxies) > url > hosts > host.
  std::string url_key = field(section, "proxy") ? "proxy" : field(section, "url") ? "url" : "";
  if (!url_key.empty()) {
    const std::string text = get_string(section, url_key.c_str());
    const ParsedUrl url = parse_url(text, url_key.c_str());
    options.protocol = url.protocol;
    // URL user info replaces the username/password keys, even when it has none.
    options.username = url.username.value_or("");
    options.password = url.password.value_or("");
    options.endpoints = {discovery::make_url(url.protocol, url.where.host, url.where.port.value_or(kDefaultPort))};
    if (url_key == "proxy") {
      options.use_proxies = true;
    } else {
      options.expand_host = true;
    }
  } else if (field(section, "hosts")) {
    const int port = explicit_port ? static_cast<int>(*explicit_port) : kDefaultPort;
    for (const auto& entry : get_hosts(section)) {
      const HostPort hp = split_host_port(entry, "hosts");
      options.endpoints.push_back(discovery::make_url(options.protocol, hp.host, hp.port.value_or(port)));
    }
  } else if (field(section, "host")) {
    const HostPort hp = split_host_port(get_string(section, "host"), "host");
    const int port = explicit_port ? static_cast<int>(*explicit_port) : hp.port.value_or(kDefaultPort);
    options.endpoints = {discovery::make_url(options.protocol, hp.host, port)};
    options.expand_host = true;
  }
  if (options.endpoints.empty() && options.srv.empty()) {
    throw ConfigError("etcd3", "Neither srv, hosts, host nor url are defined in etcd section of config");
  }
  if (!options.key.empty() && options.cert.empty()) {
    throw ConfigError("key", "a client key needs a client certificate ('cert')");
  }
  return options;
}

Etcd3Options parse_patroni_config(const json& config) {
  if (!config.is_object()) throw ConfigError("config", type_problem(config, "a mapping"));
  const json* section = field(config, "etcd3");
  if (!section) throw ConfigError("etcd3", "the configuration has no etcd3 section");
  json merged = *section;
  if (!merged.is_object()) throw ConfigError("etcd3", type_problem(merged, "a mapping"));
  for (const char* key : {"namespace", "name", "scope", "loop_wait", "patronictl", "ttl", "retry_timeout"}) {
    if (const json* v = field(config, key)) merged[key] = *v;
  }
  Etcd3Options options = parse_etcd3_options(merged);
  options.citus_group = citus_group(config);
  return options;
}

void validate(const Etcd3Options& options) {
  if (options.endpoints.empty() && options.srv.empty()) {
    throw ConfigError("endpoints", "at least one etcd endpoint (or an SRV domain) is required");
  }
  for (const auto& endpoint : options.endpoints) {
    if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
      throw ConfigError("endpoints", "'" + endpoint + "' is not an http:// or https:// URL");
    }
  }
  checked_protocol(options.protocol, "protocol");
  if (options.ttl.count() <= 0) throw ConfigError("ttl", "must be positive");
  if (options.loop_wait.count() <= 0) throw ConfigError("loop_wait", "must be positive");
  if (options.retry_timeout.count() <= 0) throw ConfigError("retry_timeout", "must be positive");
  if (options.startup_timeout.count() < 0) throw ConfigError("startup_timeout", "must not be negative");
  if (options.citus_group && *options.citus_group < 0) throw ConfigError("citus.group", "must not be negative");
  if (!options.cacert.empty()) check_readable(options.cacert, "cacert");
  if (!options.cert.empty()) {
    check_readable(options.cert, "cert");
    if (options.key.empty() && !file_holds_private_key(options.cert)) {
      throw ConfigError("cert", "'" + options.cert + "' holds no private key and no 'key' file is given");
    }
  }
  if (!options.key.empty()) {
    if (options.cert.empty()) throw ConfigError("key", "a client key needs a client certificate ('cert')");
    check_readable(options.key, "key");
  }
}

}  // namespace dcs::etcd3
