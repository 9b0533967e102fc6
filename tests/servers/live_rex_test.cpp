// SPDX-License-Identifier: Apache-2.0
// rex and the `cppnode` stats server against a real erl node: its answers are compared with
// the ones the erl node gives for the same call on itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

#include "cppnode/servers/arith.hpp"
#include "cppnode/servers/errors.hpp"
#include "cppnode/servers/operations.hpp"
#include "cppnode/servers/rex.hpp"
#include "cppnode/test_support/beam_node.hpp"
#include "live_node.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using cnode::testing::LiveNode;
using cnode::testing::wait_until;
using codec::Term;
using test_support::BeamNode;
using test_support::Epmd;

class LiveRex : public ::testing::Test {
 protected:
  void SetUp() override {
    functions->register_function("cpp_math"_a, "add"_a, 2,
                                 [](const std::vector<Term>& a) { return add(a[0], a[1]); });
    functions->register_function("cpp_math"_a, "boom"_a, 0, [](const std::vector<Term>&) -> Term {
      throw std::runtime_error("boom");
    });
    functions->register_function("cpp_math"_a, "note"_a, 1, [this](const std::vector<Term>& a) {
      std::lock_guard lock(mutex);
      noted = a[0];
      return Term("ok"_a);
    });
    register_node_functions(functions, cpp.node(), "1.2.3");
    auto sup = start_operations(cpp.node(), functions);
    ASSERT_TRUE(sup) << sup.error();
  }

  // `Fun(Node)` evaluated on the erl node for the C node and for the erl node itself.
  std::pair<std::string, std::string> on_both(const std::string& fun) {
    return {erl.eval("(" + fun + ")(" + cpp.atom() + ")."), erl.eval("(" + fun + ")(node()).")};
  }

  Epmd epmd;
  BeamNode erl{epmd};
  LiveNode cpp{epmd};
  std::shared_ptr<RpcFunctions> functions = std::make_shared<RpcFunctions>();
  std::mutex mutex;
  Term noted;
};

// OTP 25's rpc:call, rpc:cast, rpc:multicall and erpc spawn a process on the target node.
TEST_F(LiveRex, RpcCallAndErpcReachRegisteredFunctions) {
  const std::string n = cpp.atom();
  EXPECT_EQ(erl.eval("rpc:call(" + n + ", cpp_math, add, [40, 2])."), "42");
  EXPECT_EQ(erl.eval("rpc:call(" + n + ", cppnode, version, [], 5000)."), "<<\"1.2.3\">>");
  const auto [cpp_undef, beam_undef] = on_both("fun(N) -> rpc:call(N, nomod, nofun, [1]) end");
  EXPECT_EQ(cpp_undef, "{badrpc,{'EXIT',{undef,[{nomod,nofun,[1],[]}]}}}");
  EXPECT_EQ(cpp_undef, beam_undef);
  EXPECT_EQ(erl.eval("rpc:call(" + n + ", cpp_math, add, [1, 2, 3])."),
            "{badrpc,{'EXIT',{undef,[{cpp_math,add,[1,2,3],[]}]}}}");
  EXPECT_EQ(erl.eval("rpc:call(" + n + ", cpp_math, add, [1, a])."),
            "{badrpc,{'EXIT',{badarith,[{erlang,'+',[1,a],[]},{cpp_math,add,2,[]}]}}}");
  EXPECT_EQ(erl.eval("rpc:call(" + n + ", cpp_math, boom, [])."),
            "{badrpc,{'EXIT',{{cpp_exception,<<\"boom\">>},[{cpp_math,boom,[],[]}]}}}");
  EXPECT_EQ(erl.eval("rpc:call(" + n + ", cpp_math, add, [2, 2])."), "4");
  // erpc raises what it raises for a BEAM node.
  const auto [cpp_erpc, beam_erpc] =
      on_both("fun(N) -> try erpc:call(N, nomod, nofun, []) catch C:R -> {C, R} end end");
  EXPECT_EQ(cpp_erpc, "{error,{exception,undef,[{nomod,nofun,[],[]}]}}");
  EXPECT_EQ(cpp_erpc, beam_erpc);
  EXPECT_EQ(erl.eval("erpc:multicall([" + n + "], cpp_math, add, [1, 1])."), "[{ok,2}]");
  EXPECT_EQ(erl.eval("rpc:multicall([" + n + "], cpp_math, add, [3, 3])."), "{[6],[]}");
  EXPECT_EQ(erl.eval("rpc:cast(" + n + ", cpp_math, note, [cast_note])."), "true");
  EXPECT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return noted == Term("cast_note"_a);
  }));
  // A plain spawn runs the function in a process that exits as a BEAM one would.
  EXPECT_EQ(erl.eval("{P, R} = spawn_monitor(" + n +
                     ", nomod, nofun, []), "
                     "receive {'DOWN', R, process, P, Why} -> Why after 10000 -> none end."),
            "{undef,[{nomod,nofun,[],[]}]}");
  EXPECT_EQ(erl.eval("{P, R} = spawn_monitor(" + n +
                     ", cpp_math, add, [1, 2]), "
                     "receive {'DOWN', R, process, P, Why} -> Why after 10000 -> none end."),
            "normal");
}

