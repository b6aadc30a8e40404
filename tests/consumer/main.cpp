// Exercises the installed headers and the exported symbols (including exception type info across
// the shared-library boundary) without needing a running etcd.
#include <cstdio>
#include <dcs/dcs.hpp>

int main() {
  using namespace dcs::etcd3;
  std::printf("libdcs %s\n", dcs::version_string);
  try {
    throw_client_error(404, R"({"error":"etcdserver: requested lease not found","code":5})");
  } catch (const NotFound& e) {
    if (dynamic_cast<const LeaseNotFound*>(&e) == nullptr) return 1;
  }
  try {
    Etcd3Client client(Etcd3Options{});
    return 2;  // an empty endpoint list must be refused
  } catch (const dcs::ConfigError& e) {
    std::printf("ConfigError as expected: %s\n", e.what());
  }
  std::printf("prefix end of 'a/' is '%s'\n", prefix_range_end("a/").c_str());
  return 0;
}
