// SPDX-License-Identifier: Apache-2.0
// NodeConfig::remote_monitors off (`--remote-monitors calls`): a BEAM caller keeps its call's
// monitor to itself, so a call costs it one packet instead of three, and the node delivers what
// that monitor would have: a caller of a server that exits, or of a process or name that does not
// exist, exits at once with the reason a full-monitor node gives it. Each test runs the same
// Erlang against a node in each mode and compares.
#include <gtest/gtest.h>

#include <string>

#include "cppnode/servers/examples/example_servers.hpp"
#include "cppnode/servers/servers.hpp"
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

// Holds every call until `{stop, Reason}` is cast, then stops with Reason.
class Holder : public GenServer {
 protected:
  CallResult handle_call(const Term& /*request*/, const From& /*from*/) override {
    return noreply();
  }
  InfoResult handle_cast(const Term& message) override {
    Term reason;
    if (!codec::match(message, "stop"_a, &reason)) return no_match();
    return stop(reason);
  }
};

class LiveCallMonitors : public ::testing::Test {
 protected:
  /// Starts the seed `stack` and `kv_store` on `cpp`; the BEAM connects to it.
  void start_servers(LiveNode& cpp) {
    ASSERT_TRUE(start(cpp.node(), examples::make_stack(), {.local_name = "stack"_a}));
    ASSERT_TRUE(start(cpp.node(), examples::make_kv_store(), {.local_name = "kv_store"_a}));
    ASSERT_EQ(beam.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  }
  /// A new Holder on `cpp`, registered as `name` if one is given, as an Erlang pid expression.
  static std::string start_holder(LiveNode& cpp, const std::string& name = {}) {
    StartOptions options;
    if (!name.empty()) options.local_name = codec::Atom(name);
    auto holder = start(cpp.node(), std::make_unique<Holder>(), options);
    if (!holder) throw std::runtime_error("the holder did not start");
    return cnode::testing::erl_literal(Term(*holder));
  }
  /// What a caller of a Holder on `cpp`, called by `how` ("pid" or "name"), exits with when
  /// the holder stops with `reason` while the call waits with an infinite timeout; still_waiting
  /// if nothing came within 2 s.
  std::string held_call_exit(LiveNode& cpp, const std::string& reason, const std::string& how) {
    const std::string name = "held_" + std::to_string(++holders_);
    const std::string pid = start_holder(cpp, name);
    const std::string dest = how == "pid" ? pid : "{" + name + ", " + cpp.atom() + "}";
    // The call and the stop come from two processes, so nothing orders them; the 200 ms lets
    // the call reach the holder first (a stop that overtook it would test noproc instead, which
    // ACallToANameOrPidThatIsNotThereExitsNoproc covers). The exit itself is waited for, not timed.
    return beam.eval("P = " + pid + ", Self = self(), " +
                     "spawn(fun() -> Self ! {exit, catch gen_server:call(" + dest +
                     ", hold, infinity)} end), timer:sleep(200), "
                     "gen_server:cast(P, {stop, " +
                     reason +
                     "}), "
                     "receive {exit, {'EXIT', {R, _}}} -> R after 2000 -> still_waiting end.");
  }
  /// Packets this BEAM node sent to `cpp` over 200 calls to the seed kv_store (put then get).
  std::string packets_per_200_calls(LiveNode& cpp) {
    const std::string node = cpp.atom();
    return beam.eval("{_, Port} = lists:keyfind(" + node +
                     ", 1, erlang:system_info(dist_ctrl)), "
                     "{ok, [{send_cnt, S0}]} = inet:getstat(Port, [send_cnt]), "
                     "[begin ok = gen_server:call({kv_store, " +
                     node + "}, {put, I, I}), I = gen_server:call({kv_store, " + node +
                     "}, {get, I}) end || I <- lists:seq(1, 100)], "
                     "{ok, [{send_cnt, S1}]} = inet:getstat(Port, [send_cnt]), "
                     "S1 - S0.");
  }

  int holders_ = 0;
  Epmd epmd;
  BeamNode beam{epmd};
  LiveNode full{epmd};
  LiveNode calls{epmd, [](cnode::NodeConfig& c) { c.remote_monitors = false; }};
};

// The point of the mode: the BEAM sends the call alone, no MONITOR_P and DEMONITOR_P around it.
TEST_F(LiveCallMonitors, ACallCostsTheCallerOnePacketInsteadOfThree) {
  start_servers(full);
  start_servers(calls);
  const int with_monitors = std::stoi(packets_per_200_calls(full));
  const int calls_only = std::stoi(packets_per_200_calls(calls));
  EXPECT_GE(with_monitors, 600);
  // A tick or a global message may slip in; the calls themselves are 200 packets.
  EXPECT_GE(calls_only, 200);
  EXPECT_LT(calls_only, 220);
}

TEST_F(LiveCallMonitors, ACallerOfAServerThatStopsExitsAtOnceWithItsReason) {
  start_servers(full);
  start_servers(calls);
  for (const char* how : {"pid", "name"}) {
    for (const char* reason : {"normal", "shutdown", "{shutdown, drained}", "custom"}) {
      const std::string expected = held_call_exit(full, reason, how);
      EXPECT_NE(expected, "still_waiting") << reason;
      EXPECT_EQ(held_call_exit(calls, reason, how), expected) << reason << " by " << how;
    }
  }
}

TEST_F(LiveCallMonitors, ACallerOfAServerThatCrashesExitsAtOnceWithTheCrash) {
  start_servers(full);
  start_servers(calls);
  // The seed Stack has no clause for pop on an empty stack: the server crashes mid-call.
  const std::string pop_empty =
      "catch gen_server:call({stack, NODE}, pop), "
      "case catch gen_server:call({stack, NODE}, pop, infinity) of "
      "{'EXIT', {{function_clause, [{M, F, _, _} | _]}, _}} -> {M, F}; Other -> Other end.";
  auto on = [&](LiveNode& cpp) {
    std::string code = pop_empty;
    for (auto at = code.find("NODE"); at != std::string::npos; at = code.find("NODE")) {
      code.replace(at, 4, cpp.atom());
    }
    return beam.eval(code);
  };
  EXPECT_EQ(on(full), "{'Elixir.Stack',handle_call}");
  EXPECT_EQ(on(calls), "{'Elixir.Stack',handle_call}");
}

TEST_F(LiveCallMonitors, ACallToANameOrPidThatIsNotThereExitsNoproc) {
  start_servers(full);
  start_servers(calls);
  for (LiveNode* cpp : {&full, &calls}) {
    const std::string node = cpp->atom();
    EXPECT_EQ(beam.eval("catch gen_server:call({nobody, " + node + "}, x, infinity)."),
              "{'EXIT',{noproc,{gen_server,call,[{nobody," + cpp->name() + "},x,infinity]}}}");
    // A pid that was there: a holder, stopped.
    EXPECT_EQ(beam.eval("P = " + start_holder(*cpp) + ", " +
                        "gen_server:cast(P, {stop, normal}), timer:sleep(100), " +
                        "case catch gen_server:call(P, x, infinity) of "
                        "{'EXIT', {R, {gen_server, call, [P, x, infinity]}}} -> R end."),
              "noproc");
  }
}

// The caller that gave up (its timeout) before the server answered: the late reply is dropped at
// the inactive alias, and the server's later exit sends nothing the caller can see.
TEST_F(LiveCallMonitors, AnAbandonedCallLeavesNothingInTheCallersMailbox) {
  start_servers(calls);
  const std::string pid = start_holder(calls);
  EXPECT_EQ(beam.eval("P = " + pid +
                      ", {'EXIT', {timeout, _}} = (catch gen_server:call(P, hold, "
                      "100)), gen_server:cast(P, {stop, late}), "
                      "receive M -> {stray, M} after 300 -> none end."),
            "none");
}

}  // namespace
}  // namespace cppnode::servers
