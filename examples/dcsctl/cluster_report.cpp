#include "dcsctl/cluster_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace dcs_examples {
namespace {

using dcs::Cluster;
using dcs::Member;
using nlohmann::json;

json parse_or_text(const std::string& text) {
  json value = json::parse(text, nullptr, false);
  return value.is_discarded() ? json(text) : value;
}

std::string role_of(const Member& member, const Cluster& cluster) {
  if (member.name == cluster.leader_name()) {
    const json* standby = nullptr;
    if (cluster.config && cluster.config->modify_version != 0) {
      const auto it = cluster.config->data.find("standby_cluster");
      if (it != cluster.config->data.end()) standby = &*it;
    }
    return standby != nullptr && standby->is_object() && !standby->empty() ? "standby_leader" : "leader";
  }
  if (cluster.sync.matches(member.name)) return "sync_standby";
  return "replica";
}

// host[:port] of a postgres://user@host:port/db URL.
std::pair<std::string, std::string> host_port(const std::string& conn_url) {
  auto rest = conn_url;
  if (const auto scheme = rest.find("://"); scheme != std::string::npos) rest = rest.substr(scheme + 3);
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  if (const auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close != std::string::npos) {
      const auto port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2) : "";
      return {rest.substr(1, close - 1), port};
    }
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) return {rest, ""};
  return {rest.substr(0, colon), rest.substr(colon + 1)};
}

json group_json(const Cluster& cluster) {
  json out = json::object();
  out["leader"] = cluster.leader ? json(cluster.leader_name()) : json(nullptr);
  json members = json::array();
  std::vector<dcs::MemberPtr> sorted = cluster.members.items();
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
  for (const auto& m : sorted) {
    json member = {{"name", m->name},
                   {"role", role_of(*m, cluster)},
                   {"state", m->state()},
                   {"api_url", m->api_url().empty() ? json(nullptr) : json(m->api_url())},
                   {"conn_url", m->conn_url().empty() ? json(nullptr) : json(m->conn_url())}};
    const auto tl = m->data.find("timeline");
    member["timeline"] = tl != m->data.end() ? *tl : json(nullptr);
    json lag = nullptr;
    if (m->name != cluster.leader_name()) {
      if (const auto lsn = m->lsn()) lag = std::max<std::int64_t>(0, cluster.last_lsn() - *lsn);
    }
    member["lag"] = lag;
    member["tags"] = m->tags();
    if (const auto pending = m->data.find("pending_restart"); pending != m->data.end()) {
      member["pending_restart"] = *pending;
    }
    members.push_back(std::move(member));
  }
  out["members"] = std::move(members);
  out["config"] = cluster.config ? cluster.config->data : json(nullptr);
  out["failover"] = cluster.failover
                        ? parse_or_text(dcs::Failover::value(cluster.failover->leader, cluster.failover->candidate,
                                                             cluster.failover->scheduled_at))
                        : json(nullptr);
  if (cluster.sync.version != 0) {
    out["sync"] = {{"leader", cluster.sync.leader ? json(*cluster.sync.leader) : json(nullptr)},
                   {"sync_standby", cluster.sync.sync_standby ? json(*cluster.sync.sync_standby) : json(nullptr)},
                   {"quorum", cluster.sync.quorum}};
  } else {
    out["sync"] = nullptr;
  }
  out["history"] = cluster.history ? parse_or_text(cluster.history->value) : json(nullptr);
  out["status"] = cluster.status.is_empty() ? json(nullptr) : cluster.status.to_json();
  out["failsafe"] = cluster.failsafe ? *cluster.failsafe : json(nullptr);
  out["initialize"] = cluster.initialize ? json(*cluster.initialize) : json(nullptr);
  return out;
}

