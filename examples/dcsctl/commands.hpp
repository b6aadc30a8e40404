// The commands of dcsctl. Each returns the process exit code or throws CommandError; the
// connection and the exit-code mapping of library errors live in main.cpp.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "common/args.hpp"
#include "dcs/etcd3/config.hpp"
#include "dcs/etcd3/etcd3.hpp"

namespace dcs_examples {

/// Exit codes of dcsctl.
enum ExitCode : int { kOk = 0, kUsage = 1, kUnreachable = 2, kCompareLost = 3 };

/// A failure with its exit code; main prints "dcsctl: <message>" on stderr.
class CommandError : public std::runtime_error {
 public:
  CommandError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

struct Context {
  Args args;
  dcs::etcd3::Etcd3Options options;  ///< patronictl mode, from the file and the flags
  bool citus = false;                ///< a Citus cluster (citus section, --group or --citus)
  std::optional<int> group;          ///< --group given on the command line
  /// Connects with options.citus_group = `group`; throws dcs errors (mapped by main).
  std::function<std::unique_ptr<dcs::etcd3::Etcd3>(std::optional<int> group)> connect;
};

int cmd_list(const Context& ctx);
int cmd_show_config(const Context& ctx);
int cmd_edit_config(const Context& ctx);
int cmd_switchover(const Context& ctx, bool failover);
int cmd_remove(const Context& ctx);
/// Streams every change under the cluster's prefix (watch_command.cpp).
int cmd_watch(const Context& ctx);
/// Prints Etcd3::health() of a passive connection (health_command.cpp).
int cmd_health(const Context& ctx);

/// Writes `text` to stdout and flushes it (a watching dcsctl is often piped).
void print(const std::string& text);
/// Now in UTC to the second, e.g. "2026-11-26T12:00:00Z".
std::string timestamp();

}  // namespace dcs_examples
