#include "support/etcd_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace dcs::testing {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::chrono::seconds kStopTimeout{10};

// A member died while starting: most likely it lost a race for its ports, so start again.
class MemberExited : public EtcdProcessError {
 public:
  using EtcdProcessError::EtcdProcessError;
};

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

bool is_executable(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Binds `count` sockets to 127.0.0.1:0 at once (so the ports differ), then closes them.
std::vector<int> pick_free_ports(std::size_t count) {
  std::vector<int> fds;
  std::vector<int> ports;
  auto close_all = [&] {
    for (const int fd : fds) ::close(fd);
  };
  for (std::size_t i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const std::string message = errno_text("socket");
      close_all();
      throw EtcdProcessError(message);
    }
    fds.push_back(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      const std::string message = errno_text("bind 127.0.0.1:0");
      close_all();
      throw EtcdProcessError(message);
    }
    ports.push_back(ntohs(address.sin_port));
  }
  close_all();
  return ports;
}

void ensure_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t note_content_type(char* data, std::size_t size, std::size_t count, void* user) {
  // CURLINFO_CONTENT_TYPE would do, but a header callback keeps the value owned by us.
  const std::string_view line(data, size * count);
  static constexpr std::string_view kName = "content-type:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (std::size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      *static_cast<std::string*>(user) = std::string(value);
    }
  }
  return size * count;
}

HttpResult http_exchange(const HttpRequest& request) {
  ensure_curl();
  HttpResult result;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw EtcdProcessError("curl_easy_init failed");
  char error[CURL_ERROR_SIZE] = {};
  curl_slist* headers = nullptr;
  std::string authorization;
  const long timeout_ms = static_cast<long>(request.timeout.count());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &note_content_type);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.content_type);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  if (!request.tls.ca.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, request.tls.ca.c_str());
  if (!request.tls.cert.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, request.tls.cert.c_str());
  if (!request.tls.key.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, request.tls.key.c_str());
  if (!request.token.empty()) {
    authorization = "Authorization: " + request.token;
    headers = curl_slist_append(headers, authorization.c_str());
  }
  if (request.body) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body->c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode code = curl_easy_perform(curl);
  result.curl_code = static_cast<int>(code);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  } else {
    result.status = 0;
    result.content_type.clear();
    result.body = std::string(curl_easy_strerror(code)) + (error[0] != '\0' ? std::string(": ") + error : "");
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return result;
}

// The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix).
std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::string(1, '\0');  // every key from `prefix` on
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

bool cluster_version_decided(const std::string& version_body) {
  static constexpr std::string_view kField = "\"etcdcluster\":\"";
  const std::size_t at = version_body.find(kField);
  const std::size_t first = at + kField.size();
  return at != std::string::npos && first < version_body.size() &&
         std::isdigit(static_cast<unsigned char>(version_body[first])) != 0;
}

}  // namespace

std::string find_etcd_binary() {
  if (const char* configured = std::getenv("DCS_ETCD_BIN"); configured != nullptr && configured[0] != '\0') {
    if (!is_executable(configured)) {
      throw EtcdProcessError(std::string("DCS_ETCD_BIN=") + configured + " is not an executable file");
    }
    return configured;
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (dir.empty()) continue;
      const std::string candidate = dir + "/etcd";
      if (is_executable(candidate)) return candidate;
    }
  }
  if (is_executable("/usr/bin/etcd")) return "/usr/bin/etcd";
  throw EtcdProcessError(
      "etcd binary not found: the integration tests need a real etcd. Install it (Debian: apt-get install etcd-server) "
      "or point DCS_ETCD_BIN at one.");
}

int pick_free_port() {
  return pick_free_ports(1).front();
}

EtcdProcess::EtcdProcess() : EtcdProcess(Options{}) {}

EtcdProcess::EtcdProcess(Options options) : options_(std::move(options)) {
  if (options_.members == 0) throw EtcdProcessError("EtcdProcess needs at least one member");
  if (options_.start_attempts < 1) options_.start_attempts = 1;
  binary_ = find_etcd_binary();

  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp") + "/dcs-etcd-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw EtcdProcessError(errno_text("mkdtemp " + pattern));
  dir_ = pattern;

  members_.resize(options_.members);
  for (std::size_t i = 0; i < members_.size(); ++i) {
    // Not "m" + std::to_string(...): GCC 12 at -O3 reports a false -Wrestrict on it (PR 105329).
    members_[i].name = options_.members == 1 ? "n1" : std::string("m").append(std::to_string(i + 1));
  }
  try {
    if (options_.tls) pki_ = generate_test_pki(dir_ + "/pki");
    start_all();
  } catch (...) {
    stop();
    throw;
  }
}

