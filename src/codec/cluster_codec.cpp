#include "codec/cluster_codec.hpp"

#include <charconv>

namespace dcs::codec {

using namespace dcs::etcd3;

namespace {

std::vector<std::string> get_strings(const json& object, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& item : get_array(object, name)) {
    if (!item.is_string()) throw DecodeError("field '" + std::string(name) + "' should hold strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

MemberListResponse decode_member_list_response(const json& response) {
  MemberListResponse out;
  out.header = decode_header(response);
  for (const auto& m : get_array(response, "members")) {
    EtcdMember member;
    member.id = get_uint64(m, "ID");
    member.name = get_string(m, "name");
    member.peer_urls = get_strings(m, "peerURLs");
    member.client_urls = get_strings(m, "clientURLs");
    member.is_learner = get_bool(m, "isLearner");
    out.members.push_back(std::move(member));
  }
  return out;
}

StatusResponse decode_status_response(const json& response) {
  StatusResponse out;
  out.header = decode_header(response);
  out.version = get_string(response, "version");
  out.db_size = get_int64(response, "dbSize");
  out.leader = get_uint64(response, "leader");
  out.raft_index = get_uint64(response, "raftIndex");
  out.raft_term = get_uint64(response, "raftTerm");
  out.raft_applied_index = get_uint64(response, "raftAppliedIndex");
  out.errors = get_strings(response, "errors");
  out.db_size_in_use = get_int64(response, "dbSizeInUse");
  out.is_learner = get_bool(response, "isLearner");
  return out;
}

VersionInfo decode_version_response(const json& response) {
  VersionInfo out;
  out.server = get_string(response, "etcdserver");
  out.cluster = get_string(response, "etcdcluster");
  if (out.server.empty() || out.cluster.empty()) throw DecodeError("version answer lacks etcdserver/etcdcluster");
  return out;
}

AuthenticateResponse decode_authenticate_response(const json& response) {
  AuthenticateResponse out;
  out.header = decode_header(response);
  out.token = get_string(response, "token");
  if (out.token.empty()) throw DecodeError("authenticate answer carries no token");
  return out;
}

std::optional<EtcdVersion> parse_etcd_version(std::string_view text) {
  int parts[3] = {0, 0, 0};
  std::size_t pos = 0;
  for (int i = 0; i < 3 && pos <= text.size(); ++i) {
    const char* begin = text.data() + pos;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(begin, end, parts[i]);
    if (ec != std::errc{}) {
      if (i == 0) return std::nullopt;
      break;
    }
    pos = static_cast<std::size_t>(ptr - text.data());
    if (pos >= text.size() || text[pos] != '.') break;
    ++pos;
  }
  return EtcdVersion{parts[0], parts[1], parts[2]};
}

}  // namespace dcs::codec
