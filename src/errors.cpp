#include "dcs/errors.hpp"

namespace dcs {

Error::Error(const std::string& message) : std::runtime_error(message) {}

DCSError::DCSError(const std::string& message) : Error(message) {}

ConfigError::ConfigError(const std::string& key, const std::string& problem)
    : Error("invalid configuration: " + key + ": " + problem), key_(key) {}

}  // namespace dcs
