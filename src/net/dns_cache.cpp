#include "net/dns_cache.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>
#include <string_view>
#include <system_error>

namespace dcs::net {

namespace {

struct AddrInfoFree {
  void operator()(addrinfo* info) const noexcept { freeaddrinfo(info); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoFree>;

}  // namespace

std::string strip_brackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::optional<std::pair<std::string, int>> split_url_host_port(const std::string& url) {
  // Views into `url` until the end: every request passes through here.
  const std::string_view text = url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = text.substr(0, scheme_end);
  std::string_view authority = text.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return std::nullopt;
  std::string_view host = authority;
  std::string_view port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port_text = authority.substr(close + 2);
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  int port = scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    // All digits and a real port: "2379x", "+2379" or "70000" is no address to pin.
    const auto* end = port_text.data() + port_text.size();
    const auto [stop, error] = std::from_chars(port_text.data(), end, port);
    if (error != std::errc{} || stop != end || port < 1 || port > 65535) return std::nullopt;
  }
  return std::make_pair(std::string(host), port);
}

bool is_numeric_host(const std::string& host) {
  const std::string bare = strip_brackets(host);
  if (bare.empty()) return false;
  // The usual literals without getaddrinfo (asked on every request). What inet_pton reads,
  // getaddrinfo reads too; the rest (IPv4 shorthands such as 127.1, zone ids) is left to it.
  in6_addr address{};
  if (inet_pton(AF_INET, bare.c_str(), &address) == 1 || inet_pton(AF_INET6, bare.c_str(), &address) == 1) return true;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  // AI_NUMERICHOST never touches DNS, and accepts every literal form getaddrinfo would (zone ids
  // included), unlike inet_pton.
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(bare.c_str(), nullptr, &hints, &found);
  AddrInfoPtr owner(found);
  return rc == 0;
}

std::vector<std::string> system_lookup(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(strip_brackets(host).c_str(), service.c_str(), &hints, &found);
  AddrInfoPtr owner(found);
  if (rc != 0) throw DnsError(rc == EAI_SYSTEM ? std::system_category().message(errno) : gai_strerror(rc));
  std::vector<std::string> addresses;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    char text[NI_MAXHOST] = {0};
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) != 0) continue;
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) addresses.emplace_back(text);
  }
  return addresses;
}

std::string curl_resolve_entry(const std::string& host, int port, const std::vector<std::string>& addresses) {
  if (addresses.empty()) return {};
  std::string entry = host + ":" + std::to_string(port) + ":";
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (i > 0) entry += ',';
    const std::string& address = addresses[i];
    const bool v6 = address.find(':') != std::string::npos && address.front() != '[';
    entry += v6 ? "[" + address + "]" : address;
  }
  return entry;
}

DnsCachingResolver::DnsCachingResolver() : DnsCachingResolver(Options{}) {}

DnsCachingResolver::DnsCachingResolver(Options options)
    : options_(std::move(options)), log_(options_.log_sink, "net.dns"), thread_([this] { run(); }) {}

DnsCachingResolver::~DnsCachingResolver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

std::vector<std::string> DnsCachingResolver::cached(const std::string& host, int port) const {
  if (is_numeric_host(host)) return {strip_brackets(host)};
  std::lock_guard lock(mutex_);
  const auto it = cache_.find(Key{strip_brackets(host), port});
  return it == cache_.end() ? std::vector<std::string>{} : it->second.addresses;
}

std::vector<std::string> DnsCachingResolver::resolve(const std::string& host, int port) {
  if (is_numeric_host(host)) return {strip_brackets(host)};
  const Key key{strip_brackets(host), port};
  {
    std::lock_guard lock(mutex_);
    const auto it = cache_.find(key);
    if (it != cache_.end() && options_.now() < it->second.expires) return it->second.addresses;
  }
  // Two callers may both look the same name up; that costs a query, while holding the lock
  // across getaddrinfo would stall every other host.
  std::vector<std::string> addresses = lookup(key);
  std::lock_guard lock(mutex_);
  store(key, std::move(addresses), options_.now());
  return cache_[key].addresses;
}

void DnsCachingResolver::resolve_async(const std::string& host, int port) {
  if (is_numeric_host(host)) return;
  Key key{strip_brackets(host), port};
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    const auto it = std::find_if(queue_.begin(), queue_.end(), [&](const Job& job) { return job.key == key; });
    if (it != queue_.end()) {
      // Asked again: the caller wants an answer now, with the full number of attempts.
      it->attempt = 0;
      it->not_before = std::min(it->not_before, now);
    } else {
      queue_.push_back(Job{std::move(key), 0, now});
    }
  }
  changed_.notify_all();
}

