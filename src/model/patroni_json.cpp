// Patroni's JSON: what json.loads accepts (bounded, never throwing) and what
// json.dumps(value, separators=(',', ':')) prints, byte for byte. nlohmann's own dump differs from
// Python in floats (it switches to exponents at 1e15, Python at 1e16, and its Grisu2 digits are
// not always the shortest) and in NaN/Infinity, so the writer is ours; strings still go through
// nlohmann, whose ensure_ascii escaping is Python's (lowercase \uXXXX, surrogate pairs, DEL
// escaped), with invalid UTF-8 replaced instead of thrown.
#include "model/patroni_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "dcs/cluster.hpp"

namespace dcs {

namespace model {

// Run before the parser so that garbage cannot build a structure our recursive walks (writer,
// deep_compare, destructors of nested values) would choke on.
bool json_nested_too_deep(std::string_view text) noexcept {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

namespace {

void write_string(std::string& out, const std::string& text) {
  // A one-element json copy is the price of reusing nlohmann's escaper; values are small.
  out += nlohmann::json(text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

void write_float(std::string& out, double value) {
  // Python's json.dumps(allow_nan=True) spelling.
  if (std::isnan(value))
    out += "NaN";
  else if (std::isinf(value))
    out += value < 0 ? "-Infinity" : "Infinity";
  else
    out += python_float_repr(value);
}

template <class Json>
void write_value(std::string& out, const Json& value) {
  using value_t = nlohmann::detail::value_t;
  switch (value.type()) {
    case value_t::null:
    case value_t::discarded:
      out += "null";
      break;
    case value_t::boolean:
      out += value.template get<bool>() ? "true" : "false";
      break;
    case value_t::number_integer:
      out += std::to_string(value.template get<std::int64_t>());
      break;
    case value_t::number_unsigned:
      out += std::to_string(value.template get<std::uint64_t>());
      break;
    case value_t::number_float:
      write_float(out, value.template get<double>());
      break;
    case value_t::string:
      write_string(out, value.template get_ref<const std::string&>());
      break;
    case value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value) {
        if (!first) out += ',';
        first = false;
        write_value(out, item);
      }
      out += ']';
      break;
    }
    case value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out += ',';
        first = false;
        write_string(out, it.key());
        out += ':';
        write_value(out, it.value());
      }
      out += '}';
      break;
    }
    case value_t::binary:
      // Never produced by parsing JSON text; print it as nlohmann does rather than fail.
      out += value.dump(-1, ' ', true, Json::error_handler_t::replace);
      break;
  }
}

}  // namespace

std::optional<nlohmann::json> parse_json(std::string_view text) noexcept {
  // Python's json.loads refuses a byte order mark; nlohmann would skip it.
  if (text.starts_with("\xEF\xBB\xBF")) return std::nullopt;
  // nlohmann stops at a NUL byte as if the text ended there ("1\0junk" would read as 1); JSON
  // text never holds one, and json.loads refuses it.
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  if (json_nested_too_deep(text)) return std::nullopt;
  try {
    auto value = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return std::nullopt;
    return value;
  } catch (...) {
    // allow_exceptions=false covers syntax errors; this catches allocation failures on huge input.
    return std::nullopt;
  }
}

std::string to_patroni_json_ordered(const nlohmann::ordered_json& value) {
  std::string out;
  write_value(out, value);
  return out;
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  // to_chars without a precision gives the shortest digits that read back as the same double,
  // as Python's repr does; only the layout around them differs.
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
  std::string out;
  if (text.front() == '-') {
    out += '-';
    text.remove_prefix(1);
  }
  const auto e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e))
    if (c != '.') digits += c;
  auto exponent_text = text.substr(e + 1);
  if (exponent_text.front() == '+') exponent_text.remove_prefix(1);
  int exponent = 0;
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);

  if (exponent < -4 || exponent >= 16) {
    out += digits.front();
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    const int magnitude = std::abs(exponent);
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
  } else if (exponent < 0) {
    out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  } else {
    const auto integral = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= integral)
      out += digits + std::string(integral - digits.size(), '0') + ".0";
    else
      out += digits.substr(0, integral) + "." + digits.substr(integral);
  }
  return out;
}

}  // namespace model

std::string to_patroni_json(const nlohmann::json& value) {
  std::string out;
  model::write_value(out, value);
  return out;
}

bool deep_compare(const nlohmann::json& a, const nlohmann::json& b) {
  // Patroni only calls it on dicts; anything else is compared as a leaf would be.
  if (!a.is_object() || !b.is_object()) return model::python_str(a) == model::python_str(b);
  if (a.size() != b.size()) return false;  // with unique keys, equal sizes + inclusion = same sets
  for (auto it = a.begin(); it != a.end(); ++it) {
    const auto other = b.find(it.key());
    if (other == b.end()) return false;
    if (it->is_object()) {
      if (!other->is_object() || !deep_compare(*it, *other)) return false;
    } else if (model::python_str(*it) != model::python_str(*other)) {
      return false;
    }
  }
  return true;
}

std::optional<std::array<int, 3>> parse_patroni_version(std::string_view text) {
  // Patroni makes a tuple of int() of every dot-separated part. Versions have three parts; a
  // shorter one is padded with zeros so that "2.0" still compares below 2.1.0.
  std::array<int, 3> parts{0, 0, 0};
  std::size_t count = 0;
  while (true) {
    const auto dot = text.find('.');
    const auto part = text.substr(0, dot);
    if (count == parts.size() || part.empty()) return std::nullopt;
    int number = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), number);
    if (ec != std::errc{} || ptr != part.data() + part.size() || number < 0) return std::nullopt;
    parts[count++] = number;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return parts;
}

}  // namespace dcs
