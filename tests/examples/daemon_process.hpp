// A long-running example program (ha_daemon) as a child process of the test: its stdout lines
// are collected by a reader thread (ha_daemon's JSON events), its stderr goes to a log file. The
// child gets PR_SET_PDEATHSIG(SIGKILL), so a crashed test leaves no daemon behind; the destructor
// kills and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dcs_examples::testing {

class DaemonProcess {
 public:
  /// Starts argv[0] (an absolute path) with `argv`; stderr is appended to `log_path`.
  DaemonProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// Sends a signal; the test then expects the child to end.
  void signal(int signal_number);
  /// True once signal() was called.
  bool signalled() const noexcept { return signalled_; }
  /// Waits (bounded) for the child to exit; its exit status (128 + signal when killed), or
  /// nullopt when it still runs after `bound`.
  std::optional<int> wait_exit(std::chrono::milliseconds bound);
  /// Every complete stdout line so far.
  std::vector<std::string> lines() const;
  /// The last `bytes` of the stderr log, for failure messages.
  std::string log_tail(std::size_t bytes = 3000) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  bool signalled_ = false;
  int stdout_fd_ = -1;
  std::string log_path_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::thread reader_;
};

}  // namespace dcs_examples::testing
