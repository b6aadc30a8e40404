// JSON codecs of the Cluster, Maintenance and Auth calls the client uses.
#pragma once

#include "codec/json_fields.hpp"
#include "dcs/etcd3/cluster_info.hpp"

namespace dcs::codec {

etcd3::MemberListResponse decode_member_list_response(const json& response);
etcd3::StatusResponse decode_status_response(const json& response);
etcd3::VersionInfo decode_version_response(const json& response);
etcd3::AuthenticateResponse decode_authenticate_response(const json& response);

/// Reads "3.4.23", "3.5.0-rc.1", "3.6": each component up to its first non-digit. nullopt when
/// the text does not start with a number.
std::optional<etcd3::EtcdVersion> parse_etcd_version(std::string_view text);

}  // namespace dcs::codec
