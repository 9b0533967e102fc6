// SPDX-License-Identifier: Apache-2.0
// Attacks by peers that know the network but not the cookie, or that stop reading, each run
// against the real executable and against a BEAM node in the same situation: what the BEAM does
// is the expectation.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cppnode/test_support/beam_node.hpp"
#include "fault_fixture.hpp"
#include "raw_peer.hpp"

namespace cppnode::fault_testing {
namespace {

using namespace std::chrono_literals;
using cnode::testing::RawPeer;
using test_support::BeamNode;

/// Claims to be `victim` towards the node listening on `port`: send_name with the victim's name,
/// `true` to the `alive` question, then a challenge reply made with the wrong cookie. Returns what
/// the node answered to send_name.
std::string impersonate(std::uint16_t port, const std::string& victim, const std::string& target) {
  RawPeer raw(port);
  raw.send_name(victim);
  const std::string status = raw.read_status();
  if (status != "alive") return status;
  raw.send_status("true");
  const std::string rest = raw.finish_handshake("not_the_cookie", target);
  return rest.empty() ? "accepted" : "alive";
}

// dist_util answers `alive` to a node name that is connected already, and drops the old
// connection only after the new one has proven the cookie. Before that check, an impostor who
// knew no cookie cut any node off, over and over.
TEST_F(Fault, PeerWithoutTheCookieCannotCutANodeOff) {
  auto cpp = start_cpp();
  BeamNode victim(epmd, beam("victim"));
  BeamNode reference(epmd, beam("reference"));
  for (const std::string& node : {cpp->atom(), "'" + reference.node_name() + "'"}) {
    ASSERT_EQ(victim.eval("net_adm:ping(" + node + ")."), "pong") << node;
    ASSERT_EQ(victim.eval("erlang:monitor_node(" + node + ", true)."), "true");
  }
  ASSERT_EQ(victim.eval("gen_server:call({kv_store, " + cpp->atom() + "}, {put, kept, 1})."), "ok");

  const std::uint16_t reference_port = epmd.port_of(reference.sname());
  ASSERT_NE(reference_port, 0);
  for (int i = 0; i < 20; ++i) {
    // Each one is refused once its reply shows the wrong cookie: the BEAM and we alike.
    EXPECT_EQ(impersonate(reference_port, victim.node_name(), reference.node_name()), "alive");
    EXPECT_EQ(impersonate(cpp->port(), victim.node_name(), cpp->node_name()), "alive");
  }

  EXPECT_EQ(victim.eval("receive {nodedown, N} -> {nodedown, N} after 500 -> none end."), "none");
  EXPECT_EQ(victim.eval("gen_server:call({kv_store, " + cpp->atom() + "}, {get, kept})."), "1");
  EXPECT_EQ(cpp->log_count("dropping the old one"), 0U) << cpp->stderr_text();
  EXPECT_TRUE(cpp->wait_log("invalid challenge reply (the cookies differ)", 10s, 20));
}

}  // namespace
}  // namespace cppnode::fault_testing
