// dcsctl health: what Etcd3::health() reports for a connection like a passive member's: it
// obtains a lease and starts the watcher cache (both off in dcsctl's usual patronictl mode), waits
// until the cache is ready, prints the picture and revokes the lease (no key is ever bound to it).
#include <chrono>
#include <cstdio>
#include <thread>

#include "dcs/errors.hpp"
#include "dcsctl/commands.hpp"

namespace dcs_examples {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

double seconds(milliseconds value) {
  return static_cast<double>(value.count()) / 1000.0;
}

std::string fixed(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

json health_to_json(const dcs::etcd3::Etcd3Health& health) {
  json doc = {{"endpoint", health.endpoint}, {"endpoints", health.endpoints}, {"lease_id", health.lease_id}};
  doc["lease_expires_in"] = health.lease_expires_in ? json(seconds(*health.lease_expires_in)) : json(nullptr);
  if (health.cache) {
    const auto& c = *health.cache;
    doc["cache"] = {{"ready", c.ready},
                    {"endpoint", c.endpoint},
                    {"revision", c.revision},
                    {"keys", c.keys},
                    {"rebuilds", c.rebuilds},
                    {"failed_rebuilds", c.failed_rebuilds},
                    {"streams", c.streams},
                    {"events", c.events},
                    {"kills", c.kills},
                    {"last_error", c.last_error},
                    {"age", health.cache_age ? json(seconds(*health.cache_age)) : json(nullptr)}};
  } else {
    doc["cache"] = nullptr;
  }
  if (health.last_error) {
    const auto ago = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - health.last_error->at);
    doc["last_error"] = {
        {"message", health.last_error->message}, {"endpoint", health.last_error->endpoint}, {"ago", seconds(ago)}};
  } else {
    doc["last_error"] = nullptr;
  }
  return doc;
}

std::string health_to_text(const dcs::etcd3::Etcd3Health& health) {
  std::string text = "endpoint:   " + health.endpoint + "\n";
  std::string all;
  for (const auto& e : health.endpoints) all += (all.empty() ? "" : ", ") + e;
  text += "endpoints:  " + all + "\n";
  if (health.cache) {
    const auto& c = *health.cache;
    text += "cache:      " + std::string(c.ready ? "ready" : "NOT READY") + ", revision " + std::to_string(c.revision) +
            ", " + std::to_string(c.keys) + " keys, " + std::to_string(c.rebuilds) + " rebuilds, " +
            std::to_string(c.streams) + " streams, " + std::to_string(c.events) + " events";
    if (health.cache_age) text += ", last contact " + fixed(seconds(*health.cache_age)) + " s ago";
    text += "\n";
    if (!c.last_error.empty()) text += "cache error: " + c.last_error + "\n";
  } else {
    text += "cache:      none\n";
  }
  text += "lease:      ";
  if (health.lease_id != 0) {
    text += std::to_string(health.lease_id);
    if (health.lease_expires_in) text += ", expires in " + fixed(seconds(*health.lease_expires_in)) + " s";
  } else {
    text += "none";
  }
  text += "\nlast error: ";
  if (health.last_error) {
    const auto ago = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - health.last_error->at);
    text += health.last_error->message + " (" + health.last_error->endpoint + ", " + fixed(seconds(ago)) + " s ago)";
  } else {
    text += "none";
  }
  return text + "\n";
}

}  // namespace

int cmd_health(const Context& ctx) {
  const auto format = ctx.args.get("format").value_or("pretty");
  if (format != "pretty" && format != "json") throw CommandError(kUsage, "--format must be pretty or json");
  auto options = ctx.options;
  options.patronictl = false;
  options.watcher_cache = true;
  if (!options.citus_group && ctx.citus) options.citus_group = 0;
  dcs::etcd3::Etcd3 dcs(options);

  // The cache lists the prefix and opens its stream in the background: give it retry_timeout.
  const auto deadline = std::chrono::steady_clock::now() + dcs.retry_timeout();
  while (dcs.kv_cache() && !dcs.kv_cache()->ready() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  const auto health = dcs.health();
  std::fputs(format == "json" ? (health_to_json(health).dump(2) + "\n").c_str() : health_to_text(health).c_str(),
             stdout);
  std::fflush(stdout);
  try {
    if (health.lease_id != 0) dcs.client().lease_revoke(health.lease_id);
  } catch (const dcs::Error&) {
    // It expires by its ttl anyway.
  }
  return health.cache && health.cache->ready ? kOk : kUnreachable;
}

}  // namespace dcs_examples
