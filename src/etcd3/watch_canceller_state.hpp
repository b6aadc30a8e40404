#pragma once

#include "dcs/etcd3/watch.hpp"
#include "http/stream_transfer.hpp"

namespace dcs::etcd3 {

/// The public canceller's state is the transport's cancel signal.
struct WatchCanceller::State : http::CancelSignal {};

}  // namespace dcs::etcd3
