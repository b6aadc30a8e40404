// Patroni's JSON: what json.loads accepts (bounded, never throwing) and what
// json.dumps(value, separators=(',', ':')) prints, byte for byte. nlohmann's own dump differs from
// Python in floats (it switches to exponents at 1e15, Python at 1e16, and its Grisu2 digits are
// not always the shortest) and in NaN/Infinity, so the writer is ours; strings still go through
// nlohmann, whose ensure_ascii escaping is Python's (lowercase \uXXXX, surrogate pairs, DEL
// escaped), with invalid UTF-8 replaced instead of thrown.
#include "model/patroni_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <simdjson.h>

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
  // Most strings (names, URLs, states) are printable ASCII without a quote or a backslash:
  // Python prints those as they are.
  const bool plain =
      std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; });
  if (plain) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
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

namespace {

// simdjson builds the document far faster than nlohmann's own parser reads the text; only the
// nlohmann value is built from it. Bigger values (rare: Patroni's are a few hundred bytes) go to
// nlohmann directly, so that no thread keeps a parser grown to a huge value.
constexpr std::size_t kFastParseLimit = 16 * 1024;

// The document as nlohmann's parser would have built it: non-negative integers unsigned, the last
// of duplicate object keys kept. False for what nlohmann reads differently (see parse_json).
bool to_nlohmann(simdjson::dom::element element, nlohmann::json& out) {
  using Type = simdjson::dom::element_type;
  switch (element.type()) {
    case Type::OBJECT: {
      out = nlohmann::json::object();
      auto& object = out.get_ref<nlohmann::json::object_t&>();
      simdjson::dom::object fields;
      if (element.get_object().get(fields)) return false;
      for (const auto field : fields) {
        nlohmann::json value;
        if (!to_nlohmann(field.value, value)) return false;
        object.insert_or_assign(std::string(field.key), std::move(value));
      }
      return true;
    }
    case Type::ARRAY: {
      out = nlohmann::json::array();
      auto& array = out.get_ref<nlohmann::json::array_t&>();
      simdjson::dom::array items;
      if (element.get_array().get(items)) return false;
      for (const auto item : items) {
        if (!to_nlohmann(item, array.emplace_back())) return false;
      }
      return true;
    }
    case Type::STRING: {
      std::string_view text;
      if (element.get_string().get(text)) return false;
      out = std::string(text);
      return true;
    }
    case Type::INT64: {
      std::int64_t value = 0;
      if (element.get_int64().get(value)) return false;
      if (value >= 0)
        out = static_cast<std::uint64_t>(value);
      else
        out = value;
      return true;
    }
    case Type::UINT64: {
      std::uint64_t value = 0;
      if (element.get_uint64().get(value)) return false;
      out = value;
      return true;
    }
    case Type::DOUBLE: {
      double value = 0;
      if (element.get_double().get(value)) return false;
      out = value;
      return true;
    }
    case Type::BOOL: {
      bool value = false;
      if (element.get_bool().get(value)) return false;
      out = value;
      return true;
    }
    case Type::NULL_VALUE:
      out = nullptr;
      return true;
  }
  return false;
}

std::optional<nlohmann::json> parse_with_simdjson(std::string_view text) {
  // Its depth limit is ours (kMaxJsonDepth; growing the buffers keeps it): a deeper text is an
  // error here and goes to the reference path, which refuses it, so no bracket count is needed.
  struct DepthLimitedParser {
    simdjson::dom::parser parser;
    bool ready = false;  // allocated with our depth limit (else the reference path reads)
  };
  thread_local DepthLimitedParser limited = [] {
    DepthLimitedParser fresh;
    fresh.ready = fresh.parser.allocate(1024, kMaxJsonDepth) == simdjson::SUCCESS;
    return fresh;
  }();
  if (!limited.ready) return std::nullopt;
  auto& parser = limited.parser;
  simdjson::dom::element root;
  // realloc_if_needed: the text is copied into the parser's own padded buffer, kept between calls.
  if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root)) return std::nullopt;
  nlohmann::json out;
  if (!to_nlohmann(root, out)) return std::nullopt;
  return out;
}

// What json.loads refuses that a parser would read: a byte order mark (nlohmann skips it), and a
// NUL byte (nlohmann stops there as if the text ended: "1\0junk" would read as 1; JSON text never
// holds one).
bool refused_before_parsing(std::string_view text) noexcept {
  return text.starts_with("\xEF\xBB\xBF") || text.find('\0') != std::string_view::npos;
}

}  // namespace

std::optional<nlohmann::json> parse_json_reference(std::string_view text) noexcept {
  if (refused_before_parsing(text) || json_nested_too_deep(text)) return std::nullopt;
  try {
    auto value = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return std::nullopt;
    return value;
  } catch (...) {
    // allow_exceptions=false covers syntax errors; this catches allocation failures on huge input.
    return std::nullopt;
  }
}

std::optional<nlohmann::json> parse_json(std::string_view text) noexcept {
  // simdjson refuses everything nlohmann refuses, and reads what both accept to the same value,
  // except a "-0" (nlohmann: a signed integer; simdjson cannot tell it from 0) and integers
  // beyond 64 bits (nlohmann: a float; simdjson: an error). Those, and anything simdjson refuses,
  // are left to nlohmann, which decides. The fuzz target checks the two agree.
  if (refused_before_parsing(text)) return std::nullopt;
  if (text.size() <= kFastParseLimit && text.find("-0") == std::string_view::npos) {
    try {
      if (auto value = parse_with_simdjson(text)) return value;
    } catch (...) {
      // An allocation failure: nlohmann gets its own try below.
    }
  }
  return parse_json_reference(text);
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

namespace {

// str(a) == str(b) for two leaves, without building the texts when the types tell: a string is
// its own str(), and two integers (signed or not), booleans or nulls print alike exactly when
// they are equal. Floats always go through str() (0.0 and -0.0 are equal but print apart).
bool same_leaf_text(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_string() && b.is_string()) return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
  const bool integers = (a.is_number_integer() && b.is_number_integer());  // unsigned counts as integer
  if (integers || (a.is_boolean() && b.is_boolean()) || (a.is_null() && b.is_null())) return a == b;
  return model::python_str(a) == model::python_str(b);
}

}  // namespace

bool deep_compare(const nlohmann::json& a, const nlohmann::json& b) {
  // Patroni only calls it on dicts; anything else is compared as a leaf would be.
  if (!a.is_object() || !b.is_object()) return same_leaf_text(a, b);
  if (a.size() != b.size()) return false;  // with unique keys, equal sizes + inclusion = same sets
  for (auto it = a.begin(); it != a.end(); ++it) {
    const auto other = b.find(it.key());
    if (other == b.end()) return false;
    if (it->is_object()) {
      if (!other->is_object() || !deep_compare(*it, *other)) return false;
    } else if (!same_leaf_text(*it, *other)) {
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
