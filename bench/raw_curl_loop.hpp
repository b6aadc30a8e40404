// The physical floor for one etcd JSON round trip: one libcurl easy handle kept alive, a
// pre-built body, the answer read into a reused buffer and not parsed (like the Patroni
// baseline's rawcurl.c).
#pragma once

#include <curl/curl.h>

#include <string>

class RawCurlLoop {
 public:
  RawCurlLoop();
  ~RawCurlLoop();
  RawCurlLoop(const RawCurlLoop&) = delete;
  RawCurlLoop& operator=(const RawCurlLoop&) = delete;

  /// POSTs `body` to `url`; returns the HTTP status (throws on a transport error).
  long post(const std::string& url, const std::string& body);
  /// GETs `url`; returns the HTTP status (throws on a transport error).
  long get(const std::string& url);
  long connects() const { return connects_; }
  const std::string& last_body() const { return response_; }

 private:
  long perform();

  CURL* handle_;
  curl_slist* headers_;
  std::string response_;
  long connects_ = 0;
};
