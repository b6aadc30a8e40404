// The TLS and auth parts of the test harness (support/etcd_process, support/test_pki), checked
// against a real etcd with raw libcurl only: Etcd3Client does not speak TLS yet. Expected
// behaviour is the tested matrix of spec section 10.3 and the auth flow of section 7.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "integration/etcd_fixture.hpp"
#include "support/etcd_process.hpp"

namespace dcs::itest {
namespace {

using dcs::testing::base64;
using dcs::testing::ClientTls;
using dcs::testing::EtcdProcessError;
using dcs::testing::http_request;
using dcs::testing::HttpRequest;
using dcs::testing::HttpResult;
using dcs::testing::Permission;

constexpr const char* kRootPassword = "tls-r00t-pw";
constexpr const char* kGatewayCnError =
    "CommonName of client sending a request against gateway will be ignored and not used as expected";

std::string range_body(std::string_view key) {
  return R"({"key":")" + base64(key) + R"("})";
}
std::string put_body(std::string_view key, std::string_view value) {
  return R"({"key":")" + base64(key) + R"(","value":")" + base64(value) + R"("})";
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

HttpResult post(const std::string& url, const std::string& body, const ClientTls& tls, const std::string& token = {}) {
  return http_request({.url = url, .body = body, .token = token, .tls = tls});
}

// Waits (bounded) until the member's log mentions `text`: etcd logs why it refused a handshake.
bool log_mentions(const EtcdProcess& etcd, std::string_view text) {
  return eventually([&] { return contains(etcd.log_tail(0, 1 << 20), text); });
}

// One TLS etcd with auth on (root, plus alice with READ on /app/) for the whole suite.
class TlsAuthHarnessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      EtcdProcess::Options options;
      options.tls = true;
      options.extra_flags = {"--auth-token=simple", "--auth-token-ttl=300"};
      etcd_ = std::make_unique<EtcdProcess>(std::move(options));
      etcd_->enable_auth(kRootPassword);
      etcd_->add_user("alice", "alice-pw", Permission::read, "/app/");
    } catch (const std::exception& e) {
      start_error_ = e.what();
      etcd_.reset();
    }
  }
  static void TearDownTestSuite() { etcd_.reset(); }
  void SetUp() override { ASSERT_NE(etcd_, nullptr) << "TLS etcd could not be started: " << start_error_; }

  static EtcdProcess& etcd() { return *etcd_; }
  static std::string url(std::string_view path) { return etcd_->endpoint() + std::string(path); }
  static std::string root_token() { return etcd_->authenticate("root", kRootPassword); }

  inline static std::unique_ptr<EtcdProcess> etcd_;
  inline static std::string start_error_;
};

TEST_F(TlsAuthHarnessTest, ExposesHttpsEndpointsAndPkiFiles) {
  EXPECT_TRUE(etcd().tls());
  EXPECT_TRUE(etcd().auth_enabled());
  EXPECT_EQ(etcd().root_password(), kRootPassword);
  EXPECT_EQ(etcd().endpoint().rfind("https://127.0.0.1:", 0), 0u) << etcd().endpoint();
  ASSERT_EQ(etcd().endpoints().size(), 1u);
  EXPECT_EQ(etcd().endpoints()[0], etcd().endpoint());
  const auto& pki = etcd().pki();
  for (const std::string* file :
       {&pki.ca, &pki.wrong_ca, &pki.server_cert, &pki.server_key, &pki.client_cert, &pki.client_key,
        &pki.cn_client_cert, &pki.cn_client_key, &pki.wrong_ca_client_cert, &pki.wrong_ca_client_key}) {
    EXPECT_EQ(file->rfind(etcd().dir() + "/pki/", 0), 0u) << *file;
    EXPECT_TRUE(std::ifstream(*file).good()) << *file;
  }
  const ClientTls tls = etcd().client_tls();
  EXPECT_EQ(tls.ca, pki.ca);
  EXPECT_EQ(tls.cert, pki.client_cert);
  EXPECT_EQ(tls.key, pki.client_key);
}

