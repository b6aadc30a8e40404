#include "dcs/etcd3/kv.hpp"

#include "dcs/etcd3/txn.hpp"

namespace dcs::etcd3 {

std::string prefix_range_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  // Empty prefix or only 0xff bytes: everything from the key to the end of the keyspace.
  return std::string(1, '\0');
}

RangeRequest RangeRequest::with_prefix(std::string prefix) {
  RangeRequest request;
  request.range_end = prefix_range_end(prefix);
  request.key = std::move(prefix);
  return request;
}

namespace {
Compare make_compare(std::string key, CompareTarget target, CompareResult result, std::int64_t number,
                     std::string value = {}) {
  Compare c;
  c.key = std::move(key);
  c.target = target;
  c.result = result;
  c.number = number;
  c.value = std::move(value);
  return c;
}
}  // namespace

Compare Compare::version(std::string key, CompareResult result, std::int64_t version) {
  return make_compare(std::move(key), CompareTarget::version, result, version);
}
Compare Compare::create_revision(std::string key, CompareResult result, std::int64_t revision) {
  return make_compare(std::move(key), CompareTarget::create, result, revision);
}
Compare Compare::mod_revision(std::string key, CompareResult result, std::int64_t revision) {
  return make_compare(std::move(key), CompareTarget::mod, result, revision);
}
Compare Compare::value_of(std::string key, CompareResult result, std::string value) {
  return make_compare(std::move(key), CompareTarget::value, result, 0, std::move(value));
}
Compare Compare::lease(std::string key, CompareResult result, std::int64_t lease) {
  return make_compare(std::move(key), CompareTarget::lease, result, lease);
}

}  // namespace dcs::etcd3
