// Runs a helper program (the Patroni peer) as a child process: a request on its stdin, its stdout
// and stderr collected, killed when it overruns a bound. Everything goes through pipes watched
// with poll(), so a chatty stderr can never dead-lock a child that is still writing stdout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace dcs::interop {

struct ProcessResult {
  /// The exit status; 128 + signal number when a signal ended it; -1 when it could not start.
  int exit_code = -1;
  std::string out;
  std::string err;
  bool timed_out = false;

  bool ok() const noexcept { return exit_code == 0 && !timed_out; }
};

/// Runs argv[0] (an absolute path) with `argv`, feeding `input` to its stdin. The child inherits
/// the environment. After `timeout` it gets SIGKILL and the result says timed_out.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::milliseconds timeout);

}  // namespace dcs::interop