TEST(LiveRexWithoutSpawnHandler, SpawnRequestsAreRefusedWithNotsup) {
  Epmd epmd;
  BeamNode erl{epmd};
  LiveNode cpp{epmd};
  EXPECT_EQ(erl.eval("rpc:call(" + cpp.atom() + ", m, f, [])."), "{badrpc,notsup}");
  EXPECT_EQ(erl.eval("try erpc:call(" + cpp.atom() + ", m, f, []) catch C:R -> {C, R} end."),
            "{error,{erpc,notsup}}");
}

TEST_F(LiveRex, BlockCallReachesRegisteredFunctions) {
  EXPECT_EQ(erl.eval("rpc:block_call(" + cpp.atom() + ", cpp_math, add, [40, 2])."), "42");
  EXPECT_EQ(erl.eval("rpc:block_call(" + cpp.atom() + ", cpp_math, add, [1 bsl 64, 1])."),
            "18446744073709551617");
  EXPECT_EQ(erl.eval("rpc:block_call(" + cpp.atom() + ", cppnode, version, [])."), "<<\"1.2.3\">>");
  EXPECT_EQ(erl.eval("gen_server:call({rex, " + cpp.atom() +
                     "}, "
                     "{call, cpp_math, add, [1, 2], group_leader()})."),
            "3");
}

TEST_F(LiveRex, UnknownFunctionAndWrongArityAnswerAsABeamNode) {
  const auto [cpp_undef, beam_undef] =
      on_both("fun(N) -> rpc:block_call(N, nomod, nofun, [1]) end");
  EXPECT_EQ(cpp_undef, "{badrpc,{'EXIT',{undef,[{nomod,nofun,[1],[]}]}}}");
  EXPECT_EQ(cpp_undef, beam_undef);
  // Arity counts, on both: add/3 is not add/2, as lists:reverse/3 is not lists:reverse/1.
  EXPECT_EQ(erl.eval("rpc:block_call(" + cpp.atom() + ", cpp_math, add, [1, 2, 3])."),
            "{badrpc,{'EXIT',{undef,[{cpp_math,add,[1,2,3],[]}]}}}");
  EXPECT_EQ(erl.eval("rpc:block_call(node(), lists, reverse, [1, 2, 3])."),
            "{badrpc,{'EXIT',{undef,[{lists,reverse,[1,2,3],[]}]}}}");
}

TEST_F(LiveRex, ErrorsComeBackInTheBeamShapeAndRexServesOn) {
  // badarith in C++ code: the same shape as erlang:'+'/2 failing in a BEAM function (whose
  // frames also carry file/line and error_info, which C++ frames do not).
  EXPECT_EQ(erl.eval("rpc:block_call(" + cpp.atom() + ", cpp_math, add, [1, a])."),
            "{badrpc,{'EXIT',{badarith,[{erlang,'+',[1,a],[]},{cpp_math,add,2,[]}]}}}");
  EXPECT_EQ(erl.eval("{badrpc, {'EXIT', {badarith, [{erlang, '+', [1, a], _}]}}} = "
                     "rpc:block_call(node(), erlang, '+', [1, a]), same_shape."),
            "same_shape");
  EXPECT_EQ(erl.eval("rpc:block_call(" + cpp.atom() + ", cpp_math, boom, [])."),
            "{badrpc,{'EXIT',{{cpp_exception,<<\"boom\">>},[{cpp_math,boom,[],[]}]}}}");
  EXPECT_EQ(erl.eval("rpc:block_call(" + cpp.atom() + ", cpp_math, add, [2, 2])."), "4");
}

TEST_F(LiveRex, CastsAndPlainRexMessages) {
  EXPECT_EQ(erl.eval("gen_server:cast({rex, " + cpp.atom() +
                     "}, {cast, cpp_math, note, [hello], group_leader()})."),
            "ok");
  EXPECT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return noted == Term("hello"_a);
  }));
  // ei_rpc's form: {Pid, {call, M, F, A, GroupLeader}} answered by {rex, Result}.
  EXPECT_EQ(erl.eval("{rex, " + cpp.atom() +
                     "} ! {self(), {call, cpp_math, add, [1, 1], user}}, "
                     "receive {rex, R} -> R after 10000 -> none end."),
            "2");
  // rpc:sbcast goes through rex too; the echo process answers {echo, Pid, hi}.
  ASSERT_TRUE(cpp.node().register_name(
      "sink"_a, cpp.node().spawn(std::make_shared<cnode::testing::Echo>(cpp.node()))));
  EXPECT_EQ(erl.eval("rpc:sbcast([" + cpp.atom() + "], sink, {self(), hi})."),
            "{[" + cpp.name() + "],[]}");
  EXPECT_EQ(erl.eval("receive {echo, _, M} -> M after 10000 -> none end."), "hi");
  EXPECT_EQ(erl.eval("rpc:sbcast([" + cpp.atom() + "], nobody, hi)."), "{[],[" + cpp.name() + "]}");
}

