// The smallest whole HA loop on libdcs: the one the README shows (keep the two in step). It does
// what examples/ha_daemon does each cycle, without the PostgreSQL stand-in: read the cluster, take
// the leader key when nobody holds it, keep it while we do, publish our member key, then sleep
// until the next cycle or until the leader key changes.
//
//   ha_loop_minimal [ENDPOINT [NAME [CYCLES [LOOP_WAIT]]]]   e.g. ha_loop_minimal http://127.0.0.1:2379 node1 5
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "dcs/dcs.hpp"

int main(int argc, char** argv) {
  dcs::etcd3::Etcd3Options options;
  options.endpoints = {argc > 1 ? argv[1] : "http://127.0.0.1:2379"};
  options.scope = "demo";  // keys live under /service/demo/
  options.name = argc > 2 ? argv[2] : "node1";
  options.ttl = std::chrono::seconds(30);
  options.loop_wait = std::chrono::seconds(argc > 4 ? std::atoi(argv[4]) : 10);
  options.retry_timeout = std::chrono::seconds(10);
  options.log_sink = [](dcs::LogLevel level, std::string_view component, std::string_view message) {
    std::fprintf(stderr, "%s %.*s: %.*s\n", std::string(dcs::to_string(level)).c_str(), int(component.size()),
                 component.data(), int(message.size()), message.data());
  };
  const int cycles = argc > 3 ? std::atoi(argv[3]) : 0;  // 0: forever

  try {
    dcs::etcd3::Etcd3 dcs(options);  // connects, obtains the lease, starts the watcher cache
    bool leader = false;
    for (int cycle = 0; cycles == 0 || cycle < cycles; ++cycle) {
      std::optional<std::int64_t> leader_version;  // a follower wakes when this key changes
      try {
        const auto cluster = dcs.get_cluster();  // served from the watcher cache
        if (cluster->is_unlocked()) {
          leader = dcs.attempt_to_acquire_leader();  // create-if-absent, bound to our lease
        } else if (cluster->leader_name() == dcs.name()) {
          leader = dcs.update_leader(*cluster, /*last_lsn=*/std::nullopt);  // keeps the lease alive
        } else {
          leader = false;  // follow cluster->leader_name()
          leader_version = cluster->leader->version;
        }
        dcs.touch_member({{"state", "running"},
                          {"role", leader ? "primary" : "replica"},
                          {"conn_url", "postgres://127.0.0.1:5432/postgres"},
                          {"api_url", "http://127.0.0.1:8008/patroni"}});
      } catch (const dcs::DCSError& e) {
        // etcd unreachable for retry_timeout: whoever cannot prove it leads must stop leading.
        leader = false;
        std::fprintf(stderr, "DCS error: %s\n", e.what());
      }
      std::printf("cycle %d: %s\n", cycle, leader ? "leader" : "follower");
      std::fflush(stdout);
      dcs.watch(leader_version, dcs.loop_wait());  // sleeps loop_wait, or less on a leader change
    }
    if (leader) dcs.delete_leader(dcs.cluster()->leader);  // hand over at once on the way out
  } catch (const dcs::Error& e) {
    std::fprintf(stderr, "ha_loop_minimal: %s\n", e.what());
    return 1;
  }
  return 0;
}
