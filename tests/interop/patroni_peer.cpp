#include "interop/patroni_peer.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "interop/peer_process.hpp"

namespace dcs::interop {

std::string python_binary() {
  const char* configured = std::getenv("DCS_PYTHON");
  return configured != nullptr && *configured != '\0' ? configured : "/usr/bin/python3";
}

nlohmann::json run_peer(const std::string& command, const nlohmann::json& request) {
  const std::string python = python_binary();
  if (::access(python.c_str(), X_OK) != 0)
    throw std::runtime_error(python + " is missing: install python3 and patroni (scripts/setup.sh)");
  // -B: no __pycache__ next to the script in the source tree.
  const auto result =
      run_process({python, "-B", DCS_INTEROP_PEER_SCRIPT, command}, request.dump(), std::chrono::seconds{60});
  if (!result.ok()) {
    throw std::runtime_error("patroni_peer.py " + command + " failed (exit " + std::to_string(result.exit_code) +
                             (result.timed_out ? ", timed out" : "") + "):\n" + result.err);
  }
  try {
    return nlohmann::json::parse(result.out);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("patroni_peer.py " + command + " answered no JSON (" + e.what() + "):\n" + result.out +
                             "\nstderr:\n" + result.err);
  }
}

void require_patroni_302() {
  const auto version = run_peer("version");
  if (version.value("patroni", "") != "3.0.2")
    throw std::runtime_error("the interop tests need Patroni 3.0.2, the peer runs " + version.dump());
}

}  // namespace dcs::interop
