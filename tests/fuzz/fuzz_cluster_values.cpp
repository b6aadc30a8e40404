// Every reader of a stored Patroni value (src/model/*) and of etcd's cluster, maintenance, auth
// and lease answers (src/codec/cluster_codec.*, lease_codec.*), over the same bytes. The model's
// readers are documented never to throw (a bad value reads as empty); what they produce must
// survive being written back: writing then reading a value gives the same value.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/cluster_codec.hpp"
#include "codec/lease_codec.hpp"
#include "dcs/cluster.hpp"
#include "fuzz_support.hpp"
#include "model/patroni_json.hpp"

using namespace dcs;

namespace {

bool is_utf8(const std::string& text) {
  return model::sanitize_utf8(text) == text;
}

// Whatever the model holds as JSON must print in Patroni's form and read back as itself, and
// nlohmann's own strict writer must accept it (callers log data.dump()).
void check_json_round_trip(const nlohmann::json& value) {
  const std::string text = to_patroni_json(value);
  const auto again = model::parse_json(text);
  DCS_FUZZ_CHECK(again.has_value());
  DCS_FUZZ_CHECK(*again == value);
  DCS_FUZZ_CHECK(to_patroni_json(*again) == text);
  (void)value.dump();
  if (value.is_object()) DCS_FUZZ_CHECK(deep_compare(value, value));
}

// The same value, down to the number types nlohmann tells apart (0 read as unsigned, -1 as signed).
bool identical(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y)
      if (x.key() != y.key() || !identical(*x, *y)) return false;
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!identical(a[i], b[i])) return false;
    return true;
  }
  return a == b || (a.is_number_float() && std::isnan(a.get<double>()) && std::isnan(b.get<double>()));
}

// parse_json's fast path (simdjson) must accept exactly what nlohmann accepts, as the same value.
void check_parsers_agree(std::string_view value) {
  const auto fast = model::parse_json(value);
  const auto reference = model::parse_json_reference(value);
  DCS_FUZZ_CHECK(fast.has_value() == reference.has_value());
  if (fast) DCS_FUZZ_CHECK(identical(*fast, *reference));
}

void check_member(std::string_view value) {
  const Member member = Member::from_node(7, "m", 3, value);
  DCS_FUZZ_CHECK(member.data.is_object());
  check_json_round_trip(member.data);
  (void)member.conn_url();
  (void)member.api_url();
  (void)member.is_primary();
  (void)member.is_running();
  (void)member.nofailover();
  (void)member.lsn();
  (void)member.patroni_version();
  (void)member.tags().dump();
}

void check_config(std::string_view value) {
  const auto config = ClusterConfig::from_node(9, value);
  DCS_FUZZ_CHECK(config.data.is_object());
  DCS_FUZZ_CHECK(config.modify_version == 0 || config.modify_version == 9);
  check_json_round_trip(config.data);
}

void check_history(std::string_view value) {
  const auto history = TimelineHistory::from_node(4, std::string(value));
  DCS_FUZZ_CHECK(history.value == value);
  DCS_FUZZ_CHECK(history.lines.is_array());
  check_json_round_trip(history.lines);
}

void check_failover(std::string_view value) {
  const auto failover = Failover::from_node(5, value);
  (void)failover.is_empty();
  // The legacy "leader:candidate" text keeps raw bytes; the writer replaces invalid UTF-8, so
  // only valid names can come back unchanged.
  if (!is_utf8(failover.leader) || !is_utf8(failover.candidate) || !is_utf8(failover.scheduled_at)) return;
  const auto written = Failover::value(failover.leader, failover.candidate, failover.scheduled_at);
  const auto again = Failover::from_node(5, written);
  DCS_FUZZ_CHECK(again == failover);
}

void check_sync(std::string_view value) {
  const auto sync = SyncState::from_node(6, value);
  (void)sync.matches("a");
  (void)sync.matches("a", true);
  if (sync.is_empty()) return;
  auto members = sync.members();
  const auto again = SyncState::from_node(6, SyncState::value(sync.leader, members, sync.quorum));
  std::sort(members.begin(), members.end());
  DCS_FUZZ_CHECK(again.leader == sync.leader);
  DCS_FUZZ_CHECK(again.quorum == sync.quorum);
  DCS_FUZZ_CHECK(again.members() == members);
}

void check_status(std::string_view value) {
  const auto status = Status::from_node(value);
  (void)status.is_empty();
  (void)status.to_json().dump();
  DCS_FUZZ_CHECK(Status::from_node(status.value()) == status);
}

void check_failsafe(std::string_view value) {
  // The loader keeps the decoded `failsafe` value as it is.
  if (const auto parsed = model::parse_json(value)) check_json_round_trip(*parsed);
}

void check_python_helpers(std::string_view value) {
  const std::string clean = model::sanitize_utf8(value);
  DCS_FUZZ_CHECK(model::sanitize_utf8(clean) == clean);
  (void)nlohmann::json(clean).dump();                            // throws type_error on invalid UTF-8
  if (model::parse_json(value)) DCS_FUZZ_CHECK(clean == value);  // JSON text is valid UTF-8
  if (const auto group = model::citus_group(value)) DCS_FUZZ_CHECK(std::to_string(*group) == value);
  if (const auto version = parse_patroni_version(value)) {
    DCS_FUZZ_CHECK((*version)[0] >= 0 && (*version)[1] >= 0 && (*version)[2] >= 0);
  }
  (void)model::strip_ascii(value);
  (void)codec::parse_etcd_version(value);
  if (const auto parsed = model::parse_json(value)) {
    (void)model::python_int(*parsed);
    (void)model::python_truthy(*parsed);
    (void)model::python_str(*parsed);
  }
}

// etcd's answers read with the general decoders: a value or DecodeError.
void check_etcd_answers(std::string_view value) {
  const auto parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return;
  const auto decode = [&](const char* what, auto&& reader) {
    dcs::fuzz::only_typed_errors(
        what, [&] { (void)reader(parsed); }, /*allow_decode_error=*/true);
  };
  decode("member list", codec::decode_member_list_response);
  decode("status", codec::decode_status_response);
  decode("version", codec::decode_version_response);
  decode("authenticate", codec::decode_authenticate_response);
  decode("lease grant", codec::decode_lease_grant_response);
  decode("lease keepalive", codec::decode_lease_keepalive_message);
  decode("lease ttl", codec::decode_lease_time_to_live_response);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  dcs::fuzz::never_throws("model readers", [&] {
    check_parsers_agree(value);
    check_member(value);
    check_config(value);
    check_history(value);
    check_failover(value);
    check_sync(value);
    check_status(value);
    check_failsafe(value);
    check_python_helpers(value);
  });
  check_etcd_answers(value);
  return 0;
}
