// The configuration parser (src/etcd3/config.cpp): any JSON document as a whole Patroni
// configuration and as the etcd3 section alone. Invariants: only ConfigError escapes, and options
// the parser accepted also pass validate() (the file checks aside: the target clears the TLS
// paths so that it never reads files named by the input).
#include <cstdint>
#include <string_view>

#include "dcs/etcd3/config.hpp"
#include "fuzz_support.hpp"

using namespace dcs::etcd3;

namespace {

void check_parsed(const Etcd3Options& parsed) {
  Etcd3Options options = parsed;
  options.cacert.clear();
  options.cert.clear();
  options.key.clear();
  DCS_FUZZ_CHECK(!options.endpoints.empty() || !options.srv.empty());
  try {
    validate(options);
  } catch (const dcs::ConfigError& e) {
    std::fprintf(stderr, "parsed options fail validate: %s\n", e.what());
    std::abort();
  }
}

template <typename Parse>
void check(const char* what, Parse&& parse) {
  Etcd3Options options;
  if (dcs::fuzz::only_typed_errors(what, [&] { options = parse(); })) check_parsed(options);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded()) return 0;
  check("parse_patroni_config", [&] { return parse_patroni_config(config); });
  check("parse_etcd3_options", [&] { return parse_etcd3_options(config); });
  if (config.is_object() && config.contains("etcd3")) {
    check("parse_etcd3_options(etcd3)", [&] { return parse_etcd3_options(config["etcd3"]); });
  }
  return 0;
}