void DnsCachingResolver::remove(const std::string& host, int port) {
  std::lock_guard lock(mutex_);
  cache_.erase(Key{strip_brackets(host), port});
}

std::string DnsCachingResolver::curl_resolve_entry(const std::string& host, int port) const {
  if (is_numeric_host(host)) return {};
  return net::curl_resolve_entry(host, port, cached(host, port));
}

bool DnsCachingResolver::wait_until_idle(std::chrono::milliseconds limit) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, limit, [this] { return stopping_ || (queue_.empty() && !busy_ && parked_); });
}

std::vector<std::string> DnsCachingResolver::lookup(const Key& key) const {
  try {
    try {
      return options_.lookup(key.first, key.second);
    } catch (const std::exception& e) {
      log_(LogLevel::warning, "failed to resolve host " + key.first + ": " + e.what());
    }
  } catch (...) {
    // A failure to log the failure (or a lookup throwing a non-exception) is still a failure.
  }
  return {};
}

void DnsCachingResolver::store(const Key& key, std::vector<std::string> addresses, Clock::time_point now) {
  if (!addresses.empty()) {
    Entry& entry = cache_[key];
    entry.addresses = std::move(addresses);
    entry.expires = now + options_.ttl;
    entry.refresh = entry.expires - options_.refresh_ahead;
    return;
  }
  // A failed lookup keeps whatever answer there was (an old address beats none) and is not
  // repeated for failure_ttl, so a dead DNS server costs one timeout per host per failure_ttl,
  // not one per request.
  Entry& entry = cache_[key];
  entry.expires = std::max(entry.expires, now + options_.failure_ttl);
  entry.refresh = now + options_.failure_ttl;
}

void DnsCachingResolver::run() noexcept {
  try {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      try {
        run_once(lock);
      } catch (...) {
        // Out of memory while storing an answer: drop that one and carry on.
        if (!lock.owns_lock()) lock.lock();
        busy_ = false;
      }
    }
  } catch (...) {
    // Only the first lock can throw here (a broken mutex); the thread then just ends.
  }
}

void DnsCachingResolver::run_once(std::unique_lock<std::mutex>& lock) {
  const auto real_now = Clock::now();
  const auto due =
      std::find_if(queue_.begin(), queue_.end(), [&](const Job& job) { return job.not_before <= real_now; });
  if (due != queue_.end()) {
    Job job = std::move(*due);
    queue_.erase(due);
    busy_ = true;
    lock.unlock();
    std::vector<std::string> addresses = lookup(job.key);
    lock.lock();
    busy_ = false;
    const bool found = !addresses.empty();
    store(job.key, std::move(addresses), options_.now());
    const bool queued_again =
        std::any_of(queue_.begin(), queue_.end(), [&](const Job& other) { return other.key == job.key; });
    if (!found && job.attempt < options_.max_retries && !queued_again) {
      queue_.push_back(Job{std::move(job.key), job.attempt + 1, Clock::now() + options_.retry_pause});
    }
    changed_.notify_all();
    return;
  }

  // Refresh an answer about to expire, so resolve() finds it fresh. Entries without addresses
  // are left to resolve() and resolve_async(): nobody may need them any more.
  const auto now = options_.now();
  const auto stale = std::find_if(cache_.begin(), cache_.end(), [&](const auto& item) {
    return !item.second.addresses.empty() && now >= item.second.refresh;
  });
  if (stale != cache_.end()) {
    const Key key = stale->first;
    busy_ = true;
    lock.unlock();
    std::vector<std::string> addresses = lookup(key);
    lock.lock();
    busy_ = false;
    // remove() during the lookup means the caller wants this name gone or looked up afresh.
    if (cache_.count(key) != 0) store(key, std::move(addresses), options_.now());
    changed_.notify_all();
    return;
  }

  auto wake = real_now + options_.check_interval;
  for (const Job& job : queue_) wake = std::min(wake, job.not_before);
  // Parked: every due job and every stale answer of this moment has been seen to.
  parked_ = true;
  changed_.notify_all();
  changed_.wait_until(lock, wake);
  parked_ = false;
}

}  // namespace dcs::net
