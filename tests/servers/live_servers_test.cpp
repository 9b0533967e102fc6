// SPDX-License-Identifier: Apache-2.0
// C++ GenServers against real BEAM nodes: OTP 25 calls (alias tags), sys, exits seen by a
// waiting caller, {global, Name} registration and calls out from C++ to BEAM servers.
#include <gtest/gtest.h>

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
using test_support::BeamKind;
using test_support::BeamNode;
using test_support::Epmd;

// Relays `{relay, Dest, Request}` calls to a BEAM server with a call out, answering
// `{ok, Reply}` or `{error, Reason}` once it comes; counts relays in its state.
class Relay : public GenServer {
 public:
  [[nodiscard]] Term state_term() const override { return relayed_; }

 protected:
  CallResult handle_call(const Term& req, const From& from) override {
    Term dest;
    Term request;
    std::int64_t timeout = 0;
    if (!codec::match(req, "relay"_a, &dest, &request, &timeout)) return no_match();
    call(*Dest::from_term(dest), request, std::chrono::milliseconds(timeout),
         [this, from](CallOutcome r) {
           ++relayed_;
           from.reply(codec::tuple(r.ok ? "ok"_a : "error"_a, r.value));
           return noreply();
         });
    return noreply();
  }

 private:
  std::int64_t relayed_ = 0;
};

class LiveServers : public ::testing::Test {
 protected:
  // Waits until `name` resolves to a pid of this C node through global on `beam`.
  bool globally_registered(BeamNode& beam, const std::string& name) {
    const std::string erl =
        "case global:whereis_name(" + name + ") of P when is_pid(P) -> node(P); _ -> none end.";
    const std::string elixir =
        "case :global.whereis_name(:" + name + ") do p when is_pid(p) -> node(p); _ -> :none end";
    return wait_until([&] { return beam.eval(&beam == &ex ? elixir : erl) == cpp.printed(); });
  }

  Epmd epmd;
  BeamNode ex{epmd, {.kind = BeamKind::elixir, .name_prefix = "ex"}};
  LiveNode cpp{epmd, [this](cnode::NodeConfig& c) { c.connect = {ex.node_name()}; }};
};

TEST_F(LiveServers, SeedServersAnswerElixirByGlobalName) {
  auto sup = examples::start_example_servers(cpp.node(), {});
  ASSERT_TRUE(sup) << sup.error();
  for (const char* name : {"counter", "stack", "kv_store", "erl_kv_store", "hashmap",
                           "rate_limiter", "shopping_cart"}) {
    EXPECT_TRUE(wait_until([&] {
      return ex.eval("is_pid(:global.whereis_name(:" + std::string(name) + "))") == "true";
    })) << name;
  }
  EXPECT_EQ(ex.eval("GenServer.cast({:global, :counter}, {:increment, 5})"), "ok");
  EXPECT_EQ(ex.eval("GenServer.call({:global, :counter}, :get_count)"), "5");
  EXPECT_EQ(ex.eval("GenServer.call({:global, :kv_store}, {:put, \"a\", %{b: [1, 2.5]}})"), "ok");
  EXPECT_EQ(ex.eval("GenServer.call({:global, :kv_store}, {:get, \"a\"})"), "#{b => [1,2.5]}");
  // By {Name, Node} too, and no stray reply left in the caller's mailbox (alias replies).
  EXPECT_EQ(ex.eval("GenServer.call({:stack, :\"" + cpp.name() + "\"}, :pop)"), "hello");
  EXPECT_EQ(ex.eval("receive do m -> {:stray, m} after 100 -> :none end"), "none");
  // :sys works on C++ servers.
  EXPECT_EQ(ex.eval(":sys.get_state({:global, :kv_store})"), "#{<<\"a\">> => #{b => [1,2.5]}}");
  EXPECT_EQ(ex.eval("{:status, _, {:module, :gen_server}, [_, :running, _, [], misc]} = "
                    ":sys.get_status({:global, :counter}); "
                    "Enum.at(misc, 2)"),
            "{data,[{\"State\",5}]}");
}

TEST_F(LiveServers, CrashExitsTheWaitingCallerAtOnceAndRestarts) {
  auto sup = examples::start_example_servers(cpp.node(), {});
  ASSERT_TRUE(sup);
  ASSERT_TRUE(
      wait_until([&] { return ex.eval("is_pid(:global.whereis_name(:stack))") == "true"; }));
  EXPECT_EQ(ex.eval("GenServer.call({:global, :stack}, :pop)"), "hello");
  const std::string old = ex.eval(":global.whereis_name(:stack)");
  // Infinity timeout: only the exit signal can end this call.
  EXPECT_EQ(
      ex.eval("try do GenServer.call({:global, :stack}, :pop, :infinity) catch "
              ":exit, {{:function_clause, [{m, f, [req | _], _} | _]}, _} -> {m, f, req} end"),
      "{'Elixir.Stack',handle_call,pop}");
  EXPECT_TRUE(wait_until([&] {
    const std::string now = ex.eval(":global.whereis_name(:stack)");
    return now != old && now.find('<') == 0;
  }));
  EXPECT_EQ(ex.eval("GenServer.call({:global, :stack}, :pop)"), "hello");
}

