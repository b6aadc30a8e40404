// The EtcdProcess helper itself: binary lookup, environment hygiene and clean-up.
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <optional>

#include "integration/etcd_fixture.hpp"

namespace dcs::itest {
namespace {

using dcs::testing::EtcdProcessError;
using dcs::testing::http_get;

// Sets an environment variable for the scope of one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

TEST(EtcdProcessTest, StartsAnswersAndCleansUp) {
  pid_t pid = -1;
  std::string dir;
  std::string endpoint;
  {
    EtcdProcess etcd;
    pid = etcd.pid(0);
    dir = etcd.dir();
    endpoint = etcd.endpoint();
    EXPECT_GT(pid, 0);
    EXPECT_TRUE(etcd.running(0));
    EXPECT_EQ(etcd.size(), 1u);
    EXPECT_EQ(etcd.name(0), "n1");
    EXPECT_TRUE(exists(dir + "/n1.data"));
    EXPECT_TRUE(exists(etcd.log_path(0)));
    EXPECT_EQ(http_get(endpoint + "/version").status, 200);
  }
  EXPECT_NE(::kill(pid, 0), 0) << "etcd still runs after the destructor";
  EXPECT_EQ(errno, ESRCH);
  EXPECT_FALSE(exists(dir)) << dir << " was not removed";
  EXPECT_EQ(http_get(endpoint + "/version", std::chrono::milliseconds{2000}).status, 0);
}

TEST(EtcdProcessTest, EtcdVariablesDoNotReachTheChild) {
  // etcd turns ETCD_NAME into --name and refuses to start when both are given.
  ScopedEnv conflicting("ETCD_NAME", "conflict");
  EtcdProcess etcd;
  Etcd3Client client(client_options({etcd.endpoint()}));
  EXPECT_EQ(client.member_list().members.at(0).name, "n1");
}

TEST(EtcdProcessTest, ExtraFlagsArePassed) {
  EtcdProcess::Options options;
  options.extra_flags = {"--max-txn-ops=2"};
  EtcdProcess etcd(options);
  Etcd3Client client(client_options({etcd.endpoint()}));
  TxnRequest txn;
  for (const char* name : {"/a", "/b", "/c"}) {
    PutRequest put;
    put.key = name;
    txn.success.push_back(RequestOp{put});
  }
  EXPECT_THROW(client.txn(txn), InvalidArgument);  // too many operations for --max-txn-ops=2
}

TEST(EtcdProcessTest, MissingBinaryFailsLoudly) {
  ScopedEnv missing("DCS_ETCD_BIN", "/nonexistent/etcd");
  try {
    EtcdProcess etcd;
    FAIL() << "started without an etcd binary";
  } catch (const EtcdProcessError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/etcd"), std::string::npos) << e.what();
  }
}

TEST(EtcdProcessTest, SignalAndRestartASingleNode) {
  EtcdProcess etcd;
  etcd.signal(0, SIGKILL);
  EXPECT_FALSE(etcd.running(0));
  EXPECT_THROW(etcd.signal(0, SIGSTOP), EtcdProcessError);
  etcd.restart(0);
  EXPECT_TRUE(etcd.running(0));
  EXPECT_THROW(etcd.restart(0), EtcdProcessError);
  Etcd3Client client(client_options({etcd.endpoint()}));
  EXPECT_EQ(client.member_list().members.size(), 1u);
}

}  // namespace
}  // namespace dcs::itest
