#include "etcd3/endpoint_set.hpp"

#include <algorithm>

namespace dcs::etcd3::detail {

EndpointSet::EndpointSet(std::vector<std::string> seeds) : seeds_(std::move(seeds)), urls_(seeds_) {
  if (!urls_.empty()) preferred_ = urls_.front();
}

bool EndpointSet::suspect_locked(const std::string& url, Clock::time_point now) const {
  const auto it = failed_at_.find(url);
  return it != failed_at_.end() && now - it->second < kSuspectFor;
}

EndpointSet::Order EndpointSet::try_order() const {
  std::lock_guard lock(mutex_);
  if (!failed_at_.empty()) return build_order_locked();
  if (!healthy_order_) healthy_order_ = build_order_locked();
  return healthy_order_;
}

EndpointSet::Order EndpointSet::build_order_locked() const {
  const auto now = Clock::now();
  std::vector<std::string> healthy;
  std::vector<std::pair<Clock::time_point, std::string>> suspects;
  auto place = [&](const std::string& url) {
    if (suspect_locked(url, now)) {
      suspects.emplace_back(failed_at_.at(url), url);
    } else {
      healthy.push_back(url);
    }
  };
  if (std::find(urls_.begin(), urls_.end(), preferred_) != urls_.end()) place(preferred_);
  for (const auto& url : urls_) {
    if (url != preferred_) place(url);
  }
  std::sort(suspects.begin(), suspects.end());
  for (auto& [when, url] : suspects) healthy.push_back(std::move(url));
  return std::make_shared<const std::vector<std::string>>(std::move(healthy));
}

std::vector<std::string> EndpointSet::seeds() const {
  std::lock_guard lock(mutex_);
  return seeds_;
}

void EndpointSet::set_seeds(std::vector<std::string> seeds) {
  std::lock_guard lock(mutex_);
  seeds_ = std::move(seeds);
  urls_ = seeds_;
  healthy_order_.reset();
  if (std::find(urls_.begin(), urls_.end(), preferred_) == urls_.end()) {
    preferred_ = urls_.empty() ? std::string() : urls_.front();
  }
}

std::string EndpointSet::preferred() const {
  std::lock_guard lock(mutex_);
  return preferred_;
}

bool EndpointSet::is_preferred(const std::string& url) const {
  std::lock_guard lock(mutex_);
  return preferred_ == url;
}

std::vector<std::string> EndpointSet::all() const {
  std::lock_guard lock(mutex_);
  return urls_;
}

bool EndpointSet::prefer(const std::string& url) {
  std::lock_guard lock(mutex_);
  if (preferred_ == url) return false;
  preferred_ = url;
  healthy_order_.reset();
  return true;
}

void EndpointSet::mark_failed(const std::string& url) {
  std::lock_guard lock(mutex_);
  failed_at_[url] = Clock::now();
}

void EndpointSet::mark_ok(const std::string& url) {
  std::lock_guard lock(mutex_);
  if (!failed_at_.empty()) failed_at_.erase(url);
}

bool EndpointSet::suspect(const std::string& url) const {
  std::lock_guard lock(mutex_);
  return suspect_locked(url, Clock::now());
}

bool EndpointSet::replace(std::vector<std::string> urls) {
  std::lock_guard lock(mutex_);
  refreshed_at_ = Clock::now();
  if (urls.empty()) return false;
  urls_ = std::move(urls);
  healthy_order_.reset();
  if (std::find(urls_.begin(), urls_.end(), preferred_) != urls_.end()) return false;
  preferred_ = urls_.front();
  return true;
}

void EndpointSet::merge_seeds() {
  std::lock_guard lock(mutex_);
  for (const auto& seed : seeds_) {
    if (std::find(urls_.begin(), urls_.end(), seed) == urls_.end()) urls_.push_back(seed);
  }
  healthy_order_.reset();
}

EndpointSet::Clock::time_point EndpointSet::refreshed_at() const {
  std::lock_guard lock(mutex_);
  return refreshed_at_;
}

}  // namespace dcs::etcd3::detail
