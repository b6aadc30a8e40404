#include "dcsctl/commands.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "common/dcs_config.hpp"
#include "common/iso8601.hpp"
#include "dcs/errors.hpp"
#include "dcsctl/cluster_report.hpp"

namespace dcs_examples {
namespace {

using dcs::Cluster;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// The group a command acts on when it needs exactly one: --group, else the coordinator.
std::optional<int> single_group(const Context& ctx) {
  if (ctx.group) return ctx.group;
  return ctx.citus ? std::optional<int>(0) : std::nullopt;
}

std::string format_of(const Context& ctx) {
  const auto format = ctx.args.get("format").value_or("pretty");
  if (format != "pretty" && format != "json") throw CommandError(kUsage, "--format must be pretty or json");
  return format;
}

// After a compare-guarded write returned false: a lost race when the key moved on, etcd trouble
// otherwise (the library's setters return false for both).
[[noreturn]] void explain_failed_write(dcs::AbstractDCS& dcs, const std::string& what, std::int64_t expected,
                                       const std::function<std::int64_t(const Cluster&)>& version_of) {
  std::shared_ptr<const Cluster> now;
  try {
    now = dcs.get_cluster();
  } catch (const dcs::Error& e) {
    throw CommandError(kUnreachable, what + " failed: " + e.what());
  }
  const std::int64_t current = version_of(*now);
  if (current != expected) {
    throw CommandError(kCompareLost, what + " lost a race: the key changed concurrently (version " +
                                         std::to_string(expected) + " is now " + std::to_string(current) +
                                         "); nothing was written, re-run to apply it to the new value");
  }
  throw CommandError(kUnreachable, what + " failed: etcd refused the write (see the log above)");
}

// Sets `path` (dot-separated) in `config`; a null value removes the key, as patronictl does.
void set_path(json& config, const std::string& path, const json& value) {
  json* node = &config;
  std::size_t start = 0;
  for (;;) {
    const auto dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) throw CommandError(kUsage, "--set: empty key in '" + path + "'");
    if (dot == std::string::npos) {
      if (value.is_null()) {
        node->erase(key);
      } else {
        (*node)[key] = value;
      }
      return;
    }
    if (!node->contains(key) || !(*node)[key].is_object()) {
      if (value.is_null()) return;
      (*node)[key] = json::object();
    }
    node = &(*node)[key];
    start = dot + 1;
  }
}

json parse_value(const std::string& text) {
  try {
    return yaml_to_json(YAML::Load(text));
  } catch (const YAML::Exception&) {
    return text;
  }
}

}  // namespace

void print(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

std::string timestamp() {
  return format_iso8601_utc(unix_now()).substr(0, 19) + "Z";
}

int cmd_list(const Context& ctx) {
  const std::string format = format_of(ctx);
  // Without --group a Citus cluster is read from the coordinator, which sees every group.
  const bool all_groups = ctx.citus && !ctx.group;
  auto dcs = ctx.connect(single_group(ctx));
  const auto cluster = dcs->get_cluster();
  if (format == "json") {
    json out = cluster_to_json(ctx.options.scope, *cluster, all_groups);
    if (ctx.group) out["group"] = *ctx.group;
    print(out.dump() + "\n");
  } else {
    print(render_table(ctx.options.scope, *cluster, all_groups));
  }
  return kOk;
}

int cmd_show_config(const Context& ctx) {
  const std::string format = format_of(ctx);
  auto dcs = ctx.connect(single_group(ctx));
  const auto cluster = dcs->get_cluster();
  const json data = cluster->config ? cluster->config->data : json::object();
  print(format == "json" ? data.dump(2) + "\n" : json_to_yaml(data));
  return kOk;
}

int cmd_edit_config(const Context& ctx) {
  const auto sets = ctx.args.get_all("set");
  if (sets.empty()) throw CommandError(kUsage, "edit-config needs at least one --set key.path=value");
  auto dcs = ctx.connect(single_group(ctx));
  const auto cluster = dcs->get_cluster();
  if (!cluster->config) throw CommandError(kUsage, "the config key does not exist in cluster " + ctx.options.scope);

  json edited = cluster->config->data;
  for (const auto& item : sets) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw CommandError(kUsage, "--set needs key.path=value, got '" + item + "'");
    set_path(edited, item.substr(0, eq), parse_value(item.substr(eq + 1)));
  }
  if (edited == cluster->config->data) {
    print("Not changed\n");
    return kOk;
  }
  // The compare: the version this edit was based on (or the one the caller insists on).
  const std::int64_t expected = ctx.args.get_int("expect-version").value_or(cluster->config->version);
  if (!dcs->set_config_value(dcs::to_patroni_json(edited), expected)) {
    explain_failed_write(*dcs, "edit-config", expected,
                         [](const Cluster& c) { return c.config ? c.config->version : std::int64_t{0}; });
  }
  for (const auto& item : sets) print("set " + item + "\n");
  print("Configuration changed\n");
  return kOk;
}

