// SPDX-License-Identifier: Apache-2.0
// What the node sends to a peer follows the flags that peer offered (peer.cpp encode_out). Each
// test connects a hand-driven peer that lacks a flag to the C node and to a BEAM node, does the
// same to both, and expects from the C node what the BEAM sends.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/epmd.hpp"
#include "cppnode/test_support/names.hpp"
#include "live_node.hpp"
#include "raw_peer.hpp"

namespace cppnode::cnode::testing {
namespace {

using codec::Atom;
using codec::Pid;
using codec::Term;
using test_support::BeamNode;
using test_support::Epmd;
namespace in = detail::incoming;

// JInterface and erl_interface before 5.x offer neither (JInterface: "dFlagDistMonitorName //
// NOT USED"); dist.c sends monitor signals only to a peer with both.
constexpr std::uint64_t without_dist_monitor =
    detail::dflag::ours & ~(detail::dflag::dist_monitor | detail::dflag::dist_monitor_name);

/// A raw peer with `flags`, connected to the node `node_name` listening on `port`.
struct RawNode {
  RawNode(std::uint16_t port, const std::string& node_name, std::uint64_t flags)
      : raw(port), name(test_support::unique_name("raw") + "@" + test_support::short_hostname()) {
    raw.flags = flags;
    handshake = raw.handshake(name, "cppnode_test_cookie", node_name);
  }
  /// A pid of this node.
  [[nodiscard]] Pid pid(std::uint32_t id) const { return Pid{Atom(name), id, 0, 1}; }
  /// `gen_server:call({Name, Node}, Request)` from pid 1, tagged with a plain reference `n`.
  void call(Atom to, const Term& request, std::uint32_t n) {
    std::string packet;
    detail::encode_reg_send(packet, pid(1), to, gen_call(request, tag(n)), raw.out_cache());
    raw.send(packet);
  }
  /// The same call as OTP 24+ makes it: the tag `[alias | Ref]` asks for the reply at the alias.
  void call_by_alias(Atom to, const Term& request, std::uint32_t n) {
    std::string packet;
    detail::encode_reg_send(packet, pid(1), to, gen_call(request, alias_tag(n)), raw.out_cache());
    raw.send(packet);
  }
  [[nodiscard]] Term gen_call(const Term& request, const Term& tag) const {
    return codec::tuple(Atom("$gen_call"), codec::tuple(pid(1), tag), request);
  }
  [[nodiscard]] Term alias_tag(std::uint32_t n) const {
    return codec::improper_list({Term(Atom("alias"))}, Term(tag(n)));
  }
  [[nodiscard]] codec::Reference tag(std::uint32_t n) const {
    codec::Reference r;
    r.node = Atom(name);
    r.creation = 1;
    r.ids = {n, 0, 0};
    return r;
  }
  /// Whether `m` is the reply to call `n`.
  [[nodiscard]] bool is_reply(const detail::ControlMessage& m, std::uint32_t n) const {
    const auto* t = m.payload.get_if<codec::Tuple>();
    return (m.as<in::Send>() != nullptr || m.as<in::AliasSend>() != nullptr) && t != nullptr &&
           t->elements.size() == 2 &&
           (t->elements[0] == Term(tag(n)) || t->elements[0] == alias_tag(n));
  }

