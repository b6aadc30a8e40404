#include "common/stderr_log.hpp"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace dcs_examples {
namespace {

std::atomic<dcs::LogLevel> g_min_level{dcs::LogLevel::info};
std::mutex g_mutex;  // one line at a time, whole

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[40];
  const auto size = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  std::snprintf(text + size, sizeof text - size, ",%03d", static_cast<int>(millis));
  return text;
}

}  // namespace

void set_min_log_level(dcs::LogLevel level) {
  g_min_level = level;
}

void log_line(dcs::LogLevel level, std::string_view component, std::string_view message) {
  if (level < g_min_level.load()) return;
  std::string level_name(dcs::to_string(level));
  for (auto& c : level_name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string line =
      timestamp() + " " + level_name + " " + std::string(component) + ": " + std::string(message) + "\n";
  std::lock_guard lock(g_mutex);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

dcs::LogSink stderr_sink() {
  return &log_line;
}

}  // namespace dcs_examples
