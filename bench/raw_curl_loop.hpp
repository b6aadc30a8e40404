// The physical floor for one etcd JSON round trip: one libcurl easy handle kept alive, a
// pre-built body, the answer read into a reused buffer and not parsed (like the Patroni
// baseline's rawcurl.c).
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>
#include <vector>

class RawCurlLoop {
 public:
  /// A request header list: the loop's own two headers plus `extra` ("Name: value" each).
  using Headers = std::shared_ptr<curl_slist>;
  static Headers make_headers(const std::vector<std::string>& extra);

  RawCurlLoop();
  ~RawCurlLoop();
  RawCurlLoop(const RawCurlLoop&) = delete;
  RawCurlLoop& operator=(const RawCurlLoop&) = delete;

  /// POSTs `body` to `url`; returns the HTTP status (throws on a transport error). `headers`
  /// (from make_headers) replaces the loop's own list for this request.
  long post(const std::string& url, const std::string& body, const curl_slist* headers = nullptr);
  /// GETs `url`; returns the HTTP status (throws on a transport error).
  long get(const std::string& url);
  long connects() const { return connects_; }
  const std::string& last_body() const { return response_; }

 private:
  long perform();

  CURL* handle_;
  Headers own_headers_;
  std::string response_;
  long connects_ = 0;
};
