// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

namespace cppnode::test_support {

/// Whether the live suites run over TLS distribution: CPPNODE_TEST_DIST=tls (ctest's Tls.*
/// tests). Then every BeamNode starts with `-proto_dist inet_tls`, every LiveNode and cppnode
/// child with TLS, all with the certificates of `tls_certs()`.
bool dist_tls();
/// Whether the live suites run over IPv6: CPPNODE_TEST_DIST=ipv6 (ctest's Ipv6.* tests). Then
/// every BeamNode runs `-proto_dist inet6_tcp` as `<prefix>@::1`, every LiveNode IPv6 on ::1.
bool dist_ipv6();

/// The options that start the cppnode executable (or another C node program) as `name` in this
/// run's distribution: `--sname <name> --listen-address 127.0.0.1` (and the TLS options under
/// CPPNODE_TEST_DIST=tls), or `--name <name>@::1 --listen-address ::1 --proto-dist inet6_tcp`
/// under CPPNODE_TEST_DIST=ipv6.
std::vector<std::string> cppnode_dist_args(const std::string& name);
/// The node name those options give: `<name>@<short host>` or `<name>@::1`.
std::string cppnode_node_name(const std::string& name);

/// The test certificates (tests/support/make_tls_certs.sh), made once per test process in a
/// directory under the OTP chroot's /tmp (or /tmp), removed at exit.
struct TlsCerts {
  std::string host_dir;  // where this process reads them
  std::string node_dir;  // where a BeamNode reads them (inside its chroot)
  /// The host path of `<name>.pem`, `<name>.key` and the CA file.
  [[nodiscard]] std::string pem(const std::string& name) const;
  [[nodiscard]] std::string key(const std::string& name) const;
  [[nodiscard]] std::string ca(const std::string& name = "ca") const;
};
const TlsCerts& tls_certs();

/// The `erl` arguments for TLS distribution presenting certificate `cert` (mutual TLS,
/// verify_peer both ways, trusting `ca`): `-proto_dist inet_tls -ssl_dist_optfile F`.
std::vector<std::string> tls_erl_args(const std::string& cert = "node",
                                      const std::string& ca = "ca");
/// The same for the cppnode executable: `--proto-dist inet_tls --ssl-certfile ...`.
std::vector<std::string> tls_cppnode_args(const std::string& cert = "node",
                                          const std::string& ca = "ca");

}  // namespace cppnode::test_support
