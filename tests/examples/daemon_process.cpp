#include "examples/daemon_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dcs_examples::testing {

DaemonProcess::DaemonProcess(const std::vector<std::string>& argv, const std::string& log_path) : log_path_(log_path) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_path);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(log_fd);
  if (pid_ < 0) {
    ::close(out[0]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  stdout_fd_ = out[0];
  reader_ = std::thread([this] {
    std::string pending;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(stdout_fd_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buffer, static_cast<std::size_t>(n));
      for (auto eol = pending.find('\n'); eol != std::string::npos; eol = pending.find('\n')) {
        std::lock_guard lock(mutex_);
        lines_.push_back(pending.substr(0, eol));
        pending.erase(0, eol + 1);
      }
    }
  });
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0 && !exit_status_) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds{10});
  }
  if (reader_.joinable()) reader_.join();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

void DaemonProcess::signal(int signal_number) {
  signalled_ = true;
  if (pid_ > 0 && !exit_status_) ::kill(pid_, signal_number);
}

std::optional<int> DaemonProcess::wait_exit(std::chrono::milliseconds bound) {
  if (exit_status_) return exit_status_;
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

std::vector<std::string> DaemonProcess::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::string DaemonProcess::log_tail(std::size_t bytes) const {
  std::ifstream file(log_path_);
  std::stringstream content;
  content << file.rdbuf();
  const std::string text = content.str();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace dcs_examples::testing
