#include "http/curl_global.hpp"

#include <curl/curl.h>

#include <mutex>

namespace dcs::http {

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace dcs::http
