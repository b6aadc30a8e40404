#include "etcd3/endpoint_discovery.hpp"

#include <arpa/nameser.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <memory>

#include <nlohmann/json.hpp>

#include "http/curl_global.hpp"
#include "net/dns_cache.hpp"

namespace dcs::etcd3::discovery {

namespace {

void append_unique(std::vector<std::string>& to, std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!url.empty() && std::find(to.begin(), to.end(), url) == to.end()) to.push_back(std::move(url));
}

std::vector<std::string> trimmed(const std::vector<std::string>& urls) {
  std::vector<std::string> out;
  out.reserve(urls.size());
  for (std::string url : urls) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    out.push_back(std::move(url));
  }
  return out;
}

struct CurlFree {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

}  // namespace

std::string make_url(const std::string& scheme, const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::vector<SrvRecord> system_srv_lookup(const std::string& name) {
  // res_nquery on a private state: the global _res is shared with whatever else in the process
  // uses the resolver.
  struct __res_state state {};
  if (res_ninit(&state) != 0) return {};
  std::vector<unsigned char> answer(65536);
  const int length =
      res_nquery(&state, name.c_str(), ns_c_in, ns_t_srv, answer.data(), static_cast<int>(answer.size()));
  res_nclose(&state);
  if (length < 0) return {};
  return parse_srv_answer(answer.data(), length);
}

std::vector<SrvRecord> parse_srv_answer(const unsigned char* answer, int length) {
  ns_msg message;
  if (ns_initparse(answer, length, &message) < 0) return {};
  std::vector<SrvRecord> records;
  const int count = ns_msg_count(message, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&message, ns_s_an, i, &rr) < 0) continue;
    // A CNAME chain puts other records in the answer section too.
    if (ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7) continue;
    const unsigned char* rdata = ns_rr_rdata(rr);
    char target[NS_MAXDNAME] = {0};
    if (dn_expand(ns_msg_base(message), ns_msg_end(message), rdata + 6, target, sizeof target) < 0) continue;
    SrvRecord record;
    record.priority = static_cast<int>(ns_get16(rdata));
    record.weight = static_cast<int>(ns_get16(rdata + 2));
    record.port = static_cast<int>(ns_get16(rdata + 4));
    record.target = target;
    // "." is RFC 2782's "the service is not available at this domain".
    if (!record.target.empty() && record.target != ".") records.push_back(std::move(record));
  }
  return records;
}

bool fetch_peer_client_urls(const std::string& url, std::chrono::milliseconds timeout, std::vector<std::string>& urls,
                            std::string& error) {
  http::ensure_curl_initialised();
  std::unique_ptr<CURL, CurlFree> handle(curl_easy_init());
  if (!handle) {
    error = "curl_easy_init failed";
    return false;
  }
  CURL* h = handle.get();
  std::string body;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  // Peer certificates are issued for the peer network, so Patroni never verifies this probe;
  // the member list it returns is only a seed and is checked when the client connects to it.
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK) {
    error = curl_easy_strerror(code);
    if (error_buffer[0] != '\0') error += std::string(": ") + error_buffer;
    return false;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 400) {
    error = "HTTP status " + std::to_string(status);
    return false;
  }
  const auto members = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!members.is_array()) {
    error = "the answer is not a JSON array of members";
    return false;
  }
  std::vector<std::string> found;
  for (const auto& member : members) {
    if (!member.is_object() || !member.contains("clientURLs") || !member.at("clientURLs").is_array()) {
      error = "a member without clientURLs";
      return false;
    }
    for (const auto& client_url : member.at("clientURLs")) {
      if (!client_url.is_string()) {
        error = "a clientURLs entry that is not a string";
        return false;
      }
      found.push_back(client_url.get<std::string>());
    }
  }
  urls.insert(urls.end(), found.begin(), found.end());
  return true;
}

std::vector<std::string> srv_labels(const std::string& suffix) {
  std::vector<std::string> labels;
  for (const char* label : {"-client-ssl", "-client", "-ssl", "", "-server-ssl", "-server"}) {
    labels.push_back(suffix.empty() ? std::string(label) : std::string(label) + "-" + suffix);
  }
  return labels;
}

