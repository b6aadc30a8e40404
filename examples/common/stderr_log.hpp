// Log lines of the example programs (and of the library, through its LogSink) on stderr, one
// line each, with a timestamp. Safe from any thread: the library logs from its own threads.
#pragma once

#include <string_view>

#include "dcs/observer.hpp"

namespace dcs_examples {

/// Writes "2024-05-01 10:00:00,123 LEVEL component: message" to stderr for levels >= min_level.
void log_line(dcs::LogLevel level, std::string_view component, std::string_view message);
/// Lines below this level are dropped (default info).
void set_min_log_level(dcs::LogLevel level);
/// A LogSink for Etcd3Options::log_sink that writes through log_line.
dcs::LogSink stderr_sink();

}  // namespace dcs_examples
