// The conformance suite's backend for MemoryDCS: one store on a ManualClock for the whole binary
// (each test has its own scope), so lease expiry costs no real time.
#include <memory>

#include "conformance/backend.hpp"
#include "dcs/clock.hpp"
#include "dcs/memory_dcs.hpp"

namespace dcs::conformance {

namespace {

class MemoryBackend final : public Backend {
 public:
  std::string label() const override { return "memory"; }

  std::unique_ptr<AbstractDCS> member(const DCSSettings& settings) override {
    return std::make_unique<MemoryDCS>(settings, store_);
  }

  void let_time_pass(std::chrono::milliseconds d) override { clock_->advance(d); }

  std::chrono::seconds short_ttl() const override { return std::chrono::seconds{2}; }

  void set_reachable(bool reachable) override { store_->set_available(reachable); }

  void put_raw(const std::string& key, const std::string& value) override { store_->put(key, value); }

 private:
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>(clock_);
};

}  // namespace

Backend& backend() {
  static MemoryBackend instance;
  return instance;
}

}  // namespace dcs::conformance
