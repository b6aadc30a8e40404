// The client's view of where etcd is: the seed endpoints from the configuration, the members
// discovered from the cluster, which endpoint is preferred (sticky after a successful switch)
// and which ones failed recently (tried last, and never asked for the member list).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dcs::etcd3::detail {

class EndpointSet {
 public:
  using Clock = std::chrono::steady_clock;

  /// How long an endpoint that failed stays at the back of the try order.
  static constexpr std::chrono::seconds kSuspectFor{30};

  explicit EndpointSet(std::vector<std::string> seeds);

  using Order = std::shared_ptr<const std::vector<std::string>>;
  /// Preferred endpoint first, then the others; those that failed in the last kSuspectFor
  /// seconds go last (in the order they failed). Never null. While no endpoint has failed, every
  /// call shares one list (every request asks for it), built again when the set changes.
  Order try_order() const;
  std::string preferred() const;
  bool is_preferred(const std::string& url) const;
  std::vector<std::string> all() const;
  std::vector<std::string> seeds() const;
  /// Installs the seed list found from the configuration (SRV records, resolved host names).
  void set_seeds(std::vector<std::string> seeds);

  /// Makes `url` the preferred endpoint; true when that changed it.
  bool prefer(const std::string& url);
  void mark_failed(const std::string& url);
  void mark_ok(const std::string& url);
  bool suspect(const std::string& url) const;

  /// Replaces the list by what the cluster reported. The preferred endpoint stays if it is still
  /// listed; otherwise the first entry becomes preferred (returns true when that changed it).
  bool replace(std::vector<std::string> urls);
  /// Adds the seeds back (used when every known endpoint failed: the members may have moved).
  void merge_seeds();
  Clock::time_point refreshed_at() const;

 private:
  bool suspect_locked(const std::string& url, Clock::time_point now) const;
  Order build_order_locked() const;

  mutable std::mutex mutex_;
  std::vector<std::string> seeds_;
  std::vector<std::string> urls_;
  std::string preferred_;
  std::map<std::string, Clock::time_point> failed_at_;
  Clock::time_point refreshed_at_{};
  /// The order while failed_at_ is empty (it then does not depend on the time); reset by every
  /// change of urls_ or preferred_.
  mutable Order healthy_order_;
};

}  // namespace dcs::etcd3::detail
