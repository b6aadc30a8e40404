// dcs_bench's `cache` section: libdcs's watcher cache (cached get_cluster, watcher CPU per event,
// put -> watch() latency) at 3 / 100 / 1000 members. See cache_bench.cpp.
#pragma once

#include <string>

#include <dcs/observer.hpp>
#include <nlohmann/json.hpp>

namespace bench {

/// Runs the section against `endpoint` (iteration counts times `scale`); prints a table and
/// returns the figures.
nlohmann::json section_cache(const std::string& endpoint, double scale, const dcs::LogSink& log_sink);

}  // namespace bench
