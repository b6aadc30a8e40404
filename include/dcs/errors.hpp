// The root of every exception libdcs throws, and the backend-neutral errors a DCS caller handles.
#pragma once

#include <stdexcept>
#include <string>

#include "dcs/export.hpp"

namespace dcs {

/// Root of the library's exceptions (the counterpart of Patroni's PatroniException). Catching
/// `dcs::Error` catches everything libdcs throws on purpose.
class DCS_EXPORT Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
};

/// The distributed configuration store cannot be reached or did not answer properly. The HA loop
/// treats this as "DCS unavailable" (and may enter failsafe mode); it is distinct from a lost
/// compare-and-set, which DCS operations report by returning false.
class DCS_EXPORT DCSError : public Error {
 public:
  explicit DCSError(const std::string& message);
};

/// A configuration value is missing, has the wrong type or is out of range. Raised before any
/// network I/O; the message names the key and the problem.
class DCS_EXPORT ConfigError : public Error {
 public:
  ConfigError(const std::string& key, const std::string& problem);
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

}  // namespace dcs
