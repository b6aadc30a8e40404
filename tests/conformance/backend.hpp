// The one thing a backend provides to the AbstractDCS conformance suite. The suite (the
// *_test.cpp files listed in DCS_CONFORMANCE_SUITE_SOURCES) is compiled into one binary per
// backend together with a file that defines backend(): memory_backend.cpp for MemoryDCS, an
// etcd one for Etcd3. Every test states what a user of AbstractDCS relies on, whatever the store.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "dcs/abstract_dcs.hpp"

namespace dcs::conformance {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string label() const = 0;
  /// A new member with these settings (the suite fills scope/name/ttl...; backend adds its own
  /// connection details). Each test uses a fresh unique scope.
  virtual std::unique_ptr<AbstractDCS> member(const DCSSettings& settings) = 0;
  /// Lets time pass so leases can expire (memory: advance the ManualClock; etcd: sleep).
  virtual void let_time_pass(std::chrono::milliseconds d) = 0;
  /// The shortest ttl the backend can use in tests (memory: 2s virtual; etcd: its lease minimum).
  virtual std::chrono::seconds short_ttl() const = 0;
  /// Makes the store unreachable / reachable again.
  virtual void set_reachable(bool reachable) = 0;
  /// Writes key=value directly into the store (absolute key, no lease): for garbage-input tests.
  virtual void put_raw(const std::string& key, const std::string& value) = 0;
};

/// The backend of this test binary (each binary defines it).
Backend& backend();

}  // namespace dcs::conformance
