// Internal: the few pieces of Python behaviour the cluster model needs to read and write the same
// values as Patroni: json.loads that never throws, json.dumps(separators=(',', ':')), str() and
// int() of a decoded JSON value, Python truthiness, and UTF-8 decoding with U+FFFD replacement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dcs::model {

/// Deeper values are refused by parse_json: Patroni never writes more than a few levels, Python's
/// json.loads gives up near 1000, and the model's recursive walks must stay far from the stack
/// limit on garbage such as ten thousand '['.
inline constexpr int kMaxJsonDepth = 512;

/// True when brackets outside string literals nest deeper than kMaxJsonDepth.
bool json_nested_too_deep(std::string_view text) noexcept;

/// json.loads for values read from the store: nullopt for anything that is not one JSON document
/// (invalid UTF-8, too deep, a number out of range, ...). Never throws.
std::optional<nlohmann::json> parse_json(std::string_view text) noexcept;

/// parse_json with nlohmann's parser alone: what parse_json falls back to, and the reference the
/// tests hold the fast path to.
std::optional<nlohmann::json> parse_json_reference(std::string_view text) noexcept;

/// to_patroni_json for a value whose key order matters (the fixed formats of sync, failover,
/// status): keys come out in insertion order.
std::string to_patroni_json_ordered(const nlohmann::ordered_json& value);

/// Python's repr() of a float: shortest round-trip digits, exponent form below 1e-4 and from
/// 1e16 on ("1e-05", "1e+16"), always a '.0' or an exponent; "nan", "inf", "-inf".
std::string python_float_repr(double value);

/// Python's str() of a decoded JSON value: a string is itself, null "None", true "True",
/// containers as Python prints dicts and lists. Used by deep_compare.
std::string python_str(const nlohmann::json& value);

/// Python's int() of a decoded JSON value: integers, booleans, finite floats (truncated) and
/// decimal strings (surrounding whitespace, a sign and '_' between digits allowed); nullopt for
/// anything else or outside int64.
std::optional<std::int64_t> python_int(const nlohmann::json& value) noexcept;

/// Python's bool() of a decoded JSON value: false for null, false, 0, 0.0, "", [] and {}.
bool python_truthy(const nlohmann::json& value) noexcept;

/// The text with every ill-formed UTF-8 sequence replaced by U+FFFD, one per maximal ill-formed
/// subpart (Python's bytes.decode('utf-8', 'replace')).
std::string sanitize_utf8(std::string_view text);

/// ASCII whitespace trimmed from both ends (Python's str.strip() for the texts Patroni writes).
std::string_view strip_ascii(std::string_view text) noexcept;

/// A Citus group path component: "0" or a decimal without leading zeros (^(0|[1-9][0-9]*)$).
std::optional<int> citus_group(std::string_view text) noexcept;

}  // namespace dcs::model
