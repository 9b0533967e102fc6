// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/control.hpp"

#include <gtest/gtest.h>

#include "cppnode/cnode/detail/framing.hpp"
#include "fails_with.hpp"

namespace cppnode::cnode::detail {
namespace {

using codec::Atom;
using codec::Term;
namespace in = incoming;

const codec::Pid pid_a{Atom("a@h"), 1, 2, 3};
const codec::Pid pid_b{Atom("b@h"), 4, 5, 6};

codec::Reference ref() {
  codec::Reference r;
  r.node = Atom("b@h");
  r.creation = 6;
  r.length = 3;
  r.ids = {1, 2, 3, 0, 0};
  return r;
}

// Strips the 4-byte length (checking it) and parses the packet.
ControlMessage parse_one(const std::string& out) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(out.data());
  EXPECT_EQ(get_u32(p), out.size() - 4);
  auto m = parse_control_full(std::span<const std::uint8_t>(p + 4, out.size() - 4), {});
  EXPECT_TRUE(m) << m.error();
  return m.value_or(ControlMessage{});
}

codec::Result<ControlMessage, std::string> parse_bytes(std::string_view packet) {
  return parse_control_full(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(packet.data()),
                                    packet.size()),
      {});
}

TEST(Control, SendAndRegSendAndAliasSend) {
  std::string out;
  encode_send(out, pid_b, codec::tuple(Atom("hello"), 1));
  auto m = parse_one(out);
  EXPECT_EQ(m.operation, in::Operation(in::Send{pid_b}));
  EXPECT_EQ(m.op, op::send);
  EXPECT_EQ(m.payload, codec::tuple(Atom("hello"), 1));

  out.clear();
  encode_reg_send(out, pid_a, Atom("kv"), codec::binary("x"));
  m = parse_one(out);
  EXPECT_EQ(m.operation, in::Operation(in::RegSend{pid_a, Atom("kv")}));
  EXPECT_EQ(m.payload, codec::binary("x"));

  out.clear();
  encode_alias_send(out, pid_a, ref(), Term(Atom("reply")));
  m = parse_one(out);
  EXPECT_EQ(m.operation, in::Operation(in::AliasSend{pid_a, ref()}));
  EXPECT_EQ(m.payload, Term(Atom("reply")));
}

TEST(Control, LinkUnlinkAndExits) {
  std::string out;
  encode_link(out, pid_a, pid_b);
  auto m = parse_one(out);
  EXPECT_EQ(m.operation, in::Operation(in::Link{pid_a, pid_b}));

  out.clear();
  encode_unlink_id(out, op::unlink_id, 0xffffffffffffffffULL, pid_a, pid_b);
  m = parse_one(out);
  EXPECT_EQ(m.operation, in::Operation(in::UnlinkId{0xffffffffffffffffULL, pid_a, pid_b}));
  out.clear();
  encode_unlink_id(out, op::unlink_id_ack, 7, pid_b, pid_a);
  m = parse_one(out);
  EXPECT_EQ(m.operation, in::Operation(in::UnlinkIdAck{7, pid_b, pid_a}));

  for (bool payload : {true, false}) {
    for (bool is_link : {true, false}) {
      out.clear();
      encode_exit(out, payload, is_link, pid_a, pid_b, codec::tuple(Atom("shutdown"), 1));
      m = parse_one(out);
      EXPECT_EQ(m.operation, is_link ? in::Operation(in::Exit{pid_a, pid_b})
                                     : in::Operation(in::Exit2{pid_a, Term(pid_b)}));
      EXPECT_EQ(m.op, payload ? (is_link ? op::payload_exit : op::payload_exit2)
                              : (is_link ? op::exit : op::exit2));
      EXPECT_EQ(m.payload, codec::tuple(Atom("shutdown"), 1));
    }
  }
}

