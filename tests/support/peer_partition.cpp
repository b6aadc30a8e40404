#include "support/peer_partition.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/etcd_process.hpp"

namespace dcs::testing {

namespace {

// A request head longer than this is not etcd's: the connection is decided on what arrived.
constexpr std::size_t kMaxHead = 16 * 1024;
// Bytes held per direction before the proxy stops reading from the faster side.
constexpr std::size_t kBufferLimit = 256 * 1024;
constexpr std::size_t kNoMember = std::numeric_limits<std::size_t>::max();

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

std::string partition_errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

void set_nodelay(int fd) {
  // Raft heartbeats are small writes; Nagle plus delayed ACKs would hold them back for tens of
  // milliseconds at each proxy hop and distort election timing.
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

UniqueFd listen_on_free_port(int& port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw EtcdProcessError(partition_errno_text("socket"));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0 || ::listen(fd.get(), 128) != 0) {
    throw EtcdProcessError(partition_errno_text("proxy listen on 127.0.0.1:0"));
  }
  port = ntohs(address.sin_port);
  return fd;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The caller's raft id from the X-Server-From header of an HTTP request head.
std::optional<std::uint64_t> server_from(std::string_view head) {
  std::size_t line_start = head.find("\r\n");  // skip the request line
  while (line_start != std::string_view::npos) {
    line_start += 2;
    const std::size_t line_end = head.find("\r\n", line_start);
    const std::string_view line =
        head.substr(line_start, line_end == std::string_view::npos ? std::string_view::npos : line_end - line_start);
    if (line.empty()) break;  // end of the head
    if (const std::size_t colon = line.find(':');
        colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), "X-Server-From")) {
      const std::string_view value = trim(line.substr(colon + 1));
      std::uint64_t id = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), id, 16);
      if (error == std::errc() && end == value.data() + value.size() && id != 0) return id;
      return std::nullopt;
    }
    line_start = line_end;
  }
  return std::nullopt;
}

// Bytes read from one side and not yet written to the other.
struct Direction {
  std::string buffer;
  bool source_done = false;  // the source sent FIN
  bool sink_shut = false;    // the FIN was passed on
};

struct Connection {
  std::size_t callee = kNoMember;  // whose proxy accepted it
  std::uint64_t caller_id = 0;     // from X-Server-From, 0 when absent; resolved to a member
                                   // at every decision, since ids may be registered later
  UniqueFd client;                 // the dialing member
  UniqueFd upstream;               // the callee's real peer port
  bool decided = false;            // the head was read and the connection allowed
  bool connected = false;          // the upstream connect finished
  bool dead = false;
  Direction up;    // client -> upstream
  Direction down;  // upstream -> client
};

}  // namespace

