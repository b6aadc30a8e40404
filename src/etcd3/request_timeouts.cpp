#include <algorithm>

#include "dcs/etcd3/client.hpp"

namespace dcs::etcd3 {

// Spreads the budget so that every endpoint gets at least one second where possible; with few
// endpoints, the slice is split again so a failed connection can be re-attempted on the same
// endpoint. Mirrors Patroni's per-request timeout table.
RequestTimeouts request_timeouts(std::size_t nodes, std::chrono::milliseconds budget) {
  using std::chrono::milliseconds;
  const double seconds = static_cast<double>(budget.count()) / 1000.0;
  int max_retries = 4 - static_cast<int>(std::min<std::size_t>(nodes, 3));
  int retries = 1;
  while (nodes > 0) {
    double per_node = seconds / static_cast<double>(nodes);
    if (per_node >= 1.0) {
      while (retries < max_retries && per_node / (retries + 1) >= 1.0) ++retries;
      per_node /= retries;
      return {nodes, milliseconds(static_cast<long long>(per_node * 1000.0)), retries - 1};
    }
    --nodes;
    max_retries = 1;
  }
  return {0, milliseconds(0), 0};
}

}  // namespace dcs::etcd3
