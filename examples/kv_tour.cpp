// A guided tour of Etcd3Client against a real etcd: version detection, put / range, a
// compare-and-set transaction, a lease that keeps a key alive, and a watch that sees a change
// made by the same process from another thread. Prints what it does at each step.
//
//   kv_tour --endpoints http://127.0.0.1:2379[,http://...]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dcs/dcs.hpp>
#include <sstream>
#include <string>
#include <thread>

namespace {

using namespace dcs::etcd3;
using Clock = std::chrono::steady_clock;

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void log_to_stderr(dcs::LogLevel level, std::string_view component, std::string_view message) {
  if (level >= dcs::LogLevel::warning) {
    std::fprintf(stderr, "[%s] %.*s: %.*s\n", std::string(dcs::to_string(level)).c_str(),
                 static_cast<int>(component.size()), component.data(), static_cast<int>(message.size()),
                 message.data());
  }
}

int run(const std::vector<std::string>& endpoints) {
  Etcd3Options options;
  options.endpoints = endpoints;
  options.retry_timeout = std::chrono::seconds(5);
  options.log_sink = log_to_stderr;
  Etcd3Client client(options);

  auto t0 = Clock::now();
  const VersionInfo version = client.detect_version();
  std::printf("1. etcd server %s (cluster %s): talking to %s%s (%.2f ms)\n", version.server.c_str(),
              version.cluster.c_str(), client.current_endpoint().c_str(), client.api_prefix().c_str(), ms_since(t0));

  const std::string prefix = "/libdcs-tour/";
  client.delete_range({.key = prefix, .range_end = prefix_range_end(prefix)});

  t0 = Clock::now();
  for (int i = 1; i <= 3; ++i) {
    client.put({.key = prefix + "member-" + std::to_string(i), .value = "{\"state\":\"running\"}"});
  }
  std::printf("2. wrote 3 keys under %s (%.2f ms for all three)\n", prefix.c_str(), ms_since(t0));

  t0 = Clock::now();
  const RangeResponse listed = client.range(RangeRequest::with_prefix(prefix));
  std::printf("3. read them back at revision %lld (%.2f ms):\n", static_cast<long long>(listed.header.revision),
              ms_since(t0));
  for (const KeyValue& kv : listed.kvs) {
    std::printf("     %s = %s (mod_revision %lld)\n", kv.key.c_str(), kv.value.c_str(),
                static_cast<long long>(kv.mod_revision));
  }

  const std::string leader_key = prefix + "leader";
  auto acquire = [&](const std::string& who) {
    TxnRequest txn;
    txn.compare.push_back(Compare::create_revision(leader_key, CompareResult::equal, 0));
    txn.success.push_back({PutRequest{.key = leader_key, .value = who}});
    txn.failure.push_back({RangeRequest{.key = leader_key}});
    return client.txn(txn);
  };
  const TxnResponse first = acquire("alice");
  const TxnResponse second = acquire("bob");
  const auto& holder = std::get<RangeResponse>(second.responses.at(0).response).kvs.at(0).value;
  std::printf("4. compare-and-set on %s: alice %s, bob %s (the key is held by %s)\n", leader_key.c_str(),
              first.succeeded ? "won" : "lost", second.succeeded ? "won" : "lost", holder.c_str());

  const LeaseGrantResponse lease = client.lease_grant(10);
  client.put({.key = prefix + "session", .value = "alive", .lease = lease.id});
  const LeaseKeepAliveResponse kept = client.lease_keepalive(lease.id);
  std::printf("5. lease %lld granted for %lld s, key attached, keepalive renewed it to %lld s\n",
              static_cast<long long>(lease.id), static_cast<long long>(lease.ttl), static_cast<long long>(kept.ttl));
  client.lease_revoke(lease.id);
  const bool gone = client.range({.key = prefix + "session"}).kvs.empty();
  std::printf("   revoked it: the attached key %s\n", gone ? "is gone" : "is STILL THERE");

  WatchCanceller canceller;
  Clock::time_point put_at;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    put_at = Clock::now();
    client.put({.key = leader_key, .value = "carol"});
  });
  bool seen = false;
  client.watch(
      {.key = prefix, .range_end = prefix_range_end(prefix), .start_revision = 0, .prev_kv = true},
      [&](const WatchResponse& response) {
        for (const Event& event : response.events) {
          std::printf("6. watch saw %s = %s (was %s) %.2f ms after the put was sent\n", event.kv.key.c_str(),
                      event.kv.value.c_str(), event.prev_kv ? event.prev_kv->value.c_str() : "-", ms_since(put_at));
          seen = true;
          canceller.cancel();
        }
      },
      canceller, std::chrono::seconds(10));
  writer.join();

  client.delete_range({.key = prefix, .range_end = prefix_range_end(prefix)});
  std::printf("7. cleaned up %s; done.\n", prefix.c_str());
  return seen && gone && first.succeeded && !second.succeeded ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoints = "http://127.0.0.1:2379";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--endpoints") == 0 && i + 1 < argc) {
      endpoints = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--endpoints URL[,URL...]]\n", argv[0]);
      return 1;
    }
  }
  try {
    return run(split(endpoints, ','));
  } catch (const dcs::Error& e) {
    std::fprintf(stderr, "kv_tour: %s\n", e.what());
    return 2;
  }
}
