// ha_daemon's own settings beyond the DCS ones: where the member says it can be reached, its
// tags and the dynamic configuration it stores when it bootstraps the cluster. Read from the same
// Patroni-style file (postgresql.connect_address, restapi.connect_address, tags, bootstrap.dcs)
// and from flags, which win.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "common/args.hpp"
#include "dcs/etcd3/config.hpp"
#include "ha_daemon/ha_node.hpp"

namespace dcs_examples {

/// The options ha_daemon adds to the shared DCS ones.
std::vector<OptionSpec> daemon_option_specs();

/// Fills name, conn_url, api_url, tags and bootstrap_config from the configuration (after the
/// flags were applied to it) and the daemon flags. Throws UsageError for a missing name or scope
/// or a malformed --tag.
NodeSettings node_settings(const nlohmann::json& config, const Args& args, const dcs::etcd3::Etcd3Options& options);

}  // namespace dcs_examples
