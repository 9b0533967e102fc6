// SPDX-License-Identifier: Apache-2.0
// Attacks by peers that know the network but not the cookie, or that stop reading, each run
// against the real executable and against a BEAM node in the same situation: what the BEAM does
// is the expectation.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cppnode/test_support/beam_node.hpp"
#include "fault_fixture.hpp"
#include "raw_peer.hpp"

namespace cppnode::fault_testing {
namespace {

using namespace std::chrono_literals;
using cnode::testing::RawPeer;
using codec::Atom;
using codec::Term;
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

/// VmRSS of OS process `pid` in KiB (0 if it is gone).
long rss_kib_of(const std::string& pid) {
  std::ifstream status("/proc/" + pid + "/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "VmRSS:" && status >> value) return value;
  }
  return 0;
}

/// A hidden node of the test's own that calls a node's kv_store and never reads the replies.
class StalledReader {
 public:
  StalledReader(std::uint16_t port, const std::string& target, const std::string& cookie)
      : raw_(port),
        name_(test_support::unique_name("stalled") + "@" + test_support::short_hostname()) {
    const std::string handshake = raw_.handshake(name_, cookie, target);
    EXPECT_EQ(handshake, "") << "handshake with " << target;
  }
  /// `gen_server:call(kv_store, Request)` as a '$gen_call' from a pid of this node.
  void call(const Term& request) {
    const codec::Pid from{Atom(name_), 1, 0, 1};
    codec::Reference tag;
    tag.node = Atom(name_);
    tag.creation = 1;
    tag.ids = {++calls_, 0, 0};
    std::string packet;
    cnode::detail::encode_reg_send(
        packet, from, Atom("kv_store"),
        codec::tuple(Atom("$gen_call"), codec::tuple(from, tag), request), raw_.out_cache());
    raw_.send(packet);
  }

 private:
  RawPeer raw_;
  std::string name_;
  std::uint32_t calls_ = 0;
};

// A peer that asks for large replies and never reads them: the BEAM suspends the processes that
// send to its busy connection (dist_buf_busy_limit) and drops the queue when the connection
// goes. Before the bound, the C node queued every reply: 1 GiB in seconds, without end.
TEST_F(Fault, PeerThatStopsReadingCostsABoundedQueueAndOnlyItsSenders) {
  auto cpp = start_cpp();
  BeamNode reference(epmd, beam("reference"));
  BeamNode client(epmd, beam("client"));
  ASSERT_NE(reference.eval("is_pid(cppnode_fault_kv:start())."), "false");
  const std::string cpp_rss_pid = std::to_string(cpp->pid());
  const std::string beam_rss_pid = reference.eval("list_to_integer(os:getpid()).");
  const std::string reference_atom = "'" + reference.node_name() + "'";
  for (const std::string& node : {cpp->atom(), reference_atom}) {
    ASSERT_EQ(client.eval("net_adm:ping(" + node + ")."), "pong") << node;
  }

  constexpr int gets = 2000;  // 2000 replies of 256 KiB: 500 MiB if nothing bounds them
  const Term value = codec::binary(std::string(256 * 1024, 'v'));
  const long cpp_before = cpp->rss_kib();
  const long beam_before = rss_kib_of(beam_rss_pid);
  auto at_cpp = std::make_unique<StalledReader>(cpp->port(), cpp->node_name(), cookie);
  auto at_beam = std::make_unique<StalledReader>(epmd.port_of(reference.sname()),
                                                 reference.node_name(), cookie);
  for (StalledReader* stalled : {at_cpp.get(), at_beam.get()}) {
    stalled->call(codec::tuple(Atom("put"), Atom("big"), value));
  }
  // Sent from two threads: a node that read nothing would block the sender.
  std::thread beam_gets([&] {
    for (int i = 0; i < gets; ++i) at_beam->call(codec::tuple(Atom("get"), Atom("big")));
  });
  for (int i = 0; i < gets; ++i) at_cpp->call(codec::tuple(Atom("get"), Atom("big")));
  beam_gets.join();

  // Watch both for a while: without a bound the queue grows as fast as the server answers.
  long cpp_peak = 0;
  long beam_peak = 0;
  for (int i = 0; i < 20; ++i) {
    cpp_peak = std::max(cpp_peak, cpp->rss_kib());
    beam_peak = std::max(beam_peak, rss_kib_of(beam_rss_pid));
    std::this_thread::sleep_for(100ms);  // sampling, not synchronisation
  }
  std::cout << "RSS growth with a peer that stopped reading: cppnode " << (cpp_peak - cpp_before)
            << " KiB, BEAM " << (beam_peak - beam_before) << " KiB\n";
  if (rss_is_meaningful) {
    EXPECT_LT(cpp_peak - cpp_before, 64 * 1024) << "KiB";
  }

  // Only the senders to the busy connection wait; the node answers everyone else at once.
  for (const std::string& node : {cpp->atom(), reference_atom}) {
    EXPECT_EQ(client.eval("net_adm:ping(" + node + ")."), "pong") << node;
    EXPECT_EQ(client.eval("element(1, element(2, catch gen_server:call({kv_store, " + node +
                          "}, {get, big}, 1000)))."),
              "timeout")
        << node;
  }

  // Once the peer is gone its queue goes at once and the server serves again (its parked
  // requests are answered into connection attempts that fail).
  at_cpp.reset();
  at_beam.reset();
  for (const std::string& node : {cpp->atom(), reference_atom}) {
    EXPECT_EQ(
        client.eval("gen_server:call({kv_store, " + node + "}, {put, later, 1}, 60000).", 90s),
        "ok")
        << node;
  }
  if (rss_is_meaningful) {
    EXPECT_LT(cpp->rss_kib() - cpp_before, 64 * 1024) << "KiB";
  }
}

}  // namespace
}  // namespace cppnode::fault_testing