EtcdProcess::~EtcdProcess() {
  stop();
}

void EtcdProcess::start_all() {
  std::string failure;
  // The proxies bind their ports first and keep them: the ports picked below never collide.
  if (options_.partitionable) partition_ = std::make_unique<PeerPartition>(members_.size());
  for (int attempt = 1; attempt <= options_.start_attempts; ++attempt) {
    const std::vector<int> ports = pick_free_ports(2 * members_.size());
    std::string initial_cluster;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      Member& member = members_[i];
      member.client_port = ports[2 * i];
      member.peer_port = ports[2 * i + 1];
      member.client_url =
          (options_.tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(member.client_port);
      member.peer_url = "http://127.0.0.1:" + std::to_string(member.peer_port);
      member.advertised_peer_url = member.peer_url;
      if (partition_) {
        partition_->set_target_port(i, member.peer_port);
        member.advertised_peer_url = partition_->proxy_url(i);
      }
      initial_cluster += (i == 0 ? "" : ",") + member.name + "=" + member.advertised_peer_url;
    }
    const std::string token = "dcs-test-" + std::to_string(::getpid()) + "-" + std::to_string(ports.front());
    for (Member& member : members_) {
      const std::string data_dir = dir_ + "/" + member.name + ".data";
      std::error_code ignored;
      fs::remove_all(data_dir, ignored);  // a previous attempt's data
      member.args = {binary_,
                     "--name=" + member.name,
                     "--data-dir=" + data_dir,
                     "--listen-client-urls=" + member.client_url,
                     "--advertise-client-urls=" + member.client_url,
                     "--listen-peer-urls=" + member.peer_url,
                     "--initial-advertise-peer-urls=" + member.advertised_peer_url,
                     "--initial-cluster=" + initial_cluster,
                     "--initial-cluster-state=new",
                     "--initial-cluster-token=" + token,
                     "--logger=zap",
                     "--log-outputs=stderr"};
      if (pki_) {
        member.args.insert(member.args.end(), {"--cert-file=" + pki_->server_cert, "--key-file=" + pki_->server_key,
                                               "--trusted-ca-file=" + pki_->ca, "--client-cert-auth"});
      }
      member.args.insert(member.args.end(), options_.extra_flags.begin(), options_.extra_flags.end());
    }
    // A member only answers once the cluster has a leader: launch all of them before polling.
    for (std::size_t i = 0; i < members_.size(); ++i) launch(i);
    try {
      for (std::size_t i = 0; i < members_.size(); ++i) wait_ready(i);
      register_member_ids();
      return;
    } catch (const MemberExited& e) {
      failure = e.what();
      for (Member& member : members_) stop_member(member);
    }
  }
  throw EtcdProcessError("could not start etcd in " + dir_ + ": " + failure);
}

void EtcdProcess::register_member_ids() {
  if (!partition_) return;
  // The proxies know callers by the raft id in X-Server-From; only the members can tell it.
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const auto status = member_status(i, std::chrono::seconds{5});
    if (!status || status->member_id == 0) {
      throw EtcdProcessError("'" + members_[i].name + "' did not report its member id; log " + log_path(i) + ":\n" +
                             log_tail(i));
    }
    partition_->set_member_id(i, status->member_id);
  }
}

void EtcdProcess::launch(std::size_t index) {
  Member& member = members_[index];
  // Everything the child needs is prepared before fork(): after it only async-signal-safe calls.
  std::vector<char*> argv;
  for (std::string& arg : member.args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    if (std::strncmp(*entry, "ETCD_", 5) != 0) envp.push_back(*entry);  // etcd reads ETCD_* as flags
  }
  envp.push_back(nullptr);

  const std::string log = log_path(index);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw EtcdProcessError(errno_text("open " + log));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    const std::string message = errno_text("open /dev/null");
    ::close(log_fd);
    throw EtcdProcessError(message);
  }
  static constexpr char kExecFailed[] = "etcd_process: execve failed\n";
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid == 0) {
    // Child. Die with the thread that started us, even when it is SIGKILLed.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::close_range(3, ~0U, 0);  // no inherited sockets or files (best effort)
    ::execve(argv[0], argv.data(), envp.data());
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) {
    errno = fork_errno;
    throw EtcdProcessError(errno_text("fork"));
  }
  member.pid = pid;
  member.stopped = false;
}

bool EtcdProcess::alive(Member& member) noexcept {
  if (member.pid <= 0) return false;
  int status = 0;
  const pid_t result = ::waitpid(member.pid, &status, WNOHANG);
  if (result == 0) return true;
  if (result < 0 && errno == EINTR) return true;
  member.pid = -1;  // exited and reaped (or not our child any more)
  return false;
}

