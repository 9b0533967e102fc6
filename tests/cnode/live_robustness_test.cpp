// SPDX-License-Identifier: Apache-2.0
// Misbehaving peers affect only their own connection.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "cppnode/test_support/beam_node.hpp"
#include "live_node.hpp"
#include "raw_peer.hpp"

namespace cppnode::cnode::testing {
namespace {

using codec::Atom;
using test_support::BeamNode;
using test_support::Epmd;

TEST(LiveRobustness, SilentAndGarbagePeersDoNotDelayRealNodes) {
  Epmd epmd;
  // A long handshake timeout: if silent peers blocked anything, the ping would outlast the
  // eval's 10 s limit.
  LiveNode cpp(epmd, [](NodeConfig& c) { c.handshake_timeout = std::chrono::seconds(60); });
  std::vector<std::unique_ptr<RawPeer>> silent;
  for (int i = 0; i < 5; ++i) silent.push_back(std::make_unique<RawPeer>(cpp->port()));
  RawPeer garbage(cpp->port());
  garbage.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  RawPeer partial(cpp->port());
  partial.send(std::string("\x00\x20N", 3));  // a send_name that never finishes
  BeamNode beam(epmd);
  EXPECT_EQ(beam.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  EXPECT_FALSE(silent.front()->closed_by_node(std::chrono::milliseconds(0)));
}

TEST(LiveRobustness, HandshakeTimeoutDropsSilentPeers) {
  Epmd epmd;
  LiveNode cpp(epmd, [](NodeConfig& c) { c.handshake_timeout = std::chrono::milliseconds(300); });
  RawPeer silent(cpp->port());
  EXPECT_TRUE(silent.closed_by_node(std::chrono::seconds(10)));
  RawPeer bad_name(cpp->port());
  bad_name.send(detail::encode_send_name(detail::dflag::ours, 1, "no-at-sign"));
  EXPECT_TRUE(bad_name.closed_by_node(std::chrono::seconds(10)));
  RawPeer old_flags(cpp->port());
  old_flags.send(detail::encode_send_name(detail::dflag::extended_references, 1, "old@host"));
  EXPECT_TRUE(old_flags.closed_by_node(std::chrono::seconds(10)));
}

class LiveBadPackets : public ::testing::Test {
 protected:
  void SetUp() override {
    cpp->register_name(Atom("echo"), cpp->spawn(std::make_shared<Echo>(cpp.node())));
    ASSERT_EQ(beam.eval("gen_server:call({echo, " + cpp.atom() + "}, before)."), "before");
  }
  /// A raw peer that finished a real handshake.
  std::unique_ptr<RawPeer> connected_raw_peer() {
    auto raw = std::make_unique<RawPeer>(cpp->port());
    const std::string name =
        test_support::unique_name("raw") + "@" + test_support::short_hostname();
    EXPECT_EQ(raw->handshake(name, "cppnode_test_cookie", cpp.name()), "");
    EXPECT_TRUE(wait_until([&] { return cpp->connected_nodes().size() == 2; }));
    return raw;
  }
  void expect_beam_unaffected() {
    EXPECT_EQ(beam.eval("gen_server:call({echo, " + cpp.atom() + "}, after_bad_peer)."),
              "after_bad_peer");
    EXPECT_TRUE(wait_until([&] { return cpp->connected_nodes().size() == 1; }));
  }

  Epmd epmd;
  LiveNode cpp{epmd};
  BeamNode beam{epmd};
};

TEST_F(LiveBadPackets, GarbagePacketClosesOnlyItsConnection) {
  auto raw = connected_raw_peer();
  raw->send(std::string("\x00\x00\x00\x05\x01\x02\x03\x04\x05", 9));
  EXPECT_TRUE(raw->closed_by_node(std::chrono::seconds(10)));
  expect_beam_unaffected();
}

TEST_F(LiveBadPackets, UnknownControlMessageClosesOnlyItsConnection) {
  auto raw = connected_raw_peer();
  // 112, then the control tuple {99}: no such operation.
  raw->send(std::string("\x00\x00\x00\x06\x70\x83\x68\x01\x61\x63", 10));
  EXPECT_TRUE(raw->closed_by_node(std::chrono::seconds(10)));
  expect_beam_unaffected();
}

TEST_F(LiveBadPackets, OversizedLengthClosesOnlyItsConnection) {
  auto raw = connected_raw_peer();
  raw->send(std::string("\xff\xff\xff\xf0", 4));
  EXPECT_TRUE(raw->closed_by_node(std::chrono::seconds(10)));
  expect_beam_unaffected();
}

TEST_F(LiveBadPackets, WrongCookieRawPeerIsRefused) {
  RawPeer raw(cpp->port());
  EXPECT_EQ(
      raw.handshake("raw_wrong@" + test_support::short_hostname(), "not_the_cookie", cpp.name()),
      "closed");
  expect_beam_unaffected();
}

}  // namespace
}  // namespace cppnode::cnode::testing
