// dcsctl: inspect and steer any Patroni cluster kept in etcd (written by ha_daemon, by Patroni
// itself or by anything else that uses libdcs), in the spirit of patronictl.
//
// Exit codes: 0 success, 1 usage or configuration error, 2 etcd unreachable, 3 compare lost.
// Errors are one line on stderr.
#include <cstdio>
#include <string>

#include "common/args.hpp"
#include "common/dcs_config.hpp"
#include "common/stderr_log.hpp"
#include "dcs/dcs.hpp"
#include "dcsctl/commands.hpp"

namespace {

using namespace dcs_examples;

constexpr const char* kUsageText =
    "usage: dcsctl [-c FILE] [options] COMMAND [arguments]\n"
    "\n"
    "Inspects and steers a Patroni cluster in etcd (no lease, no watcher: patronictl mode;\n"
    "health excepted).\n"
    "\n"
    "commands:\n"
    "  list [--format pretty|json]   members, roles, states, timelines and lag; every Citus group\n"
    "                                of a Citus cluster unless --group is given. json: one object\n"
    "                                {scope, leader, members[{name, role, state, api_url, conn_url,\n"
    "                                timeline, lag, tags}], config, failover, sync, history, status,\n"
    "                                failsafe, initialize} (+ group, workers for Citus)\n"
    "  show-config [--format pretty|json]\n"
    "                                the dynamic configuration (the config key) as YAML or JSON\n"
    "  edit-config --set key.path=value [--set ...] [--expect-version N]\n"
    "                                changes the configuration with a compare-and-set on its version\n"
    "                                (the one just read, or N); value is YAML, null removes the key\n"
    "  switchover [--leader A] [--candidate B] [--scheduled ISO-8601|now] [--wait SECONDS]\n"
    "                                asks leader A to hand over to B (or to the healthiest member)\n"
    "  failover --candidate B [--wait SECONDS]\n"
    "                                makes B the leader, also when the cluster has none\n"
    "  remove <scope> --yes-i-am-sure\n"
    "                                deletes every key of the cluster (of one group with --group)\n"
    "  watch [--duration SECONDS]    streams every change under the cluster's prefix as it happens:\n"
    "                                one line per event (type, key, revision, value), then what it\n"
    "                                means for the cluster; re-lists after a compaction or a broken\n"
    "                                stream; ends on SIGINT / SIGTERM\n"
    "  health [--format pretty|json] connects as a passive member would (a lease, the watcher\n"
    "                                cache), waits for the cache, and prints Etcd3::health(): the\n"
    "                                endpoint, cache state and age, lease and time to expiry, last\n"
    "                                error; the lease is revoked on exit\n"
    "\n"
    "exit codes: 0 success, 1 usage or configuration error (also a --wait that ran out),\n"
    "            2 etcd unreachable, 3 compare lost (someone changed the key concurrently)\n"
    "\n"
    "options:\n";

std::vector<OptionSpec> all_specs() {
  std::vector<OptionSpec> specs = dcs_option_specs({.member = false});
  const std::vector<OptionSpec> own = {
      {"citus", "", "treat the cluster as a Citus one (all groups)"},
      {"format", "FORMAT", "list / show-config output: pretty (default) or json"},
      {"set", "KEY.PATH=VALUE", "edit-config: a change (repeatable)"},
      {"expect-version", "N", "edit-config: compare against this config version"},
      {"leader", "NAME", "switchover / failover: the current leader"},
      {"candidate", "NAME", "switchover / failover: the member to take over"},
      {"scheduled", "TIME", "switchover: when (ISO 8601, or now)"},
      {"wait", "SECONDS", "switchover / failover: wait for the new leader"},
      {"yes-i-am-sure", "", "remove: confirm"},
      {"interval", "SECONDS", "watch: ignored (the watch streams; kept for older scripts)"},
      {"duration", "SECONDS", "watch: stop after this long (default: never)"},
      {"verbose", "", "log the library's info messages on stderr", 'v'},
      {"help", "", "show this help", 'h'},
  };
  specs.insert(specs.end(), own.begin(), own.end());
  return specs;
}

int run(int argc, char** argv) {
  const auto specs = all_specs();
  Context ctx;
  ctx.args = Args::parse(argc, argv, 1, specs);
  if (ctx.args.has("help")) {
    std::fputs((std::string(kUsageText) + format_options(specs)).c_str(), stdout);
    return kOk;
  }
  if (ctx.args.positional().empty()) throw UsageError("no command given (see --help)");
  const std::string command = ctx.args.positional().front();
  if (command != "remove" && ctx.args.positional().size() > 1) {
    throw UsageError("unexpected argument '" + ctx.args.positional()[1] + "'");
  }
  set_min_log_level(ctx.args.has("verbose") ? dcs::LogLevel::info : dcs::LogLevel::error);

  const nlohmann::json config = load_config(ctx.args);
  ctx.options = etcd3_options(config);
  if (ctx.options.scope.empty()) throw UsageError("no scope: set `scope` in the configuration or pass --scope");
  ctx.options.patronictl = true;
  ctx.options.startup_timeout = std::chrono::seconds{0};  // a CLI reports, it does not wait
  ctx.options.log_sink = stderr_sink();
  if (ctx.options.name.empty()) ctx.options.name = "dcsctl";
  ctx.group = ctx.args.get_int("group").has_value() ? std::optional<int>(ctx.options.citus_group) : std::nullopt;
  ctx.citus = ctx.args.has("citus") || ctx.options.citus_group.has_value();
  ctx.connect = [&ctx](std::optional<int> group) {
    auto options = ctx.options;
    options.citus_group = group;
    return std::make_unique<dcs::etcd3::Etcd3>(options);
  };

  if (command == "list") return cmd_list(ctx);
  if (command == "show-config") return cmd_show_config(ctx);
  if (command == "edit-config") return cmd_edit_config(ctx);
  if (command == "switchover") return cmd_switchover(ctx, false);
  if (command == "failover") return cmd_switchover(ctx, true);
  if (command == "remove") return cmd_remove(ctx);
  if (command == "watch") return cmd_watch(ctx);
  if (command == "health") return cmd_health(ctx);
  throw UsageError("unknown command '" + command + "' (see --help)");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const CommandError& e) {
    std::fprintf(stderr, "dcsctl: %s\n", e.what());
    return e.code();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "dcsctl: %s\n", e.what());
  } catch (const dcs::ConfigError& e) {
    std::fprintf(stderr, "dcsctl: %s\n", e.what());
  } catch (const dcs::etcd3::AuthFailed& e) {
    std::fprintf(stderr, "dcsctl: etcd refused the credentials: %s\n", e.what());
  } catch (const dcs::Error& e) {
    // DCSError (etcd unreachable or not answering properly) and the other etcd failures.
    std::fprintf(stderr, "dcsctl: etcd unreachable: %s\n", e.what());
    return kUnreachable;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dcsctl: %s\n", e.what());
  }
  return kUsage;
}