TEST(Control, MonitorsByPidAndName) {
  std::string out;
  encode_monitor(out, op::monitor_p, pid_a, Term(Atom("kv")), ref());
  auto m = parse_one(out);
  EXPECT_EQ(m.operation, in::Operation(in::Monitor{pid_a, Term(Atom("kv")), ref()}));
  out.clear();
  encode_monitor(out, op::demonitor_p, pid_a, Term(pid_b), ref());
  m = parse_one(out);
  EXPECT_EQ(m.operation, in::Operation(in::Demonitor{pid_a, Term(pid_b), ref()}));
  for (bool payload : {true, false}) {
    out.clear();
    encode_monitor_exit(out, payload, Term(Atom("kv")), pid_a, ref(), Term(Atom("noproc")));
    m = parse_one(out);
    EXPECT_EQ(m.operation, in::Operation(in::MonitorExit{Term(Atom("kv")), pid_a, ref()}));
    EXPECT_EQ(m.op, payload ? op::payload_monitor_p_exit : op::monitor_p_exit);
    EXPECT_EQ(m.payload, Term(Atom("noproc")));
  }
}

TEST(Control, TraceTokenVariantsAndSendSender) {
  // {12, '', To, Token} + payload, built by hand.
  std::string packet = "\x70";
  codec::encode(codec::tuple(12, Atom(""), pid_b, Atom("token")), packet);
  codec::encode(Term(Atom("m")), packet);
  auto m = parse_bytes(packet);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::Send{pid_b}));
  packet = "\x70";
  codec::encode(codec::tuple(22, pid_a, pid_b), packet);
  codec::encode(Term(Atom("m")), packet);
  m = parse_bytes(packet);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::Send{pid_b}));
  packet = "\x70";
  codec::encode(codec::tuple(18, pid_a, pid_b, Atom("token"), Atom("why")), packet);
  m = parse_bytes(packet);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::Exit2{pid_a, Term(pid_b)}));
  EXPECT_EQ(m->payload, Term(Atom("why")));
}

// {37, Flags, From, To[, Token]} (OTP 28+) stands for a send to a pid, a name or an alias, or
// (exit flag) an exit signal; priority and later flag bits change nothing here.
TEST(Control, AltactSigSendStandsForTheSignalItsFlagsName) {
  auto parse = [](const Term& control, const Term& payload) {
    std::string packet = "\x70";
    codec::encode(control, packet);
    codec::encode(payload, packet);
    return parse_bytes(packet);
  };
  auto m = parse(codec::tuple(37, 0, pid_a, pid_b), Term(Atom("m")));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::Send{pid_b}));
  EXPECT_EQ(m->payload, Term(Atom("m")));

  m = parse(codec::tuple(37, altact::name | altact::priority, pid_a, Atom("kv")), Term(1));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::RegSend{pid_a, Atom("kv")}));

  m = parse(codec::tuple(37, altact::alias | altact::token, pid_a, ref(), Atom("tok")),
            Term(Atom("reply")));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::AliasSend{pid_a, ref()}));
  EXPECT_EQ(m->payload, Term(Atom("reply")));

  m = parse(codec::tuple(37, altact::exit, pid_a, pid_b), Term(Atom("why")));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::Exit2{pid_a, Term(pid_b)}));
  EXPECT_EQ(m->payload, Term(Atom("why")));
  m = parse(codec::tuple(37, altact::exit | altact::name, pid_a, Atom("kv")), Term(Atom("why")));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::Exit2{pid_a, Term(Atom("kv"))}));
  m = parse(codec::tuple(37, altact::exit | altact::alias, pid_a, ref()), Term(Atom("why")));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::Exit2{pid_a, Term(ref())}));

  // Unknown bits, a big-integer flags field and extra elements are for later releases.
  codec::BigInt big;
  big.magnitude = {altact::name, 0, 0, 0, 0, 0, 0, 0, 1};
  m = parse(codec::tuple(37, Term(big), pid_a, Atom("kv"), Atom("later")), Term(1));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->operation, in::Operation(in::RegSend{pid_a, Atom("kv")}));

  // What erts refuses: a token flag without a token, alias and name at once, a To that does not
  // match the flags, negative flags, a sender that is not a pid, too few elements.
  for (const Term& control :
       {codec::tuple(37, altact::token, pid_a, pid_b),
        codec::tuple(37, altact::alias | altact::name, pid_a, ref()),
        codec::tuple(37, altact::alias, pid_a, pid_b), codec::tuple(37, altact::name, pid_a, pid_b),
        codec::tuple(37, 0, pid_a, Atom("kv")), codec::tuple(37, -1, pid_a, pid_b),
        codec::tuple(37, 0, Atom("a"), pid_b), codec::tuple(37, 0, pid_a)}) {
    EXPECT_FALSE(parse(control, Term(1))) << codec::to_string(control);
  }
  EXPECT_TRUE(
      fails_with(parse(codec::tuple(37, 0, pid_a), Term(1)), "needs a tuple of at least 4"));
}

