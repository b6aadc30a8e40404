// How Python sees a decoded JSON value: str(), int(), bool(), and the UTF-8 decoding with
// replacement Patroni's urllib calls apply. Patroni's readers lean on these (int(optime),
// deep_compare's str() of leaves), so the model does the same to agree with them on odd values.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "model/patroni_json.hpp"

namespace dcs::model {

namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

/// The code point starting at text[i], advancing i past it. An ill-formed sequence yields kInvalid
/// and consumes its maximal subpart (the Unicode "best practice" Python's decoder follows).
char32_t next_code_point(std::string_view text, std::size_t& i) noexcept {
  const auto lead = static_cast<unsigned char>(text[i++]);
  if (lead < 0x80) return lead;
  int length = 0;
  char32_t cp = 0;
  unsigned char low = 0x80, high = 0xBF;  // valid range of the next byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return kInvalid;
  }
  for (int k = 1; k < length; ++k) {
    if (i >= text.size()) return kInvalid;
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < low || byte > high) return kInvalid;
    low = 0x80;
    high = 0xBF;
    cp = (cp << 6) | (byte & 0x3F);
    ++i;
  }
  return cp;
}

void append_hex_escape(std::string& out, char32_t cp) {
  char buffer[16];
  if (cp <= 0xFF)
    std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(cp));
  else
    std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(cp));
  out += buffer;
}

/// repr() of a str: single quotes unless only double quotes avoid escaping, control characters
/// as \t \n \r or \xhh. Non-ASCII printables stay as they are (close enough to Python's
/// isprintable() for comparing values, which is all this is for).
void repr_string(std::string& out, std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  out += quote;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    const char32_t cp = next_code_point(text, i);
    if (cp == kInvalid) {
      for (std::size_t k = start; k < i; ++k) append_hex_escape(out, static_cast<unsigned char>(text[k]));
    } else if (cp == static_cast<char32_t>(quote) || cp == U'\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == U'\t') {
      out += "\\t";
    } else if (cp == U'\n') {
      out += "\\n";
    } else if (cp == U'\r') {
      out += "\\r";
    } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
      append_hex_escape(out, cp);
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  out += quote;
}

void repr_value(std::string& out, const nlohmann::json& value) {
  using value_t = nlohmann::json::value_t;
  switch (value.type()) {
    case value_t::null:
    case value_t::discarded:
    case value_t::binary:
      out += "None";
      break;
    case value_t::boolean:
      out += value.get<bool>() ? "True" : "False";
      break;
    case value_t::number_integer:
      out += std::to_string(value.get<std::int64_t>());
      break;
    case value_t::number_unsigned:
      out += std::to_string(value.get<std::uint64_t>());
      break;
    case value_t::number_float:
      out += python_float_repr(value.get<double>());
      break;
    case value_t::string:
      repr_string(out, value.get_ref<const std::string&>());
      break;
    case value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value) {
        if (!first) out += ", ";
        first = false;
        repr_value(out, item);
      }
      out += ']';
      break;
    }
    case value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        repr_string(out, it.key());
        out += ": ";
        repr_value(out, it.value());
      }
      out += '}';
      break;
    }
  }
}

bool is_ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// int(text): optional sign, decimal digits, single underscores between digits.
std::optional<std::int64_t> parse_python_int(std::string_view text) noexcept {
  text = strip_ascii(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  std::string digits = negative ? "-" : "";
  bool previous_digit = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      digits += c;
      previous_digit = true;
    } else if (c == '_' && previous_digit) {
      previous_digit = false;
    } else {
      return std::nullopt;
    }
  }
  if (!previous_digit) return std::nullopt;  // empty, or ends with '_'
  std::int64_t number = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return number;
}

}  // namespace

std::string python_str(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  std::string out;
  repr_value(out, value);
  return out;
}

std::optional<std::int64_t> python_int(const nlohmann::json& value) noexcept {
  using value_t = nlohmann::json::value_t;
  switch (value.type()) {
    case value_t::boolean:
      return value.get<bool>() ? 1 : 0;
    case value_t::number_integer:
      return value.get<std::int64_t>();
    case value_t::number_unsigned: {
      const auto u = value.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
      return static_cast<std::int64_t>(u);
    }
    case value_t::number_float: {
      const double truncated = std::trunc(value.get<double>());
      // [-2^63, 2^63): both bounds are exact doubles.
      if (!std::isfinite(truncated) || truncated < -9223372036854775808.0 || truncated >= 9223372036854775808.0)
        return std::nullopt;
      return static_cast<std::int64_t>(truncated);
    }
    case value_t::string:
      return parse_python_int(value.get_ref<const std::string&>());
    default:
      return std::nullopt;
  }
}

bool python_truthy(const nlohmann::json& value) noexcept {
  using value_t = nlohmann::json::value_t;
  switch (value.type()) {
    case value_t::boolean:
      return value.get<bool>();
    case value_t::number_integer:
      return value.get<std::int64_t>() != 0;
    case value_t::number_unsigned:
      return value.get<std::uint64_t>() != 0;
    case value_t::number_float:
      return value.get<double>() != 0.0;  // NaN is truthy, as in Python
    case value_t::string:
      return !value.get_ref<const std::string&>().empty();  // json::empty() is false for any string
    case value_t::array:
    case value_t::object:
      return !value.empty();
    case value_t::binary:
      return !value.get_binary().empty();
    default:
      return false;
  }
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    if (next_code_point(text, i) == kInvalid)
      out += "\xEF\xBF\xBD";  // U+FFFD
    else
      out.append(text.substr(start, i - start));
  }
  return out;
}

std::string_view strip_ascii(std::string_view text) noexcept {
  while (!text.empty() && is_ascii_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ascii_space(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<int> citus_group(std::string_view text) noexcept {
  // Patroni matches group names with ^(0|[1-9][0-9]*)$: no sign (from_chars would read "-0"
  // as 0) and no leading zero.
  if (text.empty() || text.front() < '0' || text.front() > '9' || (text.size() > 1 && text.front() == '0')) {
    return std::nullopt;
  }
  int group = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), group);
  if (ec != std::errc{} || ptr != text.data() + text.size() || group < 0) return std::nullopt;
  return group;
}

}  // namespace dcs::model