std::string title_case_role(const std::string& role) {
  std::string out;
  bool upper = true;
  for (char c : role) {
    if (c == '_') {
      out += ' ';
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out;
}

std::string cell(const json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string tags_cell(const json& tags) {
  if (!tags.is_object() || tags.empty()) return "";
  std::string out;
  for (const auto& [key, value] : tags.items()) {
    if (!out.empty()) out += ", ";
    out += key + ": " + cell(value);
  }
  return out;
}

std::string text_or_none(const json& value) {
  return value.is_null() ? "none" : cell(value);
}

}  // namespace

json cluster_to_json(const std::string& scope, const Cluster& cluster, bool citus) {
  json out = {{"scope", scope}};
  out.update(group_json(cluster));
  if (citus) {
    out["group"] = 0;
    json workers = json::object();
    for (const auto& [group, worker] : cluster.workers) {
      json w = group_json(*worker);
      w["group"] = group;
      workers[std::to_string(group)] = std::move(w);
    }
    out["workers"] = std::move(workers);
  }
  return out;
}

std::string render_table(const std::string& scope, const Cluster& cluster, bool citus) {
  std::map<int, json> groups;
  groups[0] = group_json(cluster);
  if (citus) {
    for (const auto& [group, worker] : cluster.workers) groups[group] = group_json(*worker);
  }

  // patronictl shows host:port when a port is not the default or two members share a host.
  bool with_port = false;
  std::set<std::string> hosts;
  std::size_t member_count = 0;
  bool any_pending = false, any_tags = false;
  for (const auto& [group, g] : groups) {
    for (const auto& m : g["members"]) {
      const auto [host, port] = host_port(cell(m["conn_url"]));
      with_port = with_port || (!port.empty() && port != "5432");
      hosts.insert(host);
      ++member_count;
      any_pending = any_pending || (m.contains("pending_restart") && m["pending_restart"] == true);
      any_tags = any_tags || (m["tags"].is_object() && !m["tags"].empty());
    }
  }
  with_port = with_port || hosts.size() < member_count;

  std::vector<std::string> columns = {"Cluster", "Member", "Host", "Role", "State", "TL", "Lag in MB"};
  if (citus) columns.insert(columns.begin() + 1, "Group");
  if (any_pending) columns.push_back("Pending restart");
  if (any_tags) columns.push_back("Tags");

  std::vector<std::vector<std::string>> rows;
  for (const auto& [group, g] : groups) {
    for (const auto& m : g["members"]) {
      const auto [host, port] = host_port(cell(m["conn_url"]));
      std::string lag;
      if (m["name"] != g["leader"]) {
        lag = m["lag"].is_number_integer()
                  ? std::to_string(std::llround(static_cast<double>(m["lag"].get<std::int64_t>()) / 1048576.0))
                  : "unknown";
      }
      std::vector<std::string> row = {scope,
                                      cell(m["name"]),
                                      with_port && !port.empty() ? host + ":" + port : host,
                                      title_case_role(cell(m["role"])),
                                      cell(m["state"]),
                                      cell(m["timeline"]),
                                      lag};
      if (citus) row.insert(row.begin() + 1, std::to_string(group));
      if (any_pending) row.push_back(m.contains("pending_restart") && m["pending_restart"] == true ? "*" : "");
      if (any_tags) row.push_back(tags_cell(m["tags"]));
      rows.push_back(std::move(row));
    }
  }

  std::vector<std::size_t> widths;
  for (const auto& c : columns) widths.push_back(c.size());
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  const auto right_aligned = [&](std::size_t i) {
    return columns[i] == "TL" || columns[i] == "Lag in MB" || columns[i] == "Group";
  };
  const auto line = [&](const std::vector<std::string>& values) {
    std::string out = "|";
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string pad(widths[i] - values[i].size(), ' ');
      out += " " + (right_aligned(i) ? pad + values[i] : values[i] + pad) + " |";
    }
    return out + "\n";
  };
  std::string rule = "+";
  for (const auto w : widths) rule += std::string(w + 2, '-') + "+";
  rule += "\n";

  const std::string initialize = !cluster.initialize           ? "uninitialized"
                                 : cluster.initialize->empty() ? "initializing"
                                                               : *cluster.initialize;
  std::string title = std::string(citus ? " Citus cluster: " : " Cluster: ") + scope + " (" + initialize + ") ";
  std::string top = rule;
  if (title.size() + 2 < top.size()) top.replace(1, title.size(), title);

  std::string out = top + line(columns) + rule;
  for (const auto& row : rows) out += line(row);
  out += rule;
  for (const auto& [group, g] : groups) {
    const json& failover = g["failover"];
    if (failover.is_object() && failover.contains("scheduled_at")) {
      out += std::string(citus ? " Group " + std::to_string(group) + ":" : "") +
             " Switchover scheduled at: " + cell(failover["scheduled_at"]) +
             (failover.contains("leader") ? " from " + cell(failover["leader"]) : "") +
             (failover.contains("member") ? " to " + cell(failover["member"]) : "") + "\n";
    }
  }
  return out;
}

std::vector<std::string> describe_changes(const json& before, const json& after) {
  std::vector<std::string> lines;
  const auto prefix = [](const json& doc) {
    return doc.contains("group") ? "group " + std::to_string(doc["group"].get<int>()) + " " : std::string();
  };
  const auto compare_group = [&](const json& b, const json& a) {
    const std::string p = prefix(a);
    if (b.is_null() || b["leader"] != a["leader"]) {
      lines.push_back(p + "leader: " + (b.is_null() ? "" : text_or_none(b["leader"]) + " -> ") +
                      text_or_none(a["leader"]));
    }
    std::map<std::string, json> old_members, new_members;
    if (!b.is_null()) {
      for (const auto& m : b["members"]) old_members[m["name"].get<std::string>()] = m;
    }
    for (const auto& m : a["members"]) new_members[m["name"].get<std::string>()] = m;
    for (const auto& [name, m] : new_members) {
      const auto it = old_members.find(name);
      if (it == old_members.end()) {
        lines.push_back(p + "member " + name + ": " + cell(m["role"]) + ", " + cell(m["state"]) + ", timeline " +
                        text_or_none(m["timeline"]));
        continue;
      }
      for (const char* field : {"role", "state", "timeline", "tags", "api_url", "conn_url"}) {
        if (it->second[field] != m[field]) {
          lines.push_back(p + "member " + name + ": " + field + " " + text_or_none(it->second[field]) + " -> " +
                          text_or_none(m[field]));
        }
      }
    }
    for (const auto& [name, m] : old_members) {
      if (!new_members.count(name)) lines.push_back(p + "member " + name + ": gone");
    }
    for (const char* key : {"initialize", "config", "failover", "sync", "history", "failsafe"}) {
      const json old_value = b.is_null() ? json(nullptr) : b[key];
      if (old_value != a[key] && !(b.is_null() && a[key].is_null())) {
        lines.push_back(p + key + ": " + (a[key].is_null() ? std::string("removed") : a[key].dump()));
      }
    }
  };
  compare_group(before, after);
  if (after.contains("workers")) {
    for (const auto& [group, worker] : after["workers"].items()) {
      const json old_worker = !before.is_null() && before.contains("workers") && before["workers"].contains(group)
                                  ? before["workers"][group]
                                  : json(nullptr);
      compare_group(old_worker, worker);
    }
    if (!before.is_null() && before.contains("workers")) {
      for (const auto& [group, worker] : before["workers"].items()) {
        if (!after["workers"].contains(group)) lines.push_back("group " + group + ": gone");
      }
    }
  }
  return lines;
}

}  // namespace dcs_examples