struct PeerPartition::Impl {
  explicit Impl(std::size_t members) : target_ports(members, 0), member_ids(members, 0), isolated(members, false) {
    wake_fd.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake_fd) throw EtcdProcessError(partition_errno_text("eventfd"));
    ports.resize(members);
    for (std::size_t i = 0; i < members; ++i) listeners.push_back(listen_on_free_port(ports[i]));
    thread = std::thread([this] { run(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
      wake();
    }
    thread.join();
  }

  void wake() const noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_fd.get(), &one, sizeof(one));
  }

  void check(std::size_t member) const {
    if (member >= ports.size()) {
      throw EtcdProcessError("no proxy for member " + std::to_string(member) + " (partition of " +
                             std::to_string(ports.size()) + ")");
    }
  }

  // Makes the relay thread apply the current policy to established connections and waits until
  // it has: callers rely on "nothing passes once isolate() returned".
  void apply_and_wait(std::unique_lock<std::mutex>& lock) {
    const std::uint64_t generation = ++requested_generation;
    wake();
    applied.wait(lock, [&] { return applied_generation >= generation || loop_ended; });
  }

  // Under `mutex`.
  bool allowed_locked(const Connection& c) const {
    if (isolated[c.callee]) return false;
    const std::size_t caller = c.caller_id == 0 ? kNoMember : member_with_id(c.caller_id);
    return caller == kNoMember || !isolated[caller];
  }

  std::size_t member_with_id(std::uint64_t id) const {
    for (std::size_t i = 0; i < member_ids.size(); ++i) {
      if (member_ids[i] == id) return i;
    }
    return kNoMember;
  }

  void run() noexcept {
    try {
      loop();
    } catch (...) {
      // Out of memory or the like: fall through, so that waiters are released.
    }
    connections.clear();
    std::lock_guard lock(mutex);
    loop_ended = true;
    applied.notify_all();
  }

  void loop() {
    std::vector<pollfd> fds;
    std::vector<Connection*> owners;  // per entry in `fds`, null for the wake fd and listeners
    while (true) {
      fds.clear();
      owners.clear();
      fds.push_back({wake_fd.get(), POLLIN, 0});
      owners.push_back(nullptr);
      for (const UniqueFd& listener : listeners) {
        fds.push_back({listener.get(), POLLIN, 0});
        owners.push_back(nullptr);
      }
      for (Connection& c : connections) {
        short client_events = 0;
        if (!c.up.source_done && c.up.buffer.size() < kBufferLimit) client_events |= POLLIN;
        if (!c.down.buffer.empty()) client_events |= POLLOUT;
        fds.push_back({c.client.get(), client_events, 0});
        owners.push_back(&c);
        if (c.upstream) {
          short upstream_events = 0;
          if (!c.connected) {
            upstream_events = POLLOUT;
          } else {
            if (!c.down.source_done && c.down.buffer.size() < kBufferLimit) upstream_events |= POLLIN;
            if (!c.up.buffer.empty()) upstream_events |= POLLOUT;
          }
          fds.push_back({c.upstream.get(), upstream_events, 0});
          owners.push_back(&c);
        }
      }

      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        throw EtcdProcessError(partition_errno_text("poll"));
      }

      if (fds[0].revents != 0 && !on_wake()) return;
      for (std::size_t i = 0; i < listeners.size(); ++i) {
        if (fds[1 + i].revents != 0) accept_all(i);
      }
      for (std::size_t k = 1 + listeners.size(); k < fds.size(); ++k) {
        Connection& c = *owners[k];
        if (c.dead || fds[k].revents == 0) continue;
        if (fds[k].fd == c.client.get()) {
          on_client(c, fds[k].events, fds[k].revents);
        } else {
          on_upstream(c, fds[k].events, fds[k].revents);
        }
        if (!c.dead) pass_on_eof(c);
      }
      connections.remove_if([](const Connection& c) { return c.dead; });
      count_relayed();
    }
  }

  void count_relayed() {
    std::size_t relayed = 0;
    for (const Connection& c : connections) relayed += c.connected && !c.dead ? 1 : 0;
    relayed_count.store(relayed, std::memory_order_relaxed);
  }

  // False when the proxy is stopping.
  bool on_wake() {
    std::uint64_t ignored = 0;
    [[maybe_unused]] const auto read = ::read(wake_fd.get(), &ignored, sizeof(ignored));
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(mutex);
      if (stopping) return false;
      generation = requested_generation;
      for (Connection& c : connections) {
        if (c.decided && !c.dead && !allowed_locked(c)) {
          kill(c);
          refused_count.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    // Closed already; removed from the list at the end of the round (the poll set points at them).
    count_relayed();
    std::lock_guard lock(mutex);
    applied_generation = std::max(applied_generation, generation);
    applied.notify_all();
    return true;
  }

  void accept_all(std::size_t member) {
    while (true) {
      const int fd = ::accept4(listeners[member].get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a connection that vanished before it was accepted
      set_nodelay(fd);
      Connection& c = connections.emplace_back();
      c.callee = member;
      c.client.reset(fd);
    }
  }

  static void kill(Connection& c) noexcept {
    c.client.reset();
    c.upstream.reset();
    c.dead = true;
  }

  // One read into `direction`: EOF marks the source done, an error kills the connection.
  static void read_into(Connection& c, int fd, Direction& direction) {
    char chunk[64 * 1024];
    const std::size_t room = std::min(sizeof(chunk), kBufferLimit - direction.buffer.size());
    const ssize_t n = ::recv(fd, chunk, room, 0);
    if (n > 0) {
      direction.buffer.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      direction.source_done = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      kill(c);
    }
  }

  static void write_from(Connection& c, int fd, Direction& direction) {
    const ssize_t n = ::send(fd, direction.buffer.data(), direction.buffer.size(), MSG_NOSIGNAL);
    if (n > 0) {
      direction.buffer.erase(0, static_cast<std::size_t>(n));
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      kill(c);
    }
  }

  void on_client(Connection& c, short events, short revents) {
    // POLLERR: reset. POLLHUP while not reading: both directions are gone, nothing to relay.
    if ((revents & POLLERR) != 0 || ((revents & POLLHUP) != 0 && (events & POLLIN) == 0)) return kill(c);
    if ((revents & (POLLIN | POLLHUP)) != 0) {
      read_into(c, c.client.get(), c.up);
      if (c.dead) return;
      if (!c.decided) decide(c);
      if (c.dead) return;
    }
    if ((revents & POLLOUT) != 0) write_from(c, c.client.get(), c.down);
  }

  void on_upstream(Connection& c, short events, short revents) {
    if (!c.connected) {
      int error = 0;
      socklen_t length = sizeof(error);
      if (::getsockopt(c.upstream.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) return kill(c);
      c.connected = true;
      return;  // the next round polls for data
    }
    if ((revents & POLLERR) != 0 || ((revents & POLLHUP) != 0 && (events & POLLIN) == 0)) return kill(c);
    if ((revents & (POLLIN | POLLHUP)) != 0) {
      read_into(c, c.upstream.get(), c.down);
      if (c.dead) return;
    }
    if ((revents & POLLOUT) != 0) write_from(c, c.upstream.get(), c.up);
  }

  // Once the first request head is complete: who is calling, may it, and where to forward.
  void decide(Connection& c) {
    const std::size_t head_end = c.up.buffer.find("\r\n\r\n");
    if (head_end == std::string::npos && c.up.buffer.size() < kMaxHead) {
      if (c.up.source_done) kill(c);  // hung up before finishing a request: nothing to forward
      return;
    }
    const std::string_view head(c.up.buffer);
    const auto id = server_from(head_end == std::string::npos ? head : head.substr(0, head_end + 2));
    int target = 0;
    {
      std::lock_guard lock(mutex);
      c.caller_id = id.value_or(0);
      if (!allowed_locked(c)) {
        refused_count.fetch_add(1, std::memory_order_relaxed);
        return kill(c);
      }
      target = target_ports[c.callee];
    }
    if (target <= 0) return kill(c);
    c.upstream.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!c.upstream) return kill(c);
    set_nodelay(c.upstream.get());
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(target));
    if (::connect(c.upstream.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      c.connected = true;
    } else if (errno != EINPROGRESS) {
      return kill(c);  // the member is down: the dialer sees its connection closed
    }
    c.decided = true;
  }

  // A side that sent FIN gets its FIN passed on once its bytes are; both passed on = done.
  static void pass_on_eof(Connection& c) {
    if (c.connected && c.up.source_done && c.up.buffer.empty() && !c.up.sink_shut) {
      ::shutdown(c.upstream.get(), SHUT_WR);
      c.up.sink_shut = true;
    }
    if (c.down.source_done && c.down.buffer.empty() && !c.down.sink_shut) {
      ::shutdown(c.client.get(), SHUT_WR);
      c.down.sink_shut = true;
    }
    if (c.up.sink_shut && c.down.sink_shut) kill(c);
  }

  // Set up by the constructor, then read-only.
  std::vector<int> ports;
  std::vector<UniqueFd> listeners;
  UniqueFd wake_fd;

  // Policy, shared with the callers.
  mutable std::mutex mutex;
  std::condition_variable applied;
  std::vector<int> target_ports;
  std::vector<std::uint64_t> member_ids;
  std::vector<bool> isolated;
  std::uint64_t requested_generation = 0;
  std::uint64_t applied_generation = 0;
  bool stopping = false;
  bool loop_ended = false;

  std::atomic<std::size_t> relayed_count{0};
  std::atomic<std::size_t> refused_count{0};

  // Owned by the relay thread.
  std::list<Connection> connections;
  std::thread thread;  // last: starts once everything above exists
};

PeerPartition::PeerPartition(std::size_t members) : impl_(std::make_unique<Impl>(members)) {}

PeerPartition::~PeerPartition() = default;

std::size_t PeerPartition::size() const noexcept {
  return impl_->ports.size();
}

int PeerPartition::proxy_port(std::size_t member) const {
  impl_->check(member);
  return impl_->ports[member];
}

std::string PeerPartition::proxy_url(std::size_t member) const {
  return "http://127.0.0.1:" + std::to_string(proxy_port(member));
}

void PeerPartition::set_target_port(std::size_t member, int port) {
  impl_->check(member);
  std::lock_guard lock(impl_->mutex);
  impl_->target_ports[member] = port;
}

void PeerPartition::set_member_id(std::size_t member, std::uint64_t id) {
  impl_->check(member);
  std::lock_guard lock(impl_->mutex);
  impl_->member_ids[member] = id;
}

void PeerPartition::isolate(std::size_t member) {
  impl_->check(member);
  std::unique_lock lock(impl_->mutex);
  impl_->isolated[member] = true;
  impl_->apply_and_wait(lock);
}

void PeerPartition::heal() {
  std::unique_lock lock(impl_->mutex);
  std::fill(impl_->isolated.begin(), impl_->isolated.end(), false);
  impl_->apply_and_wait(lock);
}

bool PeerPartition::isolated(std::size_t member) const {
  impl_->check(member);
  std::lock_guard lock(impl_->mutex);
  return impl_->isolated[member];
}

std::size_t PeerPartition::relayed_connections() const {
  return impl_->relayed_count.load(std::memory_order_relaxed);
}

std::size_t PeerPartition::refused_connections() const {
  return impl_->refused_count.load(std::memory_order_relaxed);
}

}  // namespace dcs::testing