TEST_F(LiveRex, StatsCallCountsTheErlNode) {
  const std::string stats = "S = gen_server:call({cppnode, " + cpp.atom() + "}, stats), ";
  EXPECT_EQ(
      erl.eval(stats +
               "{maps:get(node, S), maps:get(connections, S), maps:get(connected_nodes, S)}."),
      "{" + cpp.name() + ",1,[" + erl.node_name() + "]}");
  EXPECT_EQ(erl.eval(stats + "{maps:get(processes, S) >= 3, maps:get(messages_in, S) >= 1, "
                             "maps:get(messages_out, S) >= 1, maps:get(connections_total, S) >= 1, "
                             "is_list(maps:get(mailboxes, S))}."),
            "{true,true,true,true,true}");
  EXPECT_EQ(erl.eval("maps:get(connected_nodes, rpc:block_call(" + cpp.atom() +
                     ", cppnode, stats, []))."),
            "[" + erl.node_name() + "]");
  EXPECT_EQ(
      erl.eval("{status, _, {module, gen_server}, _} = sys:get_status({rex, " + cpp.atom() +
               "}), lists:member({cpp_math, add, 2}, sys:get_state({rex, " + cpp.atom() + "}))."),
      "true");
}

// erts big.c big_to_double converts a big integer through its 64-bit digits, most significant
// first (d = d * 2^64 + digit, rounding the digit and then the sum), so some sums differ in the
// last bit from a correctly rounded conversion: 0.0 + 83076749736557269726604051831848959 is
// 8.307674973655728e34 on the BEAM, not ...726e34. 1000 random big integers (both signs, runs of
// 0x00 and 0xFF bytes that put them near halfway cases, some past the float range) added to
// floats here and on the erl node; the bit patterns (or badarith) must be the same.
TEST_F(LiveRex, BigIntegerPlusFloatRoundsAsTheBeam) {
  std::mt19937_64 rng(20261201);
  const std::vector<std::pair<double, std::string>> floats{
      {0.0, "0.0"}, {0.5, "0.5"}, {-1.0e30, "-1.0e30"}, {3.0e-300, "3.0e-300"}};
  const auto random_byte = [&]() -> std::uint8_t {
    switch (rng() % 4) {
      case 0:
        return 0x00;
      case 1:
        return 0xFF;
      default:
        return static_cast<std::uint8_t>(rng());
    }
  };
  for (int batch = 0; batch < 4; ++batch) {
    std::string pairs = "[";
    std::string here = "[";
    for (int i = 0; i < 250; ++i) {
      codec::BigInt n;
      n.negative = rng() % 2 == 0;
      n.magnitude.resize(8 + rng() % 133);  // 8 to 140 bytes: past 128 the sum overflows
      std::generate(n.magnitude.begin(), n.magnitude.end(), random_byte);
      n.magnitude.back() = static_cast<std::uint8_t>(1 + rng() % 255);
      const auto& [x, x_text] = floats[rng() % floats.size()];
      const Term big{n};
      if (i != 0) {
        pairs += ",";
        here += ",";
      }
      pairs += "{" + x_text + "," + codec::to_string(big) + "}";
      try {
        const Term sum = add(Term(x), big);
        here += std::to_string(std::bit_cast<std::uint64_t>(sum.as<double>()));
      } catch (const ErlangError& e) {
        here += codec::to_string(e.reason());
      }
    }
    pairs += "]";
    here += "]";
    std::string beam = erl.eval(
        "[try <<B:64>> = <<(X + N)/float>>, B catch error:badarith -> badarith end || {X, N} <- " +
        pairs + "].");
    std::erase_if(beam, [](char c) { return c == ' ' || c == '\n'; });
    EXPECT_EQ(here, beam) << "batch " << batch;
  }
  // The example, on its own: 83076749736557269726604051831848959.
  const Term example{codec::BigInt{
      false,
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10}}};
  ASSERT_EQ(codec::to_string(example), "83076749736557269726604051831848959");
  EXPECT_EQ(std::to_string(std::bit_cast<std::uint64_t>(add(Term(0.0), example).as<double>())),
            erl.eval("<<B:64>> = <<(0.0 + 83076749736557269726604051831848959)/float>>, B."));
}

}  // namespace
}  // namespace cppnode::servers
