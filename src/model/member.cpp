// members/<name>: the member's JSON, or the connection URL the original Governor stored (its
// application_name query parameter carrying the REST API URL). The URL is split the way Python
// 3.11's urlparse/urlunparse/parse_qsl do, so that conn_url and api_url match Patroni's reading.
#include <algorithm>
#include <cctype>

#include "dcs/cluster.hpp"
#include "model/patroni_json.hpp"

namespace dcs {

namespace {

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// urllib's unquote_plus: '+' is a space, %XX a byte (a malformed escape stays as written), and
/// the bytes are decoded as UTF-8 with replacement.
std::string unquote_plus(std::string_view text) {
  std::string bytes;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      bytes += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      bytes += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      bytes += c;
    }
  }
  return model::sanitize_utf8(bytes);
}

/// parse_qsl(query): '&'-separated name=value pairs; pairs without '=' or with an empty value are
/// skipped. The first application_name wins.
nlohmann::json application_name(std::string_view query) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto field = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = field.find('=');
    if (eq == std::string_view::npos || eq + 1 == field.size()) continue;
    if (unquote_plus(field.substr(0, eq)) == "application_name") return unquote_plus(field.substr(eq + 1));
  }
  return nullptr;
}

/// {conn_url, api_url} of a legacy "postgres://user:pass@host:port/db?application_name=<api>".
nlohmann::json legacy_member_data(std::string_view value) {
  // urlsplit drops tabs and newlines anywhere in the URL.
  std::string url;
  std::copy_if(value.begin(), value.end(), std::back_inserter(url),
               [](char c) { return c != '\t' && c != '\r' && c != '\n'; });
  std::string_view rest = url;

  std::string scheme;
  const auto colon = rest.find(':');
  if (colon != std::string_view::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(rest[0])) &&
      std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(colon), is_scheme_char)) {
    for (char c : rest.substr(0, colon)) scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    rest.remove_prefix(colon + 1);
  }
  std::string_view netloc;
  if (rest.starts_with("//")) {
    const auto end = rest.find_first_of("/?#", 2);
    netloc = rest.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2);
    rest.remove_prefix(2 + netloc.size());
  }
  std::string_view fragment;
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
  }
  std::string_view query;
  if (const auto mark = rest.find('?'); mark != std::string_view::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  const std::string_view path = rest;

  // urlunsplit without the query: "//" only comes back with a non-empty netloc.
  std::string conn_url;
  if (!scheme.empty()) conn_url = scheme + ":";
  if (!netloc.empty()) {
    conn_url += "//";
    conn_url += netloc;
    if (!path.empty() && path.front() != '/') conn_url += '/';
  }
  conn_url += path;
  if (!fragment.empty()) {
    conn_url += '#';
    conn_url += fragment;
  }
  nlohmann::json data = nlohmann::json::object();
  data["conn_url"] = model::sanitize_utf8(conn_url);
  data["api_url"] = application_name(query);
  return data;
}

}  // namespace

Member Member::from_node(std::int64_t version, std::string name, std::int64_t session, std::string_view value) {
  Member member{version, std::move(name), session, nlohmann::json::object()};
  if (value.starts_with("postgres")) {
    member.data = legacy_member_data(value);
  } else if (auto parsed = model::parse_json(value); parsed && parsed->is_object()) {
    member.data = std::move(*parsed);
  }
  return member;
}

std::string Member::text(std::string_view key) const {
  if (!data.is_object()) return {};
  const auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

bool Member::is_primary() const {
  const auto r = role();
  return r == "primary" || r == "master";
}

nlohmann::json Member::tags() const {
  if (data.is_object()) {
    const auto it = data.find("tags");
    if (it != data.end() && it->is_object()) return *it;
  }
  return nlohmann::json::object();
}

bool Member::nofailover() const {
  // Patroni HEAD: the nofailover tag decides when it is set (by its truthiness); otherwise a
  // failover_priority of 0 or less means the same.
  const auto t = tags();
  if (const auto it = t.find("nofailover"); it != t.end() && !it->is_null()) return model::python_truthy(*it);
  if (const auto it = t.find("failover_priority"); it != t.end()) {
    const auto priority = model::python_int(*it);
    return priority && *priority <= 0;
  }
  return false;
}

std::optional<std::int64_t> Member::lsn() const {
  if (!data.is_object()) return std::nullopt;
  const auto it = data.find("xlog_location");
  if (it == data.end() || !it->is_number_integer()) return std::nullopt;
  return model::python_int(*it);
}

std::optional<std::array<int, 3>> Member::patroni_version() const {
  const auto stated = text("version");
  if (stated.empty()) return std::nullopt;
  return parse_patroni_version(stated);
}

}  // namespace dcs
