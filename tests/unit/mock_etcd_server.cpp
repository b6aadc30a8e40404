#include "unit/mock_etcd_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace dcs::test {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Upper bounds that turn a test bug (a gate nobody releases, a client that never hangs up) into
// a failing test instead of a hanging one.
constexpr std::chrono::milliseconds kGateLimit{10000};
constexpr std::chrono::milliseconds kHoldLimit{30000};

}  // namespace

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

StreamStep StreamStep::chunk(std::string bytes) {
  if (bytes.empty()) throw std::invalid_argument("an HTTP chunk cannot be empty");
  StreamStep step;
  step.kind = Kind::chunk;
  step.data = std::move(bytes);
  return step;
}

StreamStep StreamStep::wait_for_gate(int gate) {
  StreamStep step;
  step.kind = Kind::wait_for_gate;
  step.gate = gate;
  return step;
}

StreamStep StreamStep::hold_open() {
  StreamStep step;
  step.kind = Kind::hold_open;
  return step;
}

StreamStep StreamStep::cut() {
  StreamStep step;
  step.kind = Kind::cut;
  return step;
}

MockEtcdServer::MockEtcdServer() : server_(std::make_unique<httplib::Server>()) {
  set_version("3.4.23", "3.4.0");
  // One kept-alive connection must be able to carry any number of requests; the short idle
  // timeout only bounds how long stop() waits for a client that keeps an idle connection.
  server_->set_keep_alive_max_count(100000);
  server_->set_keep_alive_timeout(1);
  server_->set_tcp_nodelay(true);
  const auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
    RecordedRequest recorded;
    recorded.method = req.method;
    recorded.path = req.path;
    recorded.body = req.body;
    recorded.remote_port = req.remote_port;
    for (const auto& [key, value] : req.headers) recorded.headers.emplace_back(key, value);
    serve(recorded, &res);
  };
  server_->Get(".*", dispatch);
  server_->Post(".*", dispatch);
  server_->Put(".*", dispatch);

  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("mock etcd server: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only works once the accept loop runs.
  while (!server_->is_running()) std::this_thread::yield();
}

MockEtcdServer::~MockEtcdServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  server_->stop();
  thread_.join();
}

std::string MockEtcdServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void MockEtcdServer::answer(const std::string& path, int status, std::string body, std::string content_type) {
  Route route;
  route.kind = Route::Kind::canned;
  route.canned = CannedResponse{status, std::move(body), std::move(content_type)};
  std::lock_guard lock(mutex_);
  routes_[path] = std::move(route);
}

void MockEtcdServer::handle(const std::string& path, Handler handler) {
  Route route;
  route.kind = Route::Kind::handler;
  route.handler = std::move(handler);
  std::lock_guard lock(mutex_);
  routes_[path] = std::move(route);
}

void MockEtcdServer::stream(const std::string& path, StreamScript script) {
  Route route;
  route.kind = Route::Kind::stream;
  route.script = std::move(script);
  std::lock_guard lock(mutex_);
  routes_[path] = std::move(route);
}

void MockEtcdServer::set_version(const std::string& server, const std::string& cluster) {
  answer("/version", 200, R"({"etcdserver":")" + server + R"(","etcdcluster":")" + cluster + R"("})");
}

void MockEtcdServer::release_gate(int gate) {
  {
    std::lock_guard lock(mutex_);
    released_gates_.insert(gate);
  }
  changed_.notify_all();
}

std::vector<RecordedRequest> MockEtcdServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<RecordedRequest> MockEtcdServer::requests_to(const std::string& path) const {
  std::lock_guard lock(mutex_);
  std::vector<RecordedRequest> out;
  std::copy_if(requests_.begin(), requests_.end(), std::back_inserter(out),
               [&](const RecordedRequest& r) { return r.path == path; });
  return out;
}

