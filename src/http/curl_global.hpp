#pragma once

namespace dcs::http {

/// Initialises libcurl once per process (thread-safe). libcurl is never cleaned up: other code
/// in the embedding process may use it too.
void ensure_curl_initialised();

}  // namespace dcs::http
