// The C++ end of tests/interop/patroni_peer.py: runs it with the system Python, where Debian's
// Patroni 3.0.2 lives, and hands back its JSON answer. Any failure throws with the peer's stderr
// (Patroni's log and traceback), so a test never passes or skips without real Patroni.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace dcs::interop {

/// $DCS_PYTHON, else /usr/bin/python3 (a python3 earlier on PATH, e.g. pyenv's, has no Patroni).
std::string python_binary();

/// Runs `patroni_peer.py <command>` with `request` on stdin; returns its answer. Throws
/// std::runtime_error naming the command, exit status and stderr when it fails or overruns 60 s.
nlohmann::json run_peer(const std::string& command, const nlohmann::json& request = nlohmann::json::object());

/// Checks that the peer runs and that it drives Patroni 3.0.2 exactly; throws otherwise.
void require_patroni_302();

}  // namespace dcs::interop
