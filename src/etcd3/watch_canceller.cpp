#include "etcd3/watch_canceller_state.hpp"

namespace dcs::etcd3 {

WatchCanceller::WatchCanceller() : state_(std::make_shared<State>()) {}
WatchCanceller::~WatchCanceller() = default;

void WatchCanceller::cancel() noexcept {
  state_->cancel();
}
bool WatchCanceller::cancelled() const noexcept {
  return state_->cancelled();
}
void WatchCanceller::reset() noexcept {
  state_->reset();
}

}  // namespace dcs::etcd3
