#include "abstract_dcs_state.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace dcs {

namespace {

std::string collapse_slashes(const std::string& path) {
  std::string out;
  for (char c : path)
    if (c != '/' || out.empty() || out.back() != '/') out += c;
  return out;
}

/// What get_cluster remembers of the stored status for change detection: the optime, plus slots
/// and retain_slots when they hold something (so an empty list does not force a rewrite).
nlohmann::json remembered_status(const Status& status) {
  nlohmann::json out = nlohmann::json::object();
  out[kOptime] = status.last_lsn;
  if (status.slots && !status.slots->empty()) out["slots"] = *status.slots;
  if (!status.retain_slots.empty()) out["retain_slots"] = status.retain_slots;
  return out;
}

}  // namespace

AbstractDCS::State::State(DCSSettings settings_in)
    : settings(std::move(settings_in)),
      clock(settings.clock ? settings.clock : steady_clock()),
      base_path(collapse_slashes("/" + settings.namespace_ + "/" + settings.scope)),
      ttl(settings.ttl),
      loop_wait(settings.loop_wait),
      retry_timeout(settings.retry_timeout),
      // Patroni starts from {}: an empty failsafe is not written before the first read.
      last_failsafe(nlohmann::json::object()) {}

const std::shared_ptr<const Cluster>* AbstractDCS::State::valid_cluster_locked() const {
  return cluster && cluster_valid_till > clock->now() ? &cluster : nullptr;
}

const nlohmann::json& AbstractDCS::State::remembered_status_locked() {
  if (status_from_last_loaded && last_loaded) last_status = remembered_status(last_loaded->status);
  status_from_last_loaded = false;
  return last_status;
}

// Only what identifies a value is kept: no per-key allocation survives the read, so a large read
// leaves the heap as it found it, and the two buffers keep their capacity from read to read.
bool ReadFingerprint::matches(const std::vector<StoredKey>& keys) const {
  if (stamps_.size() != 2 * keys.size()) return false;
  std::string_view rest = names_;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& key = keys[i];
    // A version 0 does not identify a value: such a read is always built.
    if (key.version == 0 || key.version != stamps_[2 * i] || key.session != stamps_[2 * i + 1]) return false;
    if (!rest.starts_with(key.key) || rest.size() == key.key.size() || rest[key.key.size()] != '\0') return false;
    rest.remove_prefix(key.key.size() + 1);
  }
  return true;
}

void ReadFingerprint::assign(const std::vector<StoredKey>& keys) {
  names_.clear();
  stamps_.clear();
  stamps_.reserve(2 * keys.size());
  for (const auto& key : keys) {
    names_.append(key.key).push_back('\0');
    stamps_.push_back(key.version);
    stamps_.push_back(key.session);
  }
}

// Position by position: the same member object (members are immutable and shared between
// views) keeps what its version said; any other is parsed, and the count of old ones follows.
// The memo only watches the objects (weak references), so no member outlives its views because
// of it. A member joining or leaving shifts the positions after it: those are parsed once more.
bool LegacyMemberCount::any_in(const Cluster& view) {
  const auto same_object = [](const std::weak_ptr<const Member>& seen, const MemberPtr& member) {
    return !seen.owner_before(member) && !member.owner_before(seen);
  };
  const std::size_t count = view.members.size();
  for (std::size_t i = count; i < ages_.size(); ++i) pre_2_1_ -= ages_[i].pre_2_1;
  ages_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& member = view.members[i];
    auto& age = ages_[i];
    if (same_object(age.member, member)) continue;
    pre_2_1_ -= age.pre_2_1;
    const auto version = member->patroni_version();
    age.member = member;
    age.pre_2_1 = version && *version < std::array<int, 3>{2, 1, 0};
    pre_2_1_ += age.pre_2_1;
  }
  return pre_2_1_ > 0;
}

}  // namespace dcs
