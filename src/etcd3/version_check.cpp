#include "etcd3/version_check.hpp"

#include "codec/cluster_codec.hpp"
#include "dcs/etcd3/errors.hpp"

namespace dcs::etcd3::detail {

std::string select_api_prefix(const VersionInfo& info) {
  if (info.cluster == "not_decided") {
    // A freshly started cluster answers this until its members agree on a version: the member is
    // not ready yet, which is an availability problem, not a malformed answer.
    throw Unavailable("etcd cluster version is not decided yet", 200, std::nullopt);
  }
  const auto server = codec::parse_etcd_version(info.server);
  const auto cluster = codec::parse_etcd_version(info.cluster);
  if (!server || !cluster) {
    throw MalformedResponse("unreadable etcd version: server '" + info.server + "', cluster '" + info.cluster + "'",
                            200);
  }
  if (*cluster < EtcdVersion{3, 0, 0} || *server < EtcdVersion{3, 0, 4}) {
    throw UnsupportedEtcdVersion("Detected Etcd version " + info.server + " is lower than 3.0.4");
  }
  if (*cluster < EtcdVersion{3, 3, 0}) return "/v3alpha";
  if (*cluster < EtcdVersion{3, 4, 0}) return "/v3beta";
  return "/v3";
}

bool supports_watch(const VersionInfo& info) {
  const auto cluster = codec::parse_etcd_version(info.cluster);
  return cluster && !(*cluster < EtcdVersion{3, 1, 0});
}

}  // namespace dcs::etcd3::detail
