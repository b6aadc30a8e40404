// Callbacks through which libdcs reports what it does. The library never writes to stdout or
// stderr itself: an embedding daemon routes these messages into its own logging.
#pragma once

#include <functional>
#include <string_view>

#include "dcs/export.hpp"

namespace dcs {

enum class LogLevel { debug, info, warning, error };

/// Returns "debug", "info", "warning" or "error".
DCS_EXPORT std::string_view to_string(LogLevel level) noexcept;

/// Receives one log line. `component` names the part of the library ("etcd3.client",
/// "etcd3.watch", ...). The sink may be called from any libdcs thread, concurrently, so it must
/// be thread-safe. It must not throw; an exception thrown by it is swallowed.
using LogSink = std::function<void(LogLevel level, std::string_view component, std::string_view message)>;

}  // namespace dcs
