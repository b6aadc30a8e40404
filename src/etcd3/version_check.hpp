// Which API prefix a cluster version needs, and which versions are refused.
#pragma once

#include <string>

#include "dcs/etcd3/cluster_info.hpp"

namespace dcs::etcd3::detail {

/// "/v3alpha" below 3.3, "/v3beta" for 3.3, "/v3" from 3.4. Throws UnsupportedEtcdVersion for a
/// server below 3.0.4 or a cluster below 3.0 (as Patroni does), Unavailable while a new cluster's
/// version is still "not_decided", and MalformedResponse for a version that cannot be read.
std::string select_api_prefix(const VersionInfo& info);

/// Whether the cluster version has watches (3.1 and later; spec 4.4): below that Patroni starts no
/// watcher cache and every read goes to etcd. False for a version that cannot be read.
bool supports_watch(const VersionInfo& info);

}  // namespace dcs::etcd3::detail