TEST_F(TlsAuthHarnessTest, CnLessCertRightCaAndTokenIsServed) {
  const std::string token = root_token();
  ASSERT_FALSE(token.empty());
  const auto& pki = etcd().pki();
  const ClientTls tls{pki.ca, pki.client_cert, pki.client_key};

  const HttpResult put = post(url("/v3/kv/put"), put_body("/tls/k", "v1"), tls, token);
  ASSERT_EQ(put.status, 200) << put.body;
  const HttpResult range = post(url("/v3/kv/range"), range_body("/tls/k"), tls, token);
  ASSERT_EQ(range.status, 200) << range.body;
  EXPECT_TRUE(contains(range.body, R"("value":")" + base64("v1") + '"')) << range.body;
  EXPECT_TRUE(contains(range.content_type, "application/json")) << range.content_type;

  // The server certificate's SAN also names localhost.
  const std::string localhost = "https://localhost:" + etcd().endpoint().substr(etcd().endpoint().rfind(':') + 1);
  const HttpResult by_name = post(localhost + "/v3/kv/range", range_body("/tls/k"), tls, token);
  EXPECT_EQ(by_name.status, 200) << by_name.body;
}

TEST_F(TlsAuthHarnessTest, NoClientCertFailsTheHandshake) {
  const HttpResult result = post(url("/v3/kv/range"), range_body("/tls/k"), {.ca = etcd().pki().ca}, root_token());
  EXPECT_EQ(result.status, 0) << result.body;
  // TLS 1.3: the server's alert arrives after curl's side of the handshake (56); TLS 1.2: 35.
  EXPECT_TRUE(result.curl_code == CURLE_RECV_ERROR || result.curl_code == CURLE_SSL_CONNECT_ERROR ||
              result.curl_code == CURLE_SEND_ERROR)
      << result.curl_code << " " << result.body;
  EXPECT_TRUE(log_mentions(etcd(), "didn't provide a certificate")) << etcd().log_tail(0);
}

TEST_F(TlsAuthHarnessTest, WrongCaFailsServerVerification) {
  const auto& pki = etcd().pki();
  const HttpResult result =
      post(url("/v3/kv/range"), range_body("/tls/k"), {pki.wrong_ca, pki.client_cert, pki.client_key}, root_token());
  EXPECT_EQ(result.status, 0) << result.body;
  EXPECT_EQ(result.curl_code, CURLE_PEER_FAILED_VERIFICATION) << result.body;
}

TEST_F(TlsAuthHarnessTest, ClientCertFromAnotherCaIsRejected) {
  const auto& pki = etcd().pki();
  const HttpResult result = post(url("/v3/kv/range"), range_body("/tls/k"),
                                 {pki.ca, pki.wrong_ca_client_cert, pki.wrong_ca_client_key}, root_token());
  EXPECT_EQ(result.status, 0) << result.body;
  EXPECT_NE(result.curl_code, CURLE_OK);
  EXPECT_TRUE(log_mentions(etcd(), "certificate signed by unknown authority")) << etcd().log_tail(0);
}

TEST_F(TlsAuthHarnessTest, CnCertIsRejectedByTheGatewayWhenAuthIsOn) {
  const auto& pki = etcd().pki();
  const HttpResult result =
      post(url("/v3/kv/range"), range_body("/tls/k"), {pki.ca, pki.cn_client_cert, pki.cn_client_key}, root_token());
  EXPECT_EQ(result.status, 400) << result.body;
  EXPECT_EQ(result.content_type.rfind("text/plain", 0), 0u) << result.content_type;
  EXPECT_TRUE(contains(result.body, kGatewayCnError)) << result.body;
}

TEST_F(TlsAuthHarnessTest, NoTokenIsUserNameIsEmpty) {
  const HttpResult result = post(url("/v3/kv/range"), range_body("/tls/k"), etcd().client_tls());
  EXPECT_EQ(result.status, 400) << result.body;
  EXPECT_TRUE(contains(result.body, "etcdserver: user name is empty")) << result.body;
}

TEST_F(TlsAuthHarnessTest, AddedUserHasExactlyItsPrefixPermission) {
  const std::string root = root_token();
  ASSERT_EQ(etcd().post("/v3/kv/put", put_body("/app/x", "1"), root).status, 200);

  const std::string alice = etcd().authenticate("alice", "alice-pw");
  const HttpResult read = etcd().post("/v3/kv/range", range_body("/app/x"), alice);
  EXPECT_EQ(read.status, 200) << read.body;
  const HttpResult write = etcd().post("/v3/kv/put", put_body("/app/x", "2"), alice);
  EXPECT_EQ(write.status, 403) << write.body;
  EXPECT_TRUE(contains(write.body, "permission denied")) << write.body;
  const HttpResult outside = etcd().post("/v3/kv/range", range_body("/apq"), alice);
  EXPECT_EQ(outside.status, 403) << outside.body;

  EXPECT_THROW(etcd().authenticate("alice", "wrong"), EtcdProcessError);
}

// One TLS etcd without auth.
class TlsHarnessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      EtcdProcess::Options options;
      options.tls = true;
      etcd_ = std::make_unique<EtcdProcess>(std::move(options));
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { etcd_.reset(); }
  void SetUp() override { ASSERT_NE(etcd_, nullptr) << "TLS etcd could not be started: " << start_error_; }

  inline static std::unique_ptr<EtcdProcess> etcd_;
  inline static std::string start_error_;
};

TEST_F(TlsHarnessTest, CnCertIsAcceptedWithoutAuth) {
  const auto& pki = etcd_->pki();
  const HttpResult result =
      post(etcd_->endpoint() + "/v3/kv/range", range_body("/k"), {pki.ca, pki.cn_client_cert, pki.cn_client_key});
  EXPECT_EQ(result.status, 200) << result.body;
}

