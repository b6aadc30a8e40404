// A throwaway PKI for TLS tests, generated in-process with the OpenSSL C API (EC P-256, SHA-256),
// following the tested recipe of /work/shared/spec/etcd-v3-json-api.md section 10:
//
// - ca:        the CA etcd trusts (--trusted-ca-file) and clients verify the server against.
// - server:    SAN IP:127.0.0.1 + DNS:localhost, EKU serverAuth + clientAuth (etcd's embedded
//              gateway dials its own gRPC port presenting this certificate, section 10.4).
// - client:    subject /O=etcd-client, no Common Name, EKU clientAuth: what JSON-gateway clients
//              need once auth is on.
// - cn_client: subject /CN=root, EKU clientAuth: the gateway rejects it (400 text/plain) when
//              client-cert-auth and auth are both on.
// - wrong_ca:  a second, unrelated CA (verifying the server against it fails), and
//              wrong_ca_client: a CN-less client certificate issued by it (etcd rejects it).
//
// Keys are unencrypted PKCS#8 PEM files with mode 0600; certificates are valid from one hour ago
// for 30 days.
#pragma once

#include <string>

namespace dcs::testing {

struct TestPki {
  std::string ca;  ///< CA certificate (PEM)
  std::string ca_key;
  std::string wrong_ca;  ///< an unrelated CA certificate (PEM)
  std::string wrong_ca_key;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;  ///< CN-less (/O=etcd-client), issued by `ca`
  std::string client_key;
  std::string cn_client_cert;  ///< /CN=root, issued by `ca`
  std::string cn_client_key;
  std::string wrong_ca_client_cert;  ///< CN-less, issued by `wrong_ca`
  std::string wrong_ca_client_key;
};

/// Creates `dir` (if needed) and writes every file of TestPki into it; returns their paths.
/// Throws EtcdProcessError (from etcd_process.hpp) naming the failing step.
TestPki generate_test_pki(const std::string& dir);

}  // namespace dcs::testing
