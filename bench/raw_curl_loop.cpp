#include "raw_curl_loop.hpp"

#include <stdexcept>

namespace {
size_t collect(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}
}  // namespace

RawCurlLoop::Headers RawCurlLoop::make_headers(const std::vector<std::string>& extra) {
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  list = curl_slist_append(list, "Expect:");
  for (const auto& header : extra) list = curl_slist_append(list, header.c_str());
  return Headers(list, curl_slist_free_all);
}

RawCurlLoop::RawCurlLoop() : handle_(curl_easy_init()), own_headers_(make_headers({})) {
  curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &response_);
  curl_easy_setopt(handle_, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, 10000L);
}

RawCurlLoop::~RawCurlLoop() {
  curl_easy_cleanup(handle_);
}

long RawCurlLoop::post(const std::string& url, const std::string& body, const curl_slist* headers) {
  response_.clear();
  curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, headers != nullptr ? headers : own_headers_.get());
  curl_easy_setopt(handle_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle_, CURLOPT_POST, 1L);  // after a get()
  curl_easy_setopt(handle_, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(handle_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  return perform();
}

long RawCurlLoop::get(const std::string& url) {
  response_.clear();
  // Not a caller's list from an earlier post: it may be gone by now.
  curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, own_headers_.get());
  curl_easy_setopt(handle_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle_, CURLOPT_HTTPGET, 1L);
  return perform();
}

long RawCurlLoop::perform() {
  const CURLcode rc = curl_easy_perform(handle_);
  if (rc != CURLE_OK) throw std::runtime_error(curl_easy_strerror(rc));
  long status = 0;
  long new_connects = 0;
  curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(handle_, CURLINFO_NUM_CONNECTS, &new_connects);
  connects_ += new_connects;
  return status;
}