TEST_F(TlsHarnessTest, PlainHttpToTheTlsPortGetsNoAnswer) {
  std::string plain = etcd_->endpoint();
  plain.replace(0, std::string_view("https").size(), "http");
  const HttpResult result = http_request({.url = plain + "/v3/kv/range", .body = range_body("/k")});
  EXPECT_EQ(result.status, 0) << result.body;
  EXPECT_NE(result.curl_code, CURLE_OK);
}

TEST_F(TlsHarnessTest, RestartWaitsForReadinessOverTls) {
  ASSERT_EQ(etcd_->post("/v3/kv/put", put_body("/restart", "before")).status, 200);
  etcd_->signal(0, SIGKILL);
  EXPECT_FALSE(etcd_->running(0));
  etcd_->restart(0);
  EXPECT_TRUE(etcd_->running(0));
  const HttpResult result = etcd_->post("/v3/kv/range", range_body("/restart"));
  EXPECT_EQ(result.status, 200) << result.body;
  EXPECT_TRUE(contains(result.body, base64("before"))) << result.body;
}

// The generated certificates have the properties of the spec's recipe (section 10.1).
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
std::unique_ptr<X509, X509Free> read_cert(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return nullptr;
  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  return cert;
}
std::string subject_of(X509* cert) {
  char text[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), text, sizeof(text));
  return text;
}

TEST_F(TlsHarnessTest, CertificatesFollowTheRecipe) {
  const auto& pki = etcd_->pki();
  const auto ca = read_cert(pki.ca);
  const auto wrong_ca = read_cert(pki.wrong_ca);
  const auto server = read_cert(pki.server_cert);
  const auto client = read_cert(pki.client_cert);
  const auto cn_client = read_cert(pki.cn_client_cert);
  const auto foreign_client = read_cert(pki.wrong_ca_client_cert);
  ASSERT_TRUE(ca && wrong_ca && server && client && cn_client && foreign_client);

  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(wrong_ca.get()), 1);
  EXPECT_NE(subject_of(ca.get()), subject_of(wrong_ca.get()));

  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_get_extended_key_usage(server.get()), static_cast<std::uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_EQ(X509_check_issued(ca.get(), server.get()), X509_V_OK);

  EXPECT_EQ(subject_of(client.get()), "/O=etcd-client");
  EXPECT_EQ(X509_get_extended_key_usage(client.get()), static_cast<std::uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(X509_check_issued(ca.get(), client.get()), X509_V_OK);

  EXPECT_EQ(subject_of(cn_client.get()), "/CN=root");
  EXPECT_EQ(X509_get_extended_key_usage(cn_client.get()), static_cast<std::uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(X509_check_issued(ca.get(), cn_client.get()), X509_V_OK);

  EXPECT_EQ(X509_check_issued(wrong_ca.get(), foreign_client.get()), X509_V_OK);
  EXPECT_NE(X509_check_issued(ca.get(), foreign_client.get()), X509_V_OK);
}

// Auth on a plain-http etcd: add_user before enable_auth, the helpers' error paths.
TEST(PlainAuthHarnessTest, EnableAuthAndAddUserWithoutTls) {
  EtcdProcess etcd;
  EXPECT_FALSE(etcd.tls());
  EXPECT_THROW(etcd.pki(), EtcdProcessError);
  const ClientTls none = etcd.client_tls();
  EXPECT_TRUE(none.ca.empty() && none.cert.empty() && none.key.empty());
  EXPECT_FALSE(etcd.auth_enabled());

  etcd.add_user("bob", "bob-pw", Permission::readwrite, "/bob/");  // before auth: no token needed
  etcd.enable_auth(kRootPassword);
  EXPECT_TRUE(etcd.auth_enabled());
  EXPECT_THROW(etcd.enable_auth(kRootPassword), EtcdProcessError);
  etcd.add_user("carol", "carol-pw", Permission::write, "/carol/");  // after auth: as root

  const HttpResult anonymous = etcd.post("/v3/kv/range", range_body("/bob/k"));
  EXPECT_EQ(anonymous.status, 400) << anonymous.body;
  EXPECT_TRUE(contains(anonymous.body, "user name is empty")) << anonymous.body;

  const std::string bob = etcd.authenticate("bob", "bob-pw");
  EXPECT_EQ(etcd.post("/v3/kv/put", put_body("/bob/k", "v"), bob).status, 200);
  EXPECT_EQ(etcd.post("/v3/kv/range", range_body("/bob/k"), bob).status, 200);
  EXPECT_EQ(etcd.post("/v3/kv/put", put_body("/carol/k", "v"), bob).status, 403);

  const std::string carol = etcd.authenticate("carol", "carol-pw");
  EXPECT_EQ(etcd.post("/v3/kv/put", put_body("/carol/k", "v"), carol).status, 200);
  EXPECT_EQ(etcd.post("/v3/kv/range", range_body("/carol/k"), carol).status, 403);  // WRITE only

  EXPECT_THROW(etcd.add_user("dave", "pw", Permission::read, ""), EtcdProcessError);
}

TEST(Base64Test, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\xfe", 3)), "/wD+");
}

}  // namespace
}  // namespace dcs::itest
