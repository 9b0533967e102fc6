// SPDX-License-Identifier: Apache-2.0
// TLS distribution between the C node and real BEAM nodes started with -proto_dist inet_tls:
// both directions, large messages across many TLS records, TLS over IPv6, and the run-wide switch
// (CPPNODE_TEST_DIST=tls) that the Tls.* ctest subsets use.
#include <gtest/gtest.h>

#include "cppnode/cnode/echo.hpp"
#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/dist.hpp"
#include "live_node.hpp"

namespace cppnode::cnode {
namespace {

using test_support::BeamNode;
using test_support::Epmd;
using testing::LiveNode;

TlsConfig test_tls() {
  const auto& certs = test_support::tls_certs();
  return {.certfile = certs.pem("node"), .keyfile = certs.key("node"), .cacertfile = certs.ca()};
}

TEST(LiveTls, BothDirectionsAndLargeMessages) {
  Epmd epmd;
  BeamNode erl(epmd, {.name_prefix = "tls", .tls_cert = "node"});
  LiveNode cpp(epmd, [&](NodeConfig& c) {
    c.tls = test_tls();
    c.connect = {erl.node_name()};
  });
  cpp->register_name(codec::Atom("echo"), cpp->spawn(std::make_shared<EchoProcess>(cpp.node())));
  EXPECT_EQ(erl.eval("init:get_argument(proto_dist)."), "{ok,[[\"inet_tls\"]]}");
  // We connected out; the BEAM uses that connection.
  EXPECT_TRUE(testing::wait_until(
      [&] { return erl.eval("lists:member(" + cpp.atom() + ", nodes(hidden)).") == "true"; }));
  // 4 MiB each way: many TLS records (16 KiB at most each) in one distribution packet.
  EXPECT_EQ(erl.eval("B = crypto:strong_rand_bytes(4194304), "
                     "gen_server:call({echo, " +
                     cpp.atom() + "}, B, 30000) =:= B."),
            "true");
  EXPECT_EQ(erl.eval("lists:all(fun(I) -> gen_server:call({echo, " + cpp.atom() +
                     "}, I) =:= I end, lists:seq(1, 1000))."),
            "true");
  // And the other way: a BEAM node that connects in.
  BeamNode in(epmd, {.name_prefix = "tlsin", .tls_cert = "node"});
  EXPECT_EQ(in.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  EXPECT_EQ(in.eval("gen_server:call({echo, " + cpp.atom() + "}, hello)."), "hello");
}

// inet6_tls: TLS over IPv6 with IPv6 literal names, whose certificate check is by IP address.
TEST(LiveTls, OverIpv6WithIpv6LiteralNames) {
  Epmd epmd;
  BeamNode out(epmd, {.name_prefix = "tls6out", .tls_cert = "node", .ipv6 = true});
  LiveNode cpp(epmd, [&](NodeConfig& c) {
    c.node_name = test_support::unique_name("cpp") + "@::1";
    c.listen_address = "::1";
    c.ipv6 = true;
    c.tls = test_tls();
    c.connect = {out.node_name()};
  });
  cpp->register_name(codec::Atom("echo"), cpp->spawn(std::make_shared<EchoProcess>(cpp.node())));
  EXPECT_EQ(out.eval("init:get_argument(proto_dist)."), "{ok,[[\"inet6_tls\"]]}");
  EXPECT_TRUE(testing::wait_until(
      [&] { return out.eval("lists:member(" + cpp.atom() + ", nodes(hidden)).") == "true"; }));
  EXPECT_EQ(out.eval("gen_server:call({echo, " + cpp.atom() + "}, hello)."), "hello");
  BeamNode in(epmd, {.name_prefix = "tls6in", .tls_cert = "node", .ipv6 = true});
  EXPECT_EQ(in.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  EXPECT_EQ(in.eval("gen_server:call({echo, " + cpp.atom() + "}, hello)."), "hello");
}

// What the Tls.* subsets rely on: under CPPNODE_TEST_DIST=tls every BeamNode and LiveNode runs
// TLS unless told otherwise, and not without it.
TEST(LiveTls, TheRunWideSwitchPutsEveryNodeOnTls) {
  Epmd epmd;
  BeamNode erl(epmd, {.name_prefix = "tlsrun"});
  LiveNode cpp(epmd);
  const bool tls = test_support::dist_tls();
  EXPECT_EQ(erl.eval("init:get_argument(proto_dist)."), tls ? "{ok,[[\"inet_tls\"]]}" : "error");
  EXPECT_EQ(cpp->config().tls.has_value(), tls);
  EXPECT_EQ(erl.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
}

}  // namespace
}  // namespace cppnode::cnode