// A reply to an alias goes as ALTACT_SIG_SEND with the alias flag to a peer with ALTACT_SIG.
TEST(Control, AltactAliasSendRoundTrips) {
  std::string out;
  encode_altact_alias_send(out, pid_a, ref(), Term(Atom("reply")));
  const auto m = parse_one(out);
  EXPECT_EQ(m.op, op::altact_sig_send);
  EXPECT_EQ(m.operation, in::Operation(in::AliasSend{pid_a, ref()}));
  EXPECT_EQ(m.payload, Term(Atom("reply")));
}

TEST(Control, IllFormedMessagesAreErrors) {
  auto check = [](const std::string& packet, std::string_view expect_in_error) {
    EXPECT_TRUE(fails_with(parse_bytes(packet), expect_in_error));
  };
  check("", "pass-through");
  check("\x71", "pass-through byte 112");
  check(std::string("\x70\x83\x68\x01\x61\x63", 6), "unknown or unsupported control operation 99");
  std::string p = "\x70";
  codec::encode(codec::tuple(1, pid_a), p);
  check(p, "needs a tuple of 3");
  p = "\x70";
  codec::encode(codec::tuple(1, pid_a, Atom("not_a_pid")), p);
  check(p, "ill-formed");
  p = "\x70";
  codec::encode(codec::tuple(2, Atom(""), pid_b), p);
  check(p, "followed by a payload");
  p = "\x70";
  codec::encode(codec::tuple(1, pid_a, pid_b), p);
  p += "x";
  check(p, "unexpected bytes");
  p = "\x70";
  codec::encode(Term(Atom("not_a_tuple")), p);
  check(p, "expected a control message tuple");
  p = "\x70";
  codec::encode(codec::tuple(35, 0, pid_a, pid_b), p);
  check(p, "ill-formed");  // unlink ids start at 1
  check(std::string("\x70\x83\x68", 3), "undecodable");
  p = "\x70";
  codec::encode(codec::tuple(29, Atom("spawn")), p);
  check(p, "needs a tuple of 6");
  p = "\x70";
  codec::encode(
      codec::tuple(29, ref(), pid_a, pid_a, codec::tuple(Atom("m"), Atom("f")), codec::list()), p);
  codec::encode(codec::list(), p);
  check(p, "ill-formed");  // {M, F} without the arity
  p = "\x70";
  codec::encode(codec::tuple(31, ref(), pid_a, 0, pid_b), p);
  check(p, "unsupported control operation 31");  // this node never asks for a spawn
}

TEST(Control, SpawnRequestAndReply) {
  const Term mfa = codec::tuple(Atom("erpc"), Atom("execute_call"), 4);
  const Term options = codec::list(Atom("monitor"), codec::tuple(Atom("priority"), Atom("high")));
  const Term args = codec::list(ref(), Atom("m"), Atom("f"), codec::list(1));
  for (bool traced : {false, true}) {
    std::string packet = "\x70";
    codec::encode(traced ? codec::tuple(30, ref(), pid_a, pid_a, mfa, options, Atom("token"))
                         : codec::tuple(29, ref(), pid_a, pid_a, mfa, options),
                  packet);
    codec::encode(args, packet);
    auto m = parse_bytes(packet);
    ASSERT_TRUE(m) << m.error();
    EXPECT_EQ(m->operation, in::Operation(in::SpawnRequest{ref(), pid_a, mfa, options}));
    EXPECT_EQ(m->payload, args);
  }
  std::string out;
  encode_spawn_reply(out, ref(), pid_a, 2, Term(pid_b));
  const auto* p = reinterpret_cast<const std::uint8_t*>(out.data());
  ASSERT_EQ(get_u32(p), out.size() - 4);
  ASSERT_EQ(p[4], pass_through);
  std::size_t offset = 5;
  auto control = codec::decode_prefix(std::span<const std::uint8_t>(p, out.size()), offset, {});
  ASSERT_TRUE(control);
  EXPECT_EQ(*control, codec::tuple(op::spawn_reply, ref(), pid_a, 2, pid_b));
  EXPECT_EQ(offset, out.size());
}

}  // namespace
}  // namespace cppnode::cnode::detail