TEST_F(LiveServers, CallsOutToBeamServers) {
  ASSERT_EQ(ex.eval("{:ok, pid} = Agent.start(fn -> 41 end, name: :agent); "
                    ":yes = :global.register_name(:gagent, pid); :ok"),
            "ok");
  auto relay = start(cpp.node(), std::make_unique<Relay>(),
                     {.local_name = "relay"_a, .global_name = Term("relay"_a)});
  ASSERT_TRUE(relay);
  EXPECT_TRUE(globally_registered(ex, "relay"));
  const std::string relay_call = "GenServer.call({:relay, :\"" + cpp.name() + "\"}, ";
  // Agent.get(agent, fn s -> s + 1 end) is a gen_server call with {get, Fun}.
  EXPECT_EQ(ex.eval(relay_call + "{:relay, {:agent, node()}, {:get, fn s -> s + 1 end}, 5000})"),
            "{ok,42}");
  EXPECT_EQ(ex.eval(relay_call + "{:relay, Process.whereis(:agent), {:get, fn s -> s end}, 5000})"),
            "{ok,41}");
  EXPECT_EQ(ex.eval(relay_call + "{:relay, {:global, :gagent}, {:get, fn s -> s * 2 end}, 5000})"),
            "{ok,82}");
  EXPECT_EQ(ex.eval(relay_call + "{:relay, {:global, :nobody}, :x, 5000})"), "{error,noproc}");
  EXPECT_EQ(ex.eval(relay_call + "{:relay, {:nobody, node()}, :x, 5000})"), "{error,noproc}");
  EXPECT_EQ(ex.eval(relay_call +
                    "{:relay, {:agent, node()}, {:get, fn s -> Process.sleep(2000); s end}, 10})"),
            "{error,timeout}");
  EXPECT_EQ(ex.eval("Agent.stop(:agent, :bye)"), "ok");
  EXPECT_EQ(ex.eval(relay_call + "{:relay, {:agent, node()}, :x, 5000})"), "{error,noproc}");
  EXPECT_EQ(ex.eval(":sys.get_state({:relay, :\"" + cpp.name() + "\"})"), "7");
}

TEST_F(LiveServers, GlobalNamesFollowTheServerAndTheCluster) {
  BeamNode erl(epmd);
  ASSERT_EQ(erl.eval("net_adm:ping('" + ex.node_name() + "')."), "pong");
  auto sup = Supervisor::start(
      cpp.node(), {ChildSpec{"g"_a, [] { return examples::make_counter(); }, Restart::permanent,
                             std::nullopt, Term("g_counter"_a)}});
  ASSERT_TRUE(sup);
  EXPECT_TRUE(globally_registered(ex, "g_counter"));
  EXPECT_TRUE(globally_registered(erl, "g_counter"));
  // The C node learnt the rest of the cluster from the node it connected to.
  EXPECT_TRUE(wait_until(
      [&] { return erl.eval("lists:member(" + cpp.atom() + ", nodes(hidden)).") == "true"; }));
  // After a crash the restarted server is registered again, from every node's point of view.
  const std::string old = erl.eval("global:whereis_name(g_counter).");
  EXPECT_EQ(erl.eval("gen_server:cast({global, g_counter}, {increment, x})."), "ok");
  EXPECT_TRUE(wait_until([&] {
    const std::string now = erl.eval("global:whereis_name(g_counter).");
    return now != old && now.find('<') == 0;
  }));
  EXPECT_EQ(erl.eval("gen_server:call({global, g_counter}, get_count)."), "0");
  EXPECT_EQ(erl.eval("gen_server:cast({global, g_counter}, {increment, 5})."), "ok");
  const std::string before = erl.eval("global:whereis_name(g_counter).");
  // The registering node (the one the C node connected to) dies: the name stays usable and
  // the server lives on (global's link from that node was dropped).
  ex.kill();
  EXPECT_TRUE(globally_registered(erl, "g_counter"));
  EXPECT_EQ(erl.eval("gen_server:call({global, g_counter}, get_count)."), "5");
  EXPECT_EQ(erl.eval("global:whereis_name(g_counter)."), before);
}

}  // namespace
}  // namespace cppnode::servers

namespace cppnode::servers {
namespace {

TEST_F(LiveServers, SuspendedServerHoldsCallsUntilResumed) {
  BeamNode erl(epmd, {.erl_args = {"-pa", CPPNODE_HARNESS_EBIN}});
  ASSERT_EQ(erl.eval("net_adm:ping('" + ex.node_name() + "')."), "pong");
  auto sup = examples::start_example_servers(cpp.node(), {});
  ASSERT_TRUE(sup);
  EXPECT_TRUE(globally_registered(erl, "counter"));
  const std::string caller =
      erl.eval("C = cppnode_harness:call_when_suspended(counter, get_count).");
  ASSERT_EQ(caller.rfind("<", 0), 0U) << caller;
  EXPECT_EQ(erl.eval("receive {call_result, R} -> R after 300 -> waiting end."), "waiting");
  EXPECT_EQ(erl.eval("sys:resume({global, counter})."), "ok");
  EXPECT_EQ(erl.eval("receive {call_result, R} -> R after 10000 -> no_reply end."), "0");
}

}  // namespace
}  // namespace cppnode::servers
