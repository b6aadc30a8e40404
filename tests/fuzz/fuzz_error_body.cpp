// The etcd error-body mapper (src/etcd3/error_mapping.cpp): any bytes etcd or a proxy might send
// with an error status become exactly one Etcd3ClientError subclass, never another exception.
#include <cstdint>
#include <string_view>

#include "dcs/etcd3/errors.hpp"
#include "fuzz_support.hpp"

using namespace dcs::etcd3;

namespace {

void check_mapping(long status, std::string_view body) {
  std::exception_ptr error;
  dcs::fuzz::never_throws("make_client_error", [&] { error = make_client_error(status, body); });
  DCS_FUZZ_CHECK(error != nullptr);
  try {
    std::rethrow_exception(error);
  } catch (const Etcd3ClientError& e) {
    // Every accessor a retry loop or a log line uses must be callable on any mapped error.
    (void)e.code_text();
    (void)e.outcome_unknown();
    (void)e.retry_on_other_endpoint();
    DCS_FUZZ_CHECK(e.what() != nullptr);
    // The message is trimmed: no leading or trailing ASCII whitespace survives.
    const std::string& text = e.error();
    if (!text.empty()) {
      const auto space = [](char c) {
        return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
      };
      DCS_FUZZ_CHECK(!space(text.front()) && !space(text.back()));
    }
  } catch (...) {
    dcs::fuzz::fail("make_client_error built something that is not an Etcd3ClientError", __FILE__, __LINE__);
  }
  // The watch stream's path: the same body, thrown.
  dcs::fuzz::only_typed_errors("throw_client_error", [&] { throw_client_error(status, body); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  // The statuses the client maps: unary errors, a stream that failed after its 200 header, a
  // gateway's 5xx.
  for (long status : {400L, 200L, 503L}) check_mapping(status, body);
  return 0;
}