int cmd_switchover(const Context& ctx, bool failover) {
  const std::string action = failover ? "failover" : "switchover";
  if (ctx.citus && !ctx.group) throw CommandError(kUsage, "for a Citus cluster the --group must be specified");
  auto dcs = ctx.connect(single_group(ctx));
  const auto cluster = dcs->get_cluster();
  const std::string current = cluster->leader_name();

  std::string leader = ctx.args.get("leader").value_or("");
  const std::string candidate = ctx.args.get("candidate").value_or("");
  if (!failover && current.empty()) throw CommandError(kUsage, "this cluster has no leader");
  if (failover && candidate.empty())
    throw CommandError(kUsage, "failover could be performed only to a specific candidate (--candidate)");
  if (leader.empty()) leader = current;
  if (!leader.empty() && leader != current) {
    throw CommandError(kUsage, "member " + leader + " is not the leader of cluster " + ctx.options.scope);
  }
  if (!candidate.empty()) {
    if (candidate == leader) throw CommandError(kUsage, action + " target and source are the same");
    const auto member = cluster->get_member(candidate, false);
    if (!member || member->nofailover()) {
      throw CommandError(kUsage, "member " + candidate + " does not exist in cluster " + ctx.options.scope +
                                     " or is not allowed to become leader");
    }
  }

  std::string scheduled_at;
  if (const auto scheduled = ctx.args.get("scheduled"); scheduled && *scheduled != "now") {
    if (failover) throw CommandError(kUsage, "--scheduled applies to switchover only");
    const auto at = parse_iso8601(*scheduled);
    if (!at) throw CommandError(kUsage, "--scheduled needs an ISO 8601 time (e.g. 2024-05-01T10:00:00+00:00)");
    scheduled_at = format_iso8601_utc(*at);
  }

  // Guarded by the failover key's version when one exists: two operators cannot overwrite each
  // other's request unnoticed.
  const std::optional<std::int64_t> version =
      cluster->failover ? std::optional<std::int64_t>(cluster->failover->version) : std::nullopt;
  if (!dcs->manual_failover(leader, candidate, scheduled_at, version)) {
    if (!version) throw CommandError(kUnreachable, action + " failed: etcd refused the write (see the log above)");
    explain_failed_write(*dcs, action, *version,
                         [](const Cluster& c) { return c.failover ? c.failover->version : std::int64_t{0}; });
  }
  print(timestamp() + " " + (failover ? "Failover" : "Switchover") + " requested: " +
        (leader.empty() ? "(no leader)" : leader) + " -> " + (candidate.empty() ? "(healthiest member)" : candidate) +
        (scheduled_at.empty() ? "" : " at " + scheduled_at) + "\n");

  const auto wait = ctx.args.get_int("wait");
  if (!wait || *wait <= 0 || !scheduled_at.empty()) return kOk;
  // Wait until a new leader holds the key and the request is gone.
  const auto started = SteadyClock::now();
  const auto deadline = started + std::chrono::seconds(*wait);
  std::string seen = leader;
  while (SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    std::shared_ptr<const Cluster> now;
    try {
      now = dcs->get_cluster();
    } catch (const dcs::Error&) {
      continue;
    }
    const std::string holder = now->leader_name();
    if (holder != seen) {
      print(timestamp() + " leader: " + (seen.empty() ? "none" : seen) + " -> " + (holder.empty() ? "none" : holder) +
            "\n");
      seen = holder;
    }
    const bool done = !holder.empty() && holder != leader && (candidate.empty() || holder == candidate) &&
                      (!now->failover || now->failover->is_empty());
    if (done) {
      const double took = std::chrono::duration<double>(SteadyClock::now() - started).count();
      char text[64];
      std::snprintf(text, sizeof text, "%.1f", took);
      print(timestamp() + " " + action + " done: " + holder + " is the leader (" + text + " s)\n");
      return kOk;
    }
  }
  throw CommandError(kUsage, action + " did not complete within " + std::to_string(*wait) + " s");
}

int cmd_remove(const Context& ctx) {
  const auto& pos = ctx.args.positional();
  if (pos.size() != 2) throw CommandError(kUsage, "usage: dcsctl remove <scope> --yes-i-am-sure");
  if (pos[1] != ctx.options.scope) {
    throw CommandError(kUsage,
                       "scope '" + pos[1] + "' does not match the configured scope '" + ctx.options.scope + "'");
  }
  if (!ctx.args.has("yes-i-am-sure")) {
    throw CommandError(kUsage, "remove deletes every key of cluster " + pos[1] + "; add --yes-i-am-sure to proceed");
  }
  auto dcs = ctx.connect(ctx.group ? ctx.group : std::nullopt);
  if (!dcs->delete_cluster()) throw CommandError(kUnreachable, "remove failed: etcd refused the delete");
  print("Removed cluster " + pos[1] + " (" + dcs->client_path("") + ")\n");
  return kOk;
}

}  // namespace dcs_examples
