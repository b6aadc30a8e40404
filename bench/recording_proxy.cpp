#include "recording_proxy.hpp"

#include <httplib.h>

#include <cctype>
#include <chrono>
#include <stdexcept>

namespace {

// The request headers etcd's gateway acts on: gRPC metadata and deadlines ("Grpc-Timeout" makes
// it run the request under a deadline, which costs etcd time of its own). Not an auth token: the
// benchmarks run without auth, and a recorded token would be the throw-away instance's.
std::vector<std::string> etcd_headers(const httplib::Request& req) {
  std::vector<std::string> out;
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.starts_with("grpc-")) out.push_back(name + ": " + value);
  }
  return out;
}

}  // namespace

RecordingProxy::RecordingProxy(std::string upstream)
    : upstream_(std::move(upstream)), server_(std::make_unique<httplib::Server>()) {
  server_->set_keep_alive_max_count(100000);
  server_->set_keep_alive_timeout(1);
  server_->set_tcp_nodelay(true);
  server_->Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    res.status = static_cast<int>(upstream_handle_.get(upstream_ + req.path));
    res.set_content(upstream_handle_.last_body(), "application/json");
  });
  server_->Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.path.ends_with("/watch")) {
      // Held open and silent until the client hangs up or the proxy stops.
      res.set_chunked_content_provider("application/json", [this](std::size_t, httplib::DataSink& sink) {
        std::unique_lock lock(mutex_);
        stopping_cv_.wait_for(lock, std::chrono::milliseconds(100));
        return !stopping_ && sink.is_writable();
      });
      return;
    }
    std::lock_guard lock(mutex_);
    calls_.push_back({req.path, req.body, etcd_headers(req)});
    // Forwarded with those headers too: etcd then does with the request what it would have done
    // without the proxy (a leaderless member refuses it, a deadline bounds it).
    const auto headers = RawCurlLoop::make_headers(calls_.back().headers);
    res.status = static_cast<int>(upstream_handle_.post(upstream_ + req.path, req.body, headers.get()));
    res.set_content(upstream_handle_.last_body(), "application/json");
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("recording proxy: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::yield();
}

RecordingProxy::~RecordingProxy() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stopping_cv_.notify_all();
  server_->stop();
  thread_.join();
}

std::string RecordingProxy::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<RecordedCall> RecordingProxy::take() {
  std::lock_guard lock(mutex_);
  std::vector<RecordedCall> out;
  out.swap(calls_);
  return out;
}
