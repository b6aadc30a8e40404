// The example programs' YAML configuration reader (examples/common/dcs_config.cpp): YAML text to
// JSON with PyYAML's typing, then the library's parser and validate(). Only yaml-cpp's parse
// errors, the examples' UsageError and dcs::ConfigError may escape.
#include <cstdint>
#include <string>

#include "common/dcs_config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json config;
  try {
    config = dcs_examples::yaml_to_json(YAML::Load(text));
  } catch (const YAML::Exception&) {
    return 0;
  } catch (const dcs_examples::UsageError&) {
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "yaml_to_json: %s escaped: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
  // The document must be printable (show-config) and its text JSON-serialisable.
  dcs::fuzz::never_throws("json_to_yaml", [&] { (void)dcs_examples::json_to_yaml(config); });
  dcs::fuzz::never_throws("dump", [&] { (void)config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); });
  if (!config.is_object()) return 0;
  // TLS paths would make validate() read files named by the input.
  if (auto it = config.find("etcd3"); it != config.end() && it->is_object()) {
    for (const char* key : {"cacert", "cert", "key"}) it->erase(key);
  }
  dcs::fuzz::only_typed_errors("etcd3_options", [&] { (void)dcs_examples::etcd3_options(config); });
  return 0;
}