void EtcdProcess::wait_ready(std::size_t index) {
  Member& member = members_[index];
  const auto deadline = Clock::now() + options_.ready_timeout;
  const std::string url = member.client_url + "/version";
  while (true) {
    if (!alive(member)) {
      throw MemberExited("'" + member.name + "' exited while starting; log " + log_path(index) + ":\n" +
                         log_tail(index));
    }
    const HttpResult answer =
        http_exchange({.url = url, .tls = client_tls(), .timeout = std::chrono::milliseconds{1000}});
    // Ready = a cluster version is decided ("etcdcluster":"not_decided" until the members agreed
    // on one, and Etcd3Client cannot select its API prefix before).
    if (answer.status == 200 && cluster_version_decided(answer.body)) return;
    if (Clock::now() >= deadline) {
      throw EtcdProcessError("'" + member.name + "' did not answer GET " + url + " within " +
                             std::to_string(options_.ready_timeout.count()) +
                             " s (last: " + std::to_string(answer.status) + " " + answer.body + "); log " +
                             log_path(index) + ":\n" + log_tail(index));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
}

void EtcdProcess::stop_member(Member& member) noexcept {
  if (member.pid <= 0) return;
  ::kill(member.pid, SIGTERM);
  ::kill(member.pid, SIGCONT);  // a stopped process cannot act on SIGTERM
  const auto deadline = Clock::now() + kStopTimeout;
  while (alive(member) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds{20});
  if (member.pid > 0) {
    ::kill(member.pid, SIGKILL);
    int status = 0;
    while (::waitpid(member.pid, &status, 0) < 0 && errno == EINTR) {
    }
    member.pid = -1;
  }
}

void EtcdProcess::stop() noexcept {
  for (Member& member : members_) stop_member(member);
  partition_.reset();  // after the members: they would only log the broken peer connections
  if (!dir_.empty()) {
    const char* keep = std::getenv("DCS_KEEP_ETCD_DIR");
    if (keep == nullptr || keep[0] == '\0') {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
    dir_.clear();
  }
}

void EtcdProcess::check_member(std::size_t member) const {
  if (member >= members_.size()) {
    throw EtcdProcessError("no member " + std::to_string(member) + " (cluster of " + std::to_string(members_.size()) +
                           ")");
  }
}

const std::string& EtcdProcess::endpoint(std::size_t member) const {
  check_member(member);
  return members_[member].client_url;
}

std::vector<std::string> EtcdProcess::endpoints() const {
  std::vector<std::string> urls;
  for (const Member& member : members_) urls.push_back(member.client_url);
  return urls;
}

const std::string& EtcdProcess::name(std::size_t member) const {
  check_member(member);
  return members_[member].name;
}

pid_t EtcdProcess::pid(std::size_t member) const {
  check_member(member);
  return members_[member].pid;
}

bool EtcdProcess::running(std::size_t member) {
  check_member(member);
  return alive(members_[member]);
}

void EtcdProcess::signal(std::size_t index, int signal) {
  check_member(index);
  Member& member = members_[index];
  if (!alive(member)) throw EtcdProcessError("'" + member.name + "' is not running");
  if (signal == SIGTERM || signal == SIGINT) {
    stop_member(member);
    return;
  }
  if (signal == SIGSTOP && member.stopped) return;
  if (::kill(member.pid, signal) != 0) throw EtcdProcessError(errno_text("kill " + std::to_string(member.pid)));
  if (signal == SIGCONT) member.stopped = false;
  if (signal == SIGSTOP) {
    wait_stopped(index);
    return;
  }
  if (signal == SIGKILL) {
    int status = 0;
    while (::waitpid(member.pid, &status, 0) < 0 && errno == EINTR) {
    }
    member.pid = -1;
  }
}

void EtcdProcess::wait_stopped(std::size_t index) {
  // kill() only starts a group stop: each thread of the member runs on until it notices, so a
  // member that was just "frozen" could still answer a request. waitpid(WUNTRACED) reports the
  // stop once every thread has stopped.
  Member& member = members_[index];
  const auto deadline = Clock::now() + kStopTimeout;
  while (true) {
    int status = 0;
    const pid_t result = ::waitpid(member.pid, &status, WUNTRACED | WNOHANG);
    if (result == member.pid && WIFSTOPPED(status)) {
      member.stopped = true;
      return;
    }
    if (result == member.pid) {
      member.pid = -1;
      throw EtcdProcessError("'" + member.name + "' exited instead of stopping; log " + log_path(index) + ":\n" +
                             log_tail(index));
    }
    if (result < 0 && errno != EINTR) throw EtcdProcessError(errno_text("waitpid " + std::to_string(member.pid)));
    if (Clock::now() >= deadline) throw EtcdProcessError("'" + member.name + "' did not stop after SIGSTOP");
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
}

void EtcdProcess::restart(std::size_t index) {
  check_member(index);
  Member& member = members_[index];
  if (alive(member))
    throw EtcdProcessError("'" + member.name + "' is still running (pid " + std::to_string(member.pid) + ")");
  launch(index);  // same flags and data dir: etcd ignores --initial-cluster* then
  try {
    wait_ready(index);
  } catch (...) {
    stop_member(member);
    throw;
  }
}

void EtcdProcess::restart_on_new_client_port(std::size_t index) {
  check_member(index);
  Member& member = members_[index];
  if (alive(member)) {
    throw EtcdProcessError("'" + member.name + "' is still running (pid " + std::to_string(member.pid) + ")");
  }
  const std::string old_url = member.client_url;
  member.client_port = pick_free_port();
  member.client_url = "http://127.0.0.1:" + std::to_string(member.client_port);
  if (old_url.rfind("https://", 0) == 0) member.client_url.replace(0, 4, "https");
  for (std::string& arg : member.args) {
    for (auto at = arg.find(old_url); at != std::string::npos; at = arg.find(old_url, at + member.client_url.size())) {
      arg.replace(at, old_url.size(), member.client_url);
    }
  }
  launch(index);
  try {
    wait_ready(index);
    wait_new_url_published(index);
  } catch (...) {
    stop_member(member);
    throw;
  }
}

// A restarted member answers before the others know its new address: it publishes its client
// URLs through raft once it runs. Until every running member applied that, a member list (what a
// client learns addresses from) may still name the old URL.
void EtcdProcess::wait_new_url_published(std::size_t index) {
  const std::string& wanted = members_[index].client_url;
  const auto deadline = Clock::now() + options_.ready_timeout;
  for (;;) {
    bool everywhere = true;
    for (std::size_t other = 0; other < members_.size(); ++other) {
      if (!alive(members_[other])) continue;
      const HttpResult answer = post("/v3/cluster/member/list", "{}", {}, other);
      if (answer.status != 200 || answer.body.find("\"" + wanted + "\"") == std::string::npos) {
        everywhere = false;
        break;
      }
    }
    if (everywhere) return;
    if (Clock::now() >= deadline) {
      throw EtcdProcessError("the member list does not show '" + members_[index].name + "' at " + wanted + " within " +
                             std::to_string(options_.ready_timeout.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
}

void EtcdProcess::restart_stopped() {
  std::vector<std::size_t> relaunched;
  for (std::size_t index = 0; index < members_.size(); ++index) {
    if (alive(members_[index])) continue;
    launch(index);
    relaunched.push_back(index);
  }
  // Only now wait: a member without quorum does not answer until enough of the others are back.
  for (const std::size_t index : relaunched) wait_ready(index);
}

std::string EtcdProcess::log_path(std::size_t member) const {
  check_member(member);
  return dir_ + "/" + members_[member].name + ".log";
}

std::string EtcdProcess::log_tail(std::size_t member, std::size_t bytes) const {
  std::ifstream in(log_path(member), std::ios::binary);
  if (!in) return "(no log)";
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

std::string base64(std::string_view bytes) {
  // OpenSSL's encoder, as the library itself uses: standard alphabet, padded.
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

const TestPki& EtcdProcess::pki() const {
  if (!pki_) throw EtcdProcessError("this etcd was started without TLS (Options::tls)");
  return *pki_;
}

PeerPartition& EtcdProcess::partition() {
  if (!partition_) throw EtcdProcessError("this etcd was started without Options::partitionable");
  return *partition_;
}

std::optional<MemberStatus> EtcdProcess::member_status(std::size_t member, std::chrono::milliseconds timeout) const {
  const HttpResult result = http_exchange(
      {.url = endpoint(member) + "/v3/maintenance/status", .body = "{}", .tls = client_tls(), .timeout = timeout});
  if (result.status != 200) return std::nullopt;
  const nlohmann::json answer = nlohmann::json::parse(result.body, nullptr, false);
  if (!answer.is_object()) return std::nullopt;
  // The gateway spells uint64 as a decimal string and leaves zero values out.
  const auto number = [](const nlohmann::json& object, const char* name) -> std::uint64_t {
    const auto it = object.find(name);
    if (it == object.end()) return 0;
    if (it->is_number_unsigned()) return it->get<std::uint64_t>();
    if (it->is_string()) return std::strtoull(it->get<std::string>().c_str(), nullptr, 10);
    return 0;
  };
  MemberStatus status;
  if (const auto header = answer.find("header"); header != answer.end() && header->is_object()) {
    status.member_id = number(*header, "member_id");
    status.revision = static_cast<std::int64_t>(number(*header, "revision"));
  }
  status.leader = number(answer, "leader");
  status.raft_term = number(answer, "raftTerm");
  if (const auto errors = answer.find("errors"); errors != answer.end() && errors->is_array()) {
    for (const auto& error : *errors) {
      if (error.is_string()) status.errors.push_back(error.get<std::string>());
    }
  }
  return status;
}

ClientTls EtcdProcess::client_tls() const {
  if (!pki_) return {};
  return {pki_->ca, pki_->client_cert, pki_->client_key};
}

HttpResult EtcdProcess::post(std::string_view path, const std::string& body, const std::string& token,
                             std::size_t member) const {
  return http_exchange(
      {.url = endpoint(member) + std::string(path), .body = body, .token = token, .tls = client_tls()});
}

std::string EtcdProcess::post_ok(std::string_view step, std::string_view path, const std::string& body,
                                 const std::string& token) const {
  const HttpResult result = post(path, body, token);
  if (result.status != 200) {
    throw EtcdProcessError(std::string(step) + " (POST " + std::string(path) + ") failed: HTTP " +
                           std::to_string(result.status) + " " + result.body);
  }
  return result.body;
}

std::string EtcdProcess::authenticate(const std::string& user, const std::string& password, std::size_t member) const {
  const std::string body = nlohmann::json{{"name", user}, {"password", password}}.dump();
  const HttpResult result = post("/v3/auth/authenticate", body, {}, member);
  if (result.status != 200) {
    throw EtcdProcessError("authenticate as '" + user + "' failed: HTTP " + std::to_string(result.status) + " " +
                           result.body);
  }
  const nlohmann::json answer = nlohmann::json::parse(result.body, nullptr, false);
  if (!answer.is_object() || !answer.contains("token") || !answer["token"].is_string()) {
    throw EtcdProcessError("authenticate as '" + user + "': no token in " + result.body);
  }
  return answer["token"].get<std::string>();
}

void EtcdProcess::enable_auth(const std::string& root_password) {
  if (root_password.empty()) throw EtcdProcessError("enable_auth needs a non-empty root password");
  if (auth_enabled()) throw EtcdProcessError("auth is already enabled");
  post_ok("add user root", "/v3/auth/user/add", nlohmann::json{{"name", "root"}, {"password", root_password}}.dump(),
          {});
  post_ok("grant root the root role", "/v3/auth/user/grant", R"({"user":"root","role":"root"})", {});
  post_ok("enable auth", "/v3/auth/enable", "{}", {});
  root_password_ = root_password;
}

void EtcdProcess::add_user(const std::string& name, const std::string& password, Permission permission,
                           const std::string& key_prefix) {
  if (key_prefix.empty()) throw EtcdProcessError("add_user needs a non-empty key prefix");
  const std::string token = auth_enabled() ? authenticate("root", root_password_) : std::string();
  const std::string role = name + "-role";
  const char* type = permission == Permission::read ? "READ" : permission == Permission::write ? "WRITE" : "READWRITE";
  post_ok("add role " + role, "/v3/auth/role/add", nlohmann::json{{"name", role}}.dump(), token);
  const nlohmann::json grant = {
      {"name", role},
      {"perm", {{"permType", type}, {"key", base64(key_prefix)}, {"range_end", base64(prefix_end(key_prefix))}}}};
  post_ok("grant " + std::string(type) + " to " + role, "/v3/auth/role/grant", grant.dump(), token);
  post_ok("add user " + name, "/v3/auth/user/add", nlohmann::json{{"name", name}, {"password", password}}.dump(),
          token);
  post_ok("grant " + role + " to " + name, "/v3/auth/user/grant", nlohmann::json{{"user", name}, {"role", role}}.dump(),
          token);
}

HttpResult http_request(const HttpRequest& request) {
  return http_exchange(request);
}

HttpResult http_post(const std::string& url, const std::string& body, const std::string& token,
                     std::chrono::milliseconds timeout) {
  return http_exchange({.url = url, .body = body, .token = token, .timeout = timeout});
}

HttpResult http_get(const std::string& url, std::chrono::milliseconds timeout) {
  return http_exchange({.url = url, .timeout = timeout});
}

}  // namespace dcs::testing