std::vector<std::string> discover_from_srv(const std::string& domain, const std::string& suffix,
                                           std::chrono::milliseconds timeout, const SrvLookup& srv_lookup,
                                           const dcs::detail::Logger& log, std::string& protocol) {
  for (const std::string& label : srv_labels(suffix)) {
    // Patroni tests the suffixed label, so a suffix such as "ssl" or "server" changes the scheme
    // or the probe of the empty label too; the same configuration must find the same endpoints.
    const std::string scheme = label.find("-ssl") != std::string::npos ? "https" : "http";
    const bool peer_records = label.find("-server") != std::string::npos;
    const std::string name = "_etcd" + label + "._tcp." + domain;
    std::vector<SrvRecord> records;
    try {
      records = srv_lookup(name);
    } catch (const std::exception& e) {
      log(LogLevel::debug, "SRV lookup of " + name + " failed: " + e.what());
    } catch (...) {
      log(LogLevel::debug, "SRV lookup of " + name + " failed");
    }
    // Lower priority first, then the heavier weight: the order an operator would expect the
    // members to be asked in.
    std::stable_sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
      return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
    });

    std::vector<std::string> urls;
    for (const SrvRecord& record : records) {
      std::string target = record.target;
      while (!target.empty() && target.back() == '.') target.pop_back();
      if (target.empty() || record.port <= 0 || record.port > 65535) continue;
      const std::string url = make_url(scheme, target, record.port);
      if (!peer_records) {
        append_unique(urls, url);
        continue;
      }
      std::vector<std::string> client_urls;
      std::string error;
      if (fetch_peer_client_urls(url + "/members", timeout, client_urls, error)) {
        for (auto& client_url : client_urls) append_unique(urls, std::move(client_url));
        break;  // one member that answered knows all of them
      }
      log(LogLevel::warning, "GET " + url + "/members failed: " + error);
    }
    if (!urls.empty()) {
      protocol = scheme;
      return urls;
    }
  }
  log(LogLevel::warning, "Can not resolve SRV for " + domain);
  return {};
}

std::vector<std::string> expand_host(const std::string& url, const HostLookup& host_lookup) {
  // Only plain http: with https the certificate names the host, so the name must stay.
  const auto host_port = net::split_url_host_port(url);
  if (!host_port || url.rfind("http://", 0) != 0) return {url};
  const auto& [host, port] = *host_port;
  std::vector<std::string> addresses;
  try {
    addresses = host_lookup ? host_lookup(host, port) : net::system_lookup(host, port);
  } catch (...) {
    // An unresolvable name is used as written: libcurl may do better later, and a seed list
    // that is never empty keeps the caller in its retry loop rather than failing at once.
  }
  std::vector<std::string> urls;
  for (const auto& address : addresses) append_unique(urls, make_url("http", address, port));
  if (urls.empty()) return {url};
  return urls;
}

SeedEndpoints seed_endpoints(const Etcd3Options& options, const Hooks& hooks) {
  const dcs::detail::Logger log(hooks.log_sink, "etcd3.discovery");
  SeedEndpoints seed;
  seed.protocol = options.protocol;
  if (options.use_proxies && !options.endpoints.empty()) {
    seed.endpoints = trimmed(options.endpoints);
    return seed;
  }
  if (!options.srv.empty()) {
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.retry_timeout);
    std::string protocol;
    auto urls = discover_from_srv(options.srv, options.srv_suffix, timeout,
                                  hooks.srv_lookup ? hooks.srv_lookup : SrvLookup(system_srv_lookup), log, protocol);
    if (!urls.empty()) {
      seed.endpoints = std::move(urls);
      seed.protocol = protocol;
      seed.from_srv = true;
      return seed;
    }
  }
  if (options.expand_host && options.endpoints.size() == 1) {
    seed.endpoints = expand_host(trimmed(options.endpoints).front(), hooks.host_lookup);
    return seed;
  }
  seed.endpoints = trimmed(options.endpoints);
  return seed;
}

}  // namespace dcs::etcd3::discovery
