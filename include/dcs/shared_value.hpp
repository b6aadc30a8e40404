// SharedValue<T>: an optional, immutable value whose copies share one allocation. The parts of a
// Cluster view that rarely change (config, leader, history, failsafe) are held this way, so that
// a view built or patched next to an older one takes those parts over for the price of a
// reference count instead of a deep copy of their JSON, and frees nothing when the older view goes.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace dcs {

template <class T>
class SharedValue {
 public:
  SharedValue() noexcept = default;
  SharedValue(std::nullopt_t) noexcept {}  // NOLINT(google-explicit-constructor): like std::optional
  SharedValue(T value)                     // NOLINT(google-explicit-constructor): like std::optional
      : value_(std::make_shared<const T>(std::move(value))) {}
  /// Shares a value some other owner holds (null: empty).
  explicit SharedValue(std::shared_ptr<const T> value) noexcept : value_(std::move(value)) {}

  SharedValue& operator=(std::nullopt_t) noexcept {
    value_.reset();
    return *this;
  }
  SharedValue& operator=(T value) {
    value_ = std::make_shared<const T>(std::move(value));
    return *this;
  }

  bool has_value() const noexcept { return value_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  const T& operator*() const noexcept { return *value_; }
  const T* operator->() const noexcept { return value_.get(); }
  /// The value; throws std::bad_optional_access when there is none (as std::optional does).
  const T& value() const {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }
  void reset() noexcept { value_.reset(); }
  /// A copy of the value as a std::optional, for code written against std::optional fields.
  operator std::optional<T>() const {  // NOLINT(google-explicit-constructor)
    return value_ ? std::optional<T>(*value_) : std::nullopt;
  }

  /// Both hold the very same value object (not merely equal values).
  bool shares_storage_with(const SharedValue& other) const noexcept {
    return value_ != nullptr && value_ == other.value_;
  }

  /// Equal when both are empty, or both hold equal values.
  friend bool operator==(const SharedValue& a, const SharedValue& b) {
    if (a.value_ == b.value_) return true;
    return a.value_ && b.value_ && *a.value_ == *b.value_;
  }
  friend bool operator==(const SharedValue& a, std::nullopt_t) noexcept { return !a.has_value(); }
  friend bool operator==(const SharedValue& a, const T& b) { return a.has_value() && *a == b; }

 private:
  std::shared_ptr<const T> value_;
};

}  // namespace dcs
