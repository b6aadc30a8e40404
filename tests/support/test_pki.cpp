#include "support/test_pki.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "support/etcd_process.hpp"

namespace dcs::testing {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct FileClose {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

// Throws with the step and OpenSSL's queued errors (clearing the queue).
[[noreturn]] void fail(std::string_view step) {
  std::string message = "test PKI: " + std::string(step) + " failed";
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    message += std::string("; ") + text;
  }
  throw EtcdProcessError(message);
}

void check(int ok, std::string_view step) {
  if (ok != 1) fail(step);
}

Pkey make_key() {
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) fail("EC P-256 key generation");
  return key;
}

struct Issuer {
  X509* cert;  // null: self-signed
  EVP_PKEY* key;
};

// `subject`: (field, value) pairs, e.g. {{"O", "etcd-client"}}. `extensions`: (name, value) in
// openssl.cnf syntax.
Cert make_cert(EVP_PKEY* key, std::initializer_list<std::pair<const char*, const char*>> subject, const Issuer& issuer,
               std::initializer_list<std::pair<const char*, const char*>> extensions) {
  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), 2), "X509_set_version");

  // A random positive 64-bit serial: certificates of different runs never share one.
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), &BN_free);
  if (!serial) fail("BN_new");
  check(BN_rand(serial.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand");
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) fail("BN_to_ASN1_INTEGER");

  // Valid from an hour ago (clock skew between us and etcd is impossible, but cheap to allow).
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr) fail("notBefore");
  if (X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600) == nullptr) fail("notAfter");

  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& [field, value] : subject) {
    check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value), -1, -1,
                                     0),
          std::string("subject ") + field);
  }
  X509* issuer_cert = issuer.cert != nullptr ? issuer.cert : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert)), "X509_set_issuer_name");
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");

  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer_cert, cert.get(), nullptr, nullptr, 0);
  for (const auto& [extension, value] : extensions) {
    X509_EXTENSION* made = X509V3_EXT_conf(nullptr, &context, extension, value);
    if (made == nullptr) fail(std::string("extension ") + extension + "=" + value);
    const int added = X509_add_ext(cert.get(), made, -1);
    X509_EXTENSION_free(made);
    check(added, std::string("X509_add_ext ") + extension);
  }
  if (X509_sign(cert.get(), issuer.key, EVP_sha256()) <= 0) fail("X509_sign");
  return cert;
}

std::unique_ptr<std::FILE, FileClose> open_for_write(const std::string& path, mode_t mode) {
  std::unique_ptr<std::FILE, FileClose> file(std::fopen(path.c_str(), "wx"));
  if (!file) throw EtcdProcessError("test PKI: cannot create " + path);
  ::chmod(path.c_str(), mode);
  return file;
}

void write_key(const std::string& path, EVP_PKEY* key) {
  auto file = open_for_write(path, 0600);
  check(PEM_write_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "write " + path);
  if (std::fflush(file.get()) != 0) throw EtcdProcessError("test PKI: cannot write " + path);
}

void write_cert(const std::string& path, X509* cert) {
  auto file = open_for_write(path, 0644);
  check(PEM_write_X509(file.get(), cert), "write " + path);
  if (std::fflush(file.get()) != 0) throw EtcdProcessError("test PKI: cannot write " + path);
}

struct Ca {
  Pkey key;
  Cert cert;
};

Ca make_ca(const char* common_name, const std::string& cert_path, const std::string& key_path) {
  Ca ca{make_key(), nullptr};
  ca.cert = make_cert(ca.key.get(), {{"CN", common_name}}, Issuer{nullptr, ca.key.get()},
                      {{"basicConstraints", "critical,CA:TRUE"},
                       {"keyUsage", "critical,keyCertSign,cRLSign"},
                       {"subjectKeyIdentifier", "hash"}});
  write_key(key_path, ca.key.get());
  write_cert(cert_path, ca.cert.get());
  return ca;
}

void make_leaf(const Ca& ca, std::initializer_list<std::pair<const char*, const char*>> subject, bool server,
               const std::string& cert_path, const std::string& key_path) {
  const Pkey key = make_key();
  const Issuer issuer{ca.cert.get(), ca.key.get()};
  const Cert cert = server ? make_cert(key.get(), subject, issuer,
                                       {{"basicConstraints", "critical,CA:FALSE"},
                                        {"keyUsage", "critical,digitalSignature,keyEncipherment"},
                                        {"extendedKeyUsage", "serverAuth,clientAuth"},
                                        {"subjectAltName", "IP:127.0.0.1,DNS:localhost"},
                                        {"subjectKeyIdentifier", "hash"},
                                        {"authorityKeyIdentifier", "keyid"}})
                           : make_cert(key.get(), subject, issuer,
                                       {{"basicConstraints", "critical,CA:FALSE"},
                                        {"keyUsage", "critical,digitalSignature,keyEncipherment"},
                                        {"extendedKeyUsage", "clientAuth"},
                                        {"subjectKeyIdentifier", "hash"},
                                        {"authorityKeyIdentifier", "keyid"}});
  write_key(key_path, key.get());
  write_cert(cert_path, cert.get());
}

}  // namespace

TestPki generate_test_pki(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw EtcdProcessError("test PKI: cannot create " + dir + ": " + error.message());
  ERR_clear_error();

  TestPki pki;
  const auto path = [&dir](const char* name) { return dir + "/" + name; };
  pki.ca = path("ca.crt");
  pki.ca_key = path("ca.key");
  pki.wrong_ca = path("wrong-ca.crt");
  pki.wrong_ca_key = path("wrong-ca.key");
  pki.server_cert = path("server.crt");
  pki.server_key = path("server.key");
  pki.client_cert = path("client-nocn.crt");
  pki.client_key = path("client-nocn.key");
  pki.cn_client_cert = path("client-root.crt");
  pki.cn_client_key = path("client-root.key");
  pki.wrong_ca_client_cert = path("wrong-ca-client.crt");
  pki.wrong_ca_client_key = path("wrong-ca-client.key");

  const Ca ca = make_ca("dcs test CA", pki.ca, pki.ca_key);
  const Ca wrong_ca = make_ca("dcs unrelated test CA", pki.wrong_ca, pki.wrong_ca_key);
  make_leaf(ca, {{"CN", "etcd-server"}}, true, pki.server_cert, pki.server_key);
  make_leaf(ca, {{"O", "etcd-client"}}, false, pki.client_cert, pki.client_key);
  make_leaf(ca, {{"CN", "root"}}, false, pki.cn_client_cert, pki.cn_client_key);
  make_leaf(wrong_ca, {{"O", "etcd-client"}}, false, pki.wrong_ca_client_cert, pki.wrong_ca_client_key);
  return pki;
}

}  // namespace dcs::testing
