// SPDX-License-Identifier: Apache-2.0
// The pending-connection rules of dist_util/net_kernel, driven deterministically with a fake
// node: simultaneous connects (the greater name keeps its own attempt) and a stale connection
// replaced by a new one ("alive").
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "live_node.hpp"
#include "raw_peer.hpp"

namespace cppnode::cnode::testing {
namespace {

using codec::Atom;
using codec::Term;
using test_support::Epmd;

class Simultaneous : public ::testing::Test {
 protected:
  /// Accepts the C node's outgoing connection on the fake node and returns it after reading its
  /// send_name.
  std::unique_ptr<RawPeer> accept_outgoing(RawListener& listener) {
    auto out = listener.accept(std::chrono::seconds(10));
    EXPECT_TRUE(out);
    if (out) {
      auto name = out->read_handshake_message();
      const auto parsed = detail::parse_send_name(name);
      EXPECT_TRUE(parsed) << parsed.error();
      if (parsed) out->node_flags = parsed->flags;  // what the node's packets will follow
    }
    return out;
  }
  /// Plays the acceptor side of the handshake as `self_name` on `conn`.
  static void accept_handshake(RawPeer& conn, const std::string& self_name,
                               const std::string& status) {
    conn.send_status(status);
    const std::uint32_t challenge = 777;
    conn.send(detail::encode_challenge(detail::dflag::ours, challenge, 1, self_name));
    auto body = conn.read_handshake_message();
    auto reply = detail::parse_challenge_reply(body);
    ASSERT_TRUE(reply) << reply.error();
    ASSERT_TRUE(detail::digest_equal(detail::handshake_digest(challenge, "cppnode_test_cookie"),
                                     reply->digest));
    conn.send(detail::encode_challenge_ack(
        detail::handshake_digest(reply->challenge, "cppnode_test_cookie")));
  }
  void queue_message_to(const std::string& node) {
    cpp->send(probe->self(), Atom("sink"), Atom(node), Term(Atom("queued")));
  }
  static void expect_queued_message(RawPeer& conn) {
    auto m = conn.read_packet();
    ASSERT_TRUE(m);
    const auto* reg_send = m->as<detail::incoming::RegSend>();
    ASSERT_NE(reg_send, nullptr);
    EXPECT_EQ(reg_send->to_name, Atom("sink"));
    EXPECT_EQ(m->payload, Term(Atom("queued")));
  }

  /// Two attempts under way at once between the C node and a fake node named `prefix_N@host`:
  /// the C node's own, accepted on the fake node's listener as `out` (its send_name read), and
  /// the fake node's, `in`, which has sent its name.
  struct Crossing {
    Crossing(Simultaneous& test, const std::string& prefix)
        : alive(test_support::unique_name(prefix)),
          fake(alive + "@" + test.host),
          listener(test.epmd.port(), alive) {
      test.queue_message_to(fake);
      out = test.accept_outgoing(listener);
      in = std::make_unique<RawPeer>(test.cpp->port());
      in->send_name(fake);
    }
    std::string alive;
    std::string fake;
    RawListener listener;
    std::unique_ptr<RawPeer> out;
    std::unique_ptr<RawPeer> in;
  };

  Epmd epmd;
  LiveNode cpp{epmd};
  std::shared_ptr<Probe> probe = [this] {
    auto p = std::make_shared<Probe>(cpp.node());
    cpp->spawn(p);
    return p;
  }();
  std::string host = test_support::short_hostname();
};

TEST_F(Simultaneous, OurAttemptWinsWhenOurNameIsGreater) {
  Crossing c(*this, "aaa");  // sorts before "cpp_..."
  ASSERT_TRUE(c.out);
  EXPECT_EQ(c.in->read_status(), "nok");
  EXPECT_TRUE(c.in->closed_by_node(std::chrono::seconds(10)));
  accept_handshake(*c.out, c.fake, "ok");
  expect_queued_message(*c.out);
}

TEST_F(Simultaneous, TheirAttemptWinsWhenTheirNameIsGreater) {
  Crossing c(*this, "zzz");  // sorts after "cpp_..."
  ASSERT_TRUE(c.out);
  EXPECT_EQ(c.in->read_status(), "ok_simultaneous");
  EXPECT_EQ(c.in->finish_handshake("cppnode_test_cookie", cpp.name()), "");
  EXPECT_TRUE(c.out->closed_by_node(std::chrono::seconds(10)));  // our own attempt is dropped
  expect_queued_message(*c.in);  // and what was queued for it goes over the winner
  ASSERT_TRUE(wait_until([&] { return cpp->connected_nodes().size() == 1; }));
}

// The other node's answer to our attempt and its own attempt cross: our attempt is superseded
// (aborted) while that answer may already be read. Whatever it was (nok, alive, or ok and the
// rest of a handshake), the superseded attempt must stop — it once went on without its peer and
// crashed the node — and the other node's connection is the one used.
TEST_F(Simultaneous, AttemptSupersededWhileItsAnswerIsInFlightStops) {
  const std::vector<std::string> answers{"nok", "alive", "ok"};
  for (int round = 0; round < 450; ++round) {
    const std::string& answer = answers[static_cast<std::size_t>(round) % answers.size()];
    SCOPED_TRACE("round " + std::to_string(round) + ", answer " + answer);
    Crossing c(*this, "zzz");  // sorts after "cpp_..."
    ASSERT_TRUE(c.out);
    if (answer == "ok") {
      c.out->send(detail::encode_status("ok") +
                  detail::encode_challenge(detail::dflag::ours, 777, 1, c.fake));
    } else {
      c.out->send_status(answer);
    }
    ASSERT_EQ(c.in->read_status(), "ok_simultaneous");
    ASSERT_EQ(c.in->finish_handshake("cppnode_test_cookie", cpp.name()), "");
    if (answer == "ok") {
      // If the attempt got as far as its challenge reply, complete it: it must still not win.
      auto body = c.out->read_handshake_message();
      if (auto reply = detail::parse_challenge_reply(body)) {
        c.out->send(detail::encode_challenge_ack(
            detail::handshake_digest(reply->challenge, "cppnode_test_cookie")));
      }
    }
    expect_queued_message(*c.in);
    EXPECT_TRUE(c.out->closed_by_node(std::chrono::seconds(10)));
  }
}

TEST_F(Simultaneous, StaleConnectionIsReplacedWhenTheNodeConnectsAgain) {
  const std::string fake = test_support::unique_name("again") + "@" + host;
  RawPeer first(cpp->port());
  ASSERT_EQ(first.handshake(fake, "cppnode_test_cookie", cpp.name()), "");
  ASSERT_TRUE(wait_until([&] { return cpp->connected_nodes().size() == 1; }));
  RawPeer second(cpp->port());
  second.send_name(fake);
  EXPECT_EQ(second.read_status(), "alive");
  second.send_status("true");
  EXPECT_EQ(second.finish_handshake("cppnode_test_cookie", cpp.name()), "");
  EXPECT_TRUE(first.closed_by_node(std::chrono::seconds(10)));
  queue_message_to(fake);
  expect_queued_message(second);
}

}  // namespace
}  // namespace cppnode::cnode::testing