  RawPeer raw;
  std::string name;
  std::string handshake;
};

std::vector<int> ops(const std::vector<detail::ControlMessage>& messages) {
  std::vector<int> out;
  for (const auto& m : messages) out.push_back(m.op);
  return out;
}

/// On the BEAM, `replier`: answers every gen_server call with `yes` through gen:reply, at the
/// caller's alias when it has one, as every gen_server does (the BEAM's net_kernel answers pids).
constexpr const char* start_replier =
    "register(replier, spawn(fun Loop() -> receive {'$gen_call', From, _} -> "
    "gen:reply(From, yes), Loop() end end)), ok.";

bool is_message(const detail::ControlMessage& m, std::string_view atom) {
  return m.as<in::Send>() != nullptr && m.payload.is_atom(atom);
}

class LivePeerFlags : public ::testing::Test {
 protected:
  Epmd epmd;
  LiveNode cpp{epmd};
  BeamNode beam{epmd};
};

// A monitor of a process on a peer without DIST_MONITOR sends nothing and only watches the
// connection (erts_dsig_send_monitor); the peer closing gives DOWN noconnection. Before, the C
// node sent MONITOR_P, which JInterface drops the connection for.
TEST_F(LivePeerFlags, MonitorOfAPeerWithoutDistMonitorOnlyWatchesTheConnection) {
  RawNode at_cpp(cpp->port(), cpp.name(), without_dist_monitor);
  RawNode at_beam(epmd.port_of(beam.sname()), beam.node_name(), without_dist_monitor);
  ASSERT_EQ(at_cpp.handshake, "");
  ASSERT_EQ(at_beam.handshake, "");

  auto probe = std::make_shared<Probe>(cpp.node());
  const Pid watcher = cpp->spawn(probe);
  cpp->monitor(watcher, Term(at_cpp.pid(7)), Atom(at_cpp.name));
  cpp->send(watcher, at_cpp.pid(7), Atom("after_monitor"));
  ASSERT_EQ(beam.eval("Raw = " + erl_literal(Term(at_beam.pid(7))) +
                      ", register(watcher, spawn(fun() -> R = monitor(process, Raw), "
                      "Raw ! after_monitor, receive {'DOWN', R, process, _, Why} -> "
                      "receive {get, From} -> From ! {down, Why} end end end)), ok."),
            "ok");

  const auto is_marker = [](const detail::ControlMessage& m) {
    return is_message(m, "after_monitor");
  };
  const auto from_beam = at_beam.raw.read_packets_until(is_marker);
  const auto from_cpp = at_cpp.raw.read_packets_until(is_marker);
  ASSERT_FALSE(from_beam.empty());
  ASSERT_TRUE(is_marker(from_beam.back()));
  EXPECT_EQ(ops(from_cpp), ops(from_beam));  // the BEAM: just the SEND

  // Only the connection is watched: its end is the DOWN, with noconnection.
  at_cpp.raw.close();
  at_beam.raw.close();
  const auto down = probe->take_down(30s);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(
      codec::to_string(down->reason),
      beam.eval("watcher ! {get, self()}, receive {down, W} -> W after 30000 -> timeout end."));
  EXPECT_EQ(codec::to_string(down->reason), "noconnection");
}

// A peer without DIST_MONITOR that monitors anyway is never sent MONITOR_P_EXIT (dist.c
// erts_dsig_send_m_exit): here for a name nobody holds, which would be answered noproc.
TEST_F(LivePeerFlags, NoMonitorExitToAPeerWithoutDistMonitor) {
  for (const bool to_cpp : {true, false}) {
    SCOPED_TRACE(to_cpp ? "C node" : "BEAM");
    RawNode raw(to_cpp ? cpp->port() : epmd.port_of(beam.sname()),
                to_cpp ? cpp.name() : beam.node_name(), without_dist_monitor);
    ASSERT_EQ(raw.handshake, "");
    std::string monitor;
    detail::encode_monitor(monitor, detail::op::monitor_p, raw.pid(1), Atom("no_such_name"),
                           raw.tag(99), raw.raw.out_cache());
    raw.raw.send(monitor);
    raw.call(Atom("net_kernel"), codec::tuple(Atom("is_auth"), Atom(raw.name)), 1);
    const auto got = raw.raw.read_packets_until(
        [&](const detail::ControlMessage& m) { return raw.is_reply(m, 1); });
    ASSERT_FALSE(got.empty());
    EXPECT_TRUE(raw.is_reply(got.back(), 1));
    EXPECT_EQ(ops(got), std::vector<int>{detail::op::send});
  }
}

// With DIST_MONITOR (the control case) both nodes answer that monitor with MONITOR_P_EXIT.
TEST_F(LivePeerFlags, MonitorExitToAPeerWithDistMonitor) {
  for (const bool to_cpp : {true, false}) {
    SCOPED_TRACE(to_cpp ? "C node" : "BEAM");
    RawNode raw(to_cpp ? cpp->port() : epmd.port_of(beam.sname()),
                to_cpp ? cpp.name() : beam.node_name(), detail::dflag::ours);
    ASSERT_EQ(raw.handshake, "");
    std::string monitor;
    detail::encode_monitor(monitor, detail::op::monitor_p, raw.pid(1), Atom("no_such_name"),
                           raw.tag(99), raw.raw.out_cache());
    raw.raw.send(monitor);
    const auto got = raw.raw.read_packets_until(
        [](const detail::ControlMessage& m) { return m.as<in::MonitorExit>() != nullptr; });
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got.back().op, detail::op::payload_monitor_p_exit);
    EXPECT_EQ(codec::to_string(got.back().payload), "noproc");
  }
}

// Packets start with a distribution header both ways when the peer offers DIST_HDR_ATOM_CACHE,
// as between BEAM nodes, and with the pass-through byte when it does not. A second call's reply
// names the atoms the first header put in the cache, without their text. The BEAM's headers are
// read by the same code as the C node's, so each node's replies must decode to the same terms.
TEST_F(LivePeerFlags, DistributionHeadersOnlyToAPeerThatOffersTheAtomCache) {
  ASSERT_EQ(beam.eval(start_replier), "ok");
  for (const bool offered : {true, false}) {
    const std::uint64_t flags =
        offered ? detail::dflag::ours : detail::dflag::ours & ~detail::dflag::dist_hdr_atom_cache;
    std::vector<std::string> answers;
    for (const bool to_cpp : {true, false}) {
      SCOPED_TRACE(std::string(to_cpp ? "C node" : "BEAM") + (offered ? ", offered" : ""));
      RawNode raw(to_cpp ? cpp->port() : epmd.port_of(beam.sname()),
                  to_cpp ? cpp.name() : beam.node_name(), flags);
      ASSERT_EQ(raw.handshake, "");
      EXPECT_NE(raw.raw.node_flags & detail::dflag::dist_hdr_atom_cache, 0U);
      EXPECT_EQ(raw.raw.atom_cache(), offered);
      std::vector<std::size_t> header_atoms;
      std::vector<std::size_t> new_atoms;
      for (std::uint32_t n = 1; n <= 2; ++n) {
        raw.call_by_alias(Atom(to_cpp ? "net_kernel" : "replier"),
                          codec::tuple(Atom("is_auth"), Atom(raw.name)), n);
        const auto got = raw.raw.read_packets_until(
            [&](const detail::ControlMessage& m) { return raw.is_reply(m, n); });
        ASSERT_FALSE(got.empty());
        ASSERT_TRUE(raw.is_reply(got.back(), n));
        EXPECT_EQ(raw.raw.last_packet_start, offered ? 131 : detail::pass_through);
        answers.push_back(codec::to_string(got.back().payload.as<codec::Tuple>().elements[1]));
        if (offered) {
          header_atoms.push_back(raw.raw.in_cache().header_atoms());
          new_atoms.push_back(raw.raw.in_cache().header_new_atoms());
        }
      }
      if (offered) {
        // The reply's atoms (the nodes of both pids and of the alias, `yes`) are in the header.
        EXPECT_GE(header_atoms[0], 2U);
        EXPECT_EQ(header_atoms[1], header_atoms[0]);
        EXPECT_GE(new_atoms[0], 1U);
        EXPECT_EQ(new_atoms[1], 0U);
      }
    }
    EXPECT_EQ(answers[0], answers[2]);
    EXPECT_EQ(answers[1], answers[3]);
  }
}

// A reply to an alias goes to a peer that offers ALTACT_SIG (OTP 28+) as ALTACT_SIG_SEND with
// the alias flag, and to one without it as ALIAS_SEND, as erts dist.c chooses. The BEAM is the
// reference where its release has the flag (OTP 29 in the Otp29 run); OTP 25 and 27 do not offer
// it and answer every peer with ALIAS_SEND.
TEST_F(LivePeerFlags, AliasReplyIsAltactSigSendToAPeerThatOffersIt) {
  // The BEAM's net_kernel answers its callers' pids, not their aliases: `replier` is the
  // reference for the C node's net_kernel.
  ASSERT_EQ(beam.eval(start_replier), "ok");
  for (const bool offered : {true, false}) {
    const std::uint64_t flags =
        offered ? detail::dflag::ours : detail::dflag::ours & ~detail::dflag::altact_sig;
    std::vector<detail::ControlMessage> replies;
    std::vector<std::uint64_t> node_flags;
    for (const bool to_cpp : {true, false}) {
      SCOPED_TRACE(std::string(to_cpp ? "C node" : "BEAM") + (offered ? ", offered" : ""));
      RawNode raw(to_cpp ? cpp->port() : epmd.port_of(beam.sname()),
                  to_cpp ? cpp.name() : beam.node_name(), flags);
      ASSERT_EQ(raw.handshake, "");
      raw.call_by_alias(Atom(to_cpp ? "net_kernel" : "replier"),
                        codec::tuple(Atom("is_auth"), Atom(raw.name)), 1);
      auto got = raw.raw.read_packets_until(
          [&](const detail::ControlMessage& m) { return raw.is_reply(m, 1); });
      ASSERT_EQ(got.size(), 1U);
      const auto* reply = got.back().as<in::AliasSend>();
      ASSERT_NE(reply, nullptr);
      EXPECT_EQ(reply->alias, raw.tag(1));
      replies.push_back(got.back());
      node_flags.push_back(raw.raw.node_flags);
    }
    const bool beam_has_it = (node_flags[1] & detail::dflag::altact_sig) != 0;
    EXPECT_NE(node_flags[0] & detail::dflag::altact_sig, 0U);
    EXPECT_EQ(replies[0].op, offered ? detail::op::altact_sig_send : detail::op::alias_send);
    EXPECT_EQ(replies[1].op,
              offered && beam_has_it ? detail::op::altact_sig_send : detail::op::alias_send);
    EXPECT_EQ(replies[0].payload.as<codec::Tuple>().elements[1],
              replies[1].payload.as<codec::Tuple>().elements[1]);
  }
}

// What a peer sends as ALTACT_SIG_SEND reaches its receiver as the signal it stands for: a
// priority call by name (with a trace token) and by pid is answered, an exit signal by name
// kills. Compared with the BEAM where it offers ALTACT_SIG (OTP 29); older releases do not know
// operation 37, so there only the C node is checked.
TEST_F(LivePeerFlags, AltactSigSendReachesNamesPidsAndTakesExits) {
  ASSERT_EQ(beam.eval(start_replier), "ok");
  ASSERT_EQ(beam.eval("register(victim, spawn(fun() -> receive never -> ok end end)), ok."), "ok");
  auto victim = std::make_shared<Probe>(cpp.node());
  ASSERT_TRUE(cpp->register_name(Atom("victim"), cpp->spawn(victim)));
  for (const bool to_cpp : {true, false}) {
    SCOPED_TRACE(to_cpp ? "C node" : "BEAM");
    RawNode raw(to_cpp ? cpp->port() : epmd.port_of(beam.sname()),
                to_cpp ? cpp.name() : beam.node_name(), detail::dflag::ours);
    ASSERT_EQ(raw.handshake, "");
    if (!to_cpp && (raw.raw.node_flags & detail::dflag::altact_sig) == 0) {
      GTEST_LOG_(INFO) << "this BEAM release has no ALTACT_SIG: only the C node is checked";
      continue;
    }
    const Term request = codec::tuple(Atom("is_auth"), Atom(raw.name));
    auto altact = [&](int flags, const Term& to, const Term& payload, bool token) {
      const Term control = token ? codec::tuple(detail::op::altact_sig_send, flags, raw.pid(1), to,
                                                codec::list())  // [], "no trace": a real token is a
                                                                // seq_trace 5-tuple
                                 : codec::tuple(detail::op::altact_sig_send, flags, raw.pid(1), to);
      std::string packet;
      if (codec::AtomCacheOut* cache = raw.raw.out_cache()) {
        cache->begin();
        codec::encode_body(control, cache->body(), *cache);
        codec::encode_body(payload, cache->body(), *cache);
        cache->finish(packet);
      } else {
        packet = "\x70";
        codec::encode(control, packet);
        codec::encode(payload, packet);
      }
      std::string framed;
      detail::put_u32(framed, static_cast<std::uint32_t>(packet.size()));
      raw.raw.send(framed + packet);
    };
    auto reply_to = [&](std::uint32_t n) {
      auto got = raw.raw.read_packets_until(
          [&](const detail::ControlMessage& m) { return raw.is_reply(m, n); });
      return got.empty() || !raw.is_reply(got.back(), n) ? std::optional<detail::ControlMessage>()
                                                         : std::optional(got.back());
    };
    // Answered at the alias, so the reply names the server's pid for the call by pid.
    altact(detail::altact::name | detail::altact::priority,
           Term(Atom(to_cpp ? "net_kernel" : "replier")), raw.gen_call(request, raw.alias_tag(1)),
           false);
    const auto by_name = reply_to(1);
    ASSERT_TRUE(by_name.has_value());
    ASSERT_NE(by_name->as<in::AliasSend>(), nullptr);
    EXPECT_EQ(codec::to_string(by_name->payload),
              "{" + codec::to_string(raw.alias_tag(1)) + ",yes}");
    altact(detail::altact::token, Term(by_name->as<in::AliasSend>()->from),
           raw.gen_call(request, raw.tag(2)), true);
    const auto by_pid = reply_to(2);
    ASSERT_TRUE(by_pid.has_value());
    EXPECT_EQ(codec::to_string(by_pid->payload),
              "{" + codec::to_string(Term(raw.tag(2))) + ",yes}");

    altact(detail::altact::exit | detail::altact::name, Term(Atom("victim")), Term(Atom("kill")),
           false);
    const auto gone = [&] {
      return to_cpp ? !cpp->whereis(Atom("victim")).has_value()
                    : beam.eval("whereis(victim).") == "undefined";
    };
    for (int i = 0; i < 300 && !gone(); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(gone());
  }
}

}  // namespace
}  // namespace cppnode::cnode::testing
