// A forwarding HTTP proxy on a free loopback port that records every request it passes on to
// etcd. dcs_bench points a throw-away Etcd3 at it to learn exactly which requests (paths and
// bodies, and the gRPC headers) each libdcs operation sends, so the raw side of a paired
// measurement sends the same bytes instead of a hand-written guess. Watch streams are held open
// silently (never forwarded): nothing measured depends on them and a forwarded stream would tie
// up the forwarding handle.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "raw_curl_loop.hpp"

namespace httplib {
class Server;
}

struct RecordedCall {
  std::string path;  ///< e.g. "/v3/kv/put"
  std::string body;
  /// The gRPC headers, which change what etcd does with the request ("Grpc-Metadata-hasleader",
  /// "Grpc-Timeout"), as "Name: value": the raw side sends them too.
  std::vector<std::string> headers;
};

class RecordingProxy {
 public:
  /// Starts forwarding to `upstream` ("http://127.0.0.1:2379").
  explicit RecordingProxy(std::string upstream);
  ~RecordingProxy();
  RecordingProxy(const RecordingProxy&) = delete;
  RecordingProxy& operator=(const RecordingProxy&) = delete;

  /// "http://127.0.0.1:<port>"
  std::string url() const;
  /// The POSTs recorded since the last take() (GET /version and watches are not recorded).
  std::vector<RecordedCall> take();

 private:
  std::string upstream_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  std::mutex mutex_;  // guards everything below; held while forwarding (one upstream handle)
  std::condition_variable stopping_cv_;
  bool stopping_ = false;
  RawCurlLoop upstream_handle_;
  std::vector<RecordedCall> calls_;
};
