// Internal: the library's way of writing to the user's log sink.
#pragma once

#include <string>
#include <utility>

#include "dcs/observer.hpp"

namespace dcs::detail {

class Logger {
 public:
  Logger(LogSink sink, std::string component) : sink_(std::move(sink)), component_(std::move(component)) {}

  void operator()(LogLevel level, const std::string& message) const noexcept {
    if (!sink_) return;
    try {
      sink_(level, component_, message);
    } catch (...) {
      // A failing log sink must never break a DCS operation.
    }
  }

 private:
  LogSink sink_;
  std::string component_;
};

}  // namespace dcs::detail
