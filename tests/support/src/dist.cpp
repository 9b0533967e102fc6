// SPDX-License-Identifier: Apache-2.0
#include "cppnode/test_support/dist.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/child_process.hpp"
#include "cppnode/test_support/names.hpp"

namespace cppnode::test_support {

namespace {

struct OwnedCerts {
  TlsCerts certs;
  OwnedCerts() {
    const std::string inside = "/tmp/" + unique_name("cppnode-tls");
    certs.host_dir = otp_root() + inside;
    certs.node_dir = inside;
    ChildProcess make({"/bin/sh", CPPNODE_TEST_MAKE_CERTS, certs.host_dir}, {});
    if (!make.wait_exit(std::chrono::steady_clock::now() + std::chrono::seconds(30)) ||
        make.exit_status() != 0) {
      throw std::runtime_error("make_tls_certs.sh failed: " + make.stderr_text());
    }
  }
  ~OwnedCerts() {
    std::error_code ignored;
    std::filesystem::remove_all(certs.host_dir, ignored);
  }
  OwnedCerts(const OwnedCerts&) = delete;
  OwnedCerts& operator=(const OwnedCerts&) = delete;
};

}  // namespace

bool dist_tls() {
  const char* dist = std::getenv("CPPNODE_TEST_DIST");
  return dist != nullptr && std::string(dist) == "tls";
}

bool dist_ipv6() {
  const char* dist = std::getenv("CPPNODE_TEST_DIST");
  return dist != nullptr && std::string(dist) == "ipv6";
}

std::vector<std::string> cppnode_dist_args(const std::string& name) {
  if (dist_ipv6()) {
    return {"--name", cppnode_node_name(name), "--listen-address",
            "::1",    "--proto-dist",          "inet6_tcp"};
  }
  std::vector<std::string> args{"--sname", name, "--listen-address", "127.0.0.1"};
  if (dist_tls()) {
    const auto tls = tls_cppnode_args();
    args.insert(args.end(), tls.begin(), tls.end());
  }
  return args;
}

std::string cppnode_node_name(const std::string& name) {
  return name + "@" + (dist_ipv6() ? std::string("::1") : short_hostname());
}

std::string TlsCerts::pem(const std::string& name) const { return host_dir + "/" + name + ".pem"; }
std::string TlsCerts::key(const std::string& name) const { return host_dir + "/" + name + ".key"; }
std::string TlsCerts::ca(const std::string& name) const { return pem(name); }

const TlsCerts& tls_certs() {
  static const OwnedCerts owned;
  return owned.certs;
}

std::vector<std::string> tls_erl_args(const std::string& cert, const std::string& ca) {
  const TlsCerts& c = tls_certs();
  const std::string file = "/" + cert + "-" + ca + ".conf";
  const std::string in = c.node_dir + "/";
  const std::string files = "{certfile, \"" + in + cert + ".pem\"}, {keyfile, \"" + in + cert +
                            ".key\"}, {cacertfile, \"" + in + ca + ".pem\"}, {verify, verify_peer}";
  // Written aside and renamed, so a node starting at that moment never reads half a file.
  const std::string temp = c.host_dir + file + "." + unique_name("part");
  std::ofstream(temp) << "[{server, [" << files << ", {fail_if_no_peer_cert, true}]},\n {client, ["
                      << files << "]}].\n";
  std::filesystem::rename(temp, c.host_dir + file);
  return {"-proto_dist", "inet_tls", "-ssl_dist_optfile", c.node_dir + file};
}

std::vector<std::string> tls_cppnode_args(const std::string& cert, const std::string& ca) {
  const TlsCerts& c = tls_certs();
  return {"--proto-dist",  "inet_tls",  "--ssl-certfile",   c.pem(cert),
          "--ssl-keyfile", c.key(cert), "--ssl-cacertfile", c.ca(ca)};
}

}  // namespace cppnode::test_support