RecordedRequest MockEtcdServer::last_request_to(const std::string& path) const {
  auto matching = requests_to(path);
  if (matching.empty()) throw std::runtime_error("mock etcd server: no request to " + path);
  return matching.back();
}

std::set<int> MockEtcdServer::remote_ports() const {
  std::lock_guard lock(mutex_);
  std::set<int> ports;
  for (const auto& r : requests_) ports.insert(r.remote_port);
  return ports;
}

bool MockEtcdServer::wait_until_streams_closed(std::chrono::milliseconds limit) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, limit, [this] { return open_streams_.load() == 0; });
}

bool MockEtcdServer::wait(const std::function<bool()>& ready, const std::function<bool()>& client_alive,
                          std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::unique_lock lock(mutex_);
  while (!ready()) {
    if (stopping_ || std::chrono::steady_clock::now() >= deadline) return false;
    // The client hanging up is only visible by polling the socket.
    lock.unlock();
    const bool alive = client_alive();
    lock.lock();
    if (!alive) return false;
    changed_.wait_for(lock, std::chrono::milliseconds(10));
  }
  return true;
}

void MockEtcdServer::serve(const RecordedRequest& request, void* response) {
  auto& res = *static_cast<httplib::Response*>(response);
  Route route;
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    const auto it = routes_.find(request.path);
    if (it == routes_.end()) {
      // What etcd's HTTP mux answers outside the gateway's paths.
      res.status = 404;
      res.set_content("404 page not found\n", "text/plain; charset=utf-8");
      return;
    }
    route = it->second;
  }

  if (route.kind == Route::Kind::canned || route.kind == Route::Kind::handler) {
    const CannedResponse answer = route.kind == Route::Kind::canned ? route.canned : route.handler(request);
    res.status = answer.status;
    res.set_content(answer.body, answer.content_type);
    return;
  }

  res.status = route.script.status;
  {
    std::lock_guard lock(mutex_);
    ++open_streams_;
  }
  auto steps = std::make_shared<std::vector<StreamStep>>(std::move(route.script.steps));
  auto next = std::make_shared<std::size_t>(0);
  res.set_chunked_content_provider(
      route.script.content_type,
      [this, steps, next](std::size_t /*offset*/, httplib::DataSink& sink) {
        if (*next >= steps->size()) {
          sink.done();
          return true;
        }
        const StreamStep& step = (*steps)[(*next)++];
        const auto client_alive = [&sink] { return sink.is_writable(); };
        switch (step.kind) {
          case StreamStep::Kind::chunk:
            return sink.write(step.data.data(), step.data.size());
          case StreamStep::Kind::wait_for_gate:
            // Unreleased gate: give up on the stream (the test will see it broken).
            return wait([&] { return released_gates_.count(step.gate) > 0; }, client_alive, kGateLimit);
          case StreamStep::Kind::hold_open:
            wait([] { return false; }, client_alive, kHoldLimit);
            return false;
          case StreamStep::Kind::cut:
            return false;
        }
        return false;
      },
      [this](bool /*success*/) {
        {
          std::lock_guard lock(mutex_);
          --open_streams_;
        }
        changed_.notify_all();
      });
}

etcd3::Etcd3Options options_for(const MockEtcdServer& server) {
  etcd3::Etcd3Options options;
  options.endpoints = {server.url()};
  // The mock is one fixed endpoint: no topology discovery (its recorded member list names other
  // ports). Discovery has tests of its own.
  options.use_proxies = true;
  // Failures are retried until the budget is spent; a short one keeps failure tests quick.
  options.retry_timeout = std::chrono::seconds(2);
  return options;
}

LogSink RecordingLog::sink() {
  return [this](LogLevel level, std::string_view component, std::string_view message) {
    std::lock_guard lock(mutex_);
    lines_.push_back(LogLine{level, std::string(component), std::string(message)});
  };
}

std::vector<LogLine> RecordingLog::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

}  // namespace dcs::test
