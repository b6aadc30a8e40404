// An in-process HTTP server (cpp-httplib) that plays etcd's JSON gateway for unit tests: it
// answers registered paths with canned bodies (copied from recorded etcd traffic), records every
// request it receives, and replays scripted chunked streams for /v3/watch with the chunk
// boundaries chosen by the test. It binds 127.0.0.1 on a free port and serves from a background
// thread until destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "dcs/etcd3/config.hpp"
#include "dcs/observer.hpp"

namespace httplib {
class Server;
}

namespace dcs::test {

/// One request as the server saw it.
struct RecordedRequest {
  std::string method;
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int remote_port = -1;

  /// The value of a header (name compared case-insensitively), nullopt when absent.
  std::optional<std::string> header(std::string_view name) const;
};

/// A complete (non-streamed) answer.
struct CannedResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

/// One step of a scripted chunked answer. Each `chunk` step is written as exactly one HTTP chunk.
struct StreamStep {
  enum class Kind { chunk, wait_for_gate, hold_open, cut };
  Kind kind = Kind::chunk;
  std::string data;
  int gate = 0;

  /// Writes `bytes` (non-empty) as one HTTP chunk.
  static StreamStep chunk(std::string bytes);
  /// Waits until the test calls MockEtcdServer::release_gate(gate) (or the client goes away).
  static StreamStep wait_for_gate(int gate);
  /// Keeps the stream open and silent until the client disconnects or the server stops.
  static StreamStep hold_open();
  /// Closes the connection without the terminating chunk (a broken stream).
  static StreamStep cut();
};

/// A scripted chunked answer. A script whose last step is neither hold_open nor cut ends the
/// response cleanly (terminating zero-length chunk).
struct StreamScript {
  int status = 200;
  std::vector<StreamStep> steps;
  std::string content_type = "application/json";
};

class MockEtcdServer {
 public:
  using Handler = std::function<CannedResponse(const RecordedRequest&)>;

  /// Starts serving. GET /version answers etcd 3.4.23 / cluster 3.4.0 until set_version().
  MockEtcdServer();
  /// Ends every open stream and stops the server thread.
  ~MockEtcdServer();
  MockEtcdServer(const MockEtcdServer&) = delete;
  MockEtcdServer& operator=(const MockEtcdServer&) = delete;

  int port() const noexcept { return port_; }
  /// "http://127.0.0.1:<port>"
  std::string url() const;

  /// Answers every request to `path` (exact match, any method) with the given response.
  void answer(const std::string& path, int status, std::string body, std::string content_type = "application/json");
  /// Answers requests to `path` with whatever `handler` returns (called on a server thread).
  void handle(const std::string& path, Handler handler);
  /// Answers requests to `path` with a chunked stream following `script`.
  void stream(const std::string& path, StreamScript script);
  /// What GET /version reports.
  void set_version(const std::string& server, const std::string& cluster);
  /// Lets a stream waiting on `gate` continue.
  void release_gate(int gate);

  std::vector<RecordedRequest> requests() const;
  std::vector<RecordedRequest> requests_to(const std::string& path) const;
  /// The last request to `path`; throws std::runtime_error when there is none.
  RecordedRequest last_request_to(const std::string& path) const;
  /// Distinct client ports seen: one per TCP connection the client opened.
  std::set<int> remote_ports() const;

  /// Streams currently being served.
  int open_streams() const noexcept { return open_streams_.load(); }
  /// Waits (at most `limit`) until no stream is being served any more; true when that happened.
  bool wait_until_streams_closed(std::chrono::milliseconds limit) const;

 private:
  struct Route {
    enum class Kind { canned, handler, stream } kind = Kind::canned;
    CannedResponse canned;
    Handler handler;
    StreamScript script;
  };

  void serve(const RecordedRequest& request, void* response);
  /// Waits until `ready()` holds, the server stops, the client disconnects (`client_alive`
  /// turns false) or `limit` passes. True when `ready()` held.
  bool wait(const std::function<bool()>& ready, const std::function<bool()>& client_alive,
            std::chrono::milliseconds limit);

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, Route> routes_;
  std::vector<RecordedRequest> requests_;
  std::set<int> released_gates_;
  bool stopping_ = false;
  std::atomic<int> open_streams_{0};
};

/// Client options pointing at `server` only (every other option at its default).
etcd3::Etcd3Options options_for(const MockEtcdServer& server);

struct LogLine {
  LogLevel level;
  std::string component;
  std::string message;
};

/// A thread-safe log sink that keeps every line.
class RecordingLog {
 public:
  /// A LogSink writing into this object (which must outlive every client using it).
  LogSink sink();
  std::vector<LogLine> lines() const;

 private:
  mutable std::mutex mutex_;
  std::vector<LogLine> lines_;
};

}  // namespace dcs::test
