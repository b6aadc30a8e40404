// A whole get_cluster over an arbitrary etcd range answer, in-process: the body goes through the
// client's decode path for range answers (the simdjson fast decoder, and the general nlohmann
// decoder it falls back to), the keys through the loaders (Cluster::from_keys and from_citus_keys)
// and through the watcher cache's per-key patcher (model::apply_key_change).
//
// Invariants:
//  - the general decoder yields a RangeResponse or a typed error (DecodeError / dcs::Error);
//  - whatever the fast decoder accepts, the general decoder decodes to the same response and
//    header (fast_decode.hpp: it changes the speed of decoding, never its outcome);
//  - the loaders never throw, and a re-read with the previous view gives the same view;
//  - patching key by key (puts, then deletions) gives the view a fresh load gives.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/fast_decode.hpp"
#include "codec/kv_codec.hpp"
#include "dcs/etcd3/errors.hpp"
#include "fuzz_support.hpp"
#include "model/cluster_patch.hpp"

using namespace dcs;
using dcs::codec::json;

namespace {

// The scope prefix the seeds use; keys outside it are taken as already relative, so that the
// fuzzer can also reach the loaders with keys it invents from scratch.
constexpr std::string_view kPrefix = "/service/demo/";

bool same_header(const etcd3::ResponseHeader& a, const etcd3::ResponseHeader& b) {
  return a.cluster_id == b.cluster_id && a.member_id == b.member_id && a.revision == b.revision &&
         a.raft_term == b.raft_term;
}

// Etcd3Client::Impl::interpret + decode_range_response, as Etcd3Client::range runs them when the
// fast decoder declines.
std::optional<etcd3::RangeResponse> general_decode(const std::string& body) {
  std::optional<etcd3::RangeResponse> out;
  dcs::fuzz::only_typed_errors(
      "range decode",
      [&] {
        const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
        if (parsed.is_discarded() || !parsed.is_object()) return;  // MalformedResponse
        if (auto error = parsed.find("error"); error != parsed.end() && error->is_object()) {
          etcd3::throw_client_error(200, body);
        }
        const auto header = codec::decode_header(parsed);
        out = codec::decode_range_response(parsed);
        DCS_FUZZ_CHECK(same_header(header, out->header));
      },
      /*allow_decode_error=*/true);
  return out;
}

void check_view(const Cluster& cluster) {
  (void)cluster.leader_name();
  (void)cluster.timeline();
  (void)cluster.min_version();
  (void)cluster.is_empty();
  (void)cluster.get_member("a");
  for (std::size_t i = 0; i < cluster.members.size(); ++i) {
    DCS_FUZZ_CHECK(cluster.members[i] != nullptr);
    if (i > 0) DCS_FUZZ_CHECK(cluster.members[i - 1]->name < cluster.members[i]->name);
    DCS_FUZZ_CHECK(cluster.has_member(cluster.members[i]->name));
  }
  if (cluster.leader) DCS_FUZZ_CHECK(cluster.get_member(cluster.leader->name()).has_value());
  for (const auto& [group, worker] : cluster.workers) {
    DCS_FUZZ_CHECK(group > 0 && worker != nullptr);
    check_view(*worker);
  }
}

void check_loaders(const std::vector<StoredKey>& keys, bool citus) {
  const auto load = [citus](const std::vector<StoredKey>& list, const Cluster* previous) {
    return citus ? Cluster::from_citus_keys(list, previous) : Cluster::from_keys(list, previous);
  };
  Cluster fresh;
  dcs::fuzz::never_throws("Cluster loader", [&] {
    fresh = load(keys, nullptr);
    check_view(fresh);
    DCS_FUZZ_CHECK(load(keys, &fresh) == fresh);
  });

  // The watcher cache's view: the same keys put one by one, then deleted one by one.
  dcs::fuzz::never_throws("cluster patch", [&] {
    model::KeyIndex index;
    auto view = model::build_cluster(index, citus);
    for (const auto& key : keys) {
      index[key.key] = key;
      view = model::apply_key_change(view, index, key.key, citus);
      DCS_FUZZ_CHECK(*view == *model::build_cluster(index, citus));
    }
    DCS_FUZZ_CHECK(*view == fresh);
    while (!index.empty()) {
      // Deletions in an order unrelated to the key order: every other key from the middle.
      auto it = index.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(index.size() / 2));
      const std::string removed = it->first;
      index.erase(it);
      view = model::apply_key_change(view, index, removed, citus);
      DCS_FUZZ_CHECK(*view == *model::build_cluster(index, citus));
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  std::string fast_body = input;  // the fast decoder may grow its capacity
  etcd3::ResponseHeader fast_header;
  etcd3::RangeResponse fast_response;
  const bool fast = codec::fast_decode_range(fast_body, fast_header, fast_response);
  DCS_FUZZ_CHECK(fast_body == input);
  const auto general = general_decode(input);
  if (fast) {
    DCS_FUZZ_CHECK(general.has_value());
    DCS_FUZZ_CHECK(same_header(fast_header, general->header));
    DCS_FUZZ_CHECK(same_header(fast_response.header, general->header));
    DCS_FUZZ_CHECK(fast_response.kvs == general->kvs);
    DCS_FUZZ_CHECK(fast_response.more == general->more);
    DCS_FUZZ_CHECK(fast_response.count == general->count);
  }
  if (!general) return 0;

  // Etcd3's to_stored_keys + AbstractDCS's relative_to.
  std::vector<StoredKey> keys;
  for (const auto& kv : general->kvs) {
    std::string key = kv.key;
    if (key.starts_with(kPrefix)) key.erase(0, kPrefix.size());
    keys.push_back(StoredKey{std::move(key), kv.value, kv.mod_revision, kv.lease});
  }
  check_loaders(keys, /*citus=*/false);
  check_loaders(keys, /*citus=*/true);
  return 0;
}
