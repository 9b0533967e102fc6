// SPDX-License-Identifier: Apache-2.0
// The cluster harness (erlang_test_harness/): three BEAM nodes (two Elixir, one Erlang) and the
// C node with the seed servers as a separate process. Every seed server is called from every
// node by {global, Name} and must answer exactly as the real seed module does; then the
// registering node dies, the C node dies (waiting callers exit, names vanish) and comes back.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/child_process.hpp"
#include "cppnode/test_support/dist.hpp"
#include "cppnode/test_support/epmd.hpp"
#include "cppnode/test_support/names.hpp"

namespace {

using namespace std::chrono_literals;
using cppnode::test_support::BeamKind;
using cppnode::test_support::BeamNode;
using cppnode::test_support::BeamOptions;
using cppnode::test_support::ChildProcess;
using cppnode::test_support::Epmd;

const std::vector<std::string> seed_servers = {"counter",      "stack",   "kv_store",
                                               "erl_kv_store", "hashmap", "shopping_cart"};
const std::vector<std::string> all_servers = {
    "counter", "stack", "kv_store", "erl_kv_store", "hashmap", "rate_limiter", "shopping_cart"};
const std::string cookie = "cppnode_harness_cookie";

BeamOptions beam_options(BeamKind kind, const std::string& prefix) {
  BeamOptions o;
  o.kind = kind;
  o.name_prefix = prefix;
  o.cookie = cookie;
  o.erl_args = {"-pa", CPPNODE_HARNESS_EBIN};
  o.eval_timeout = 60s;  // a whole comparison runs in one eval
  return o;
}

// The C node as its own process (killed with SIGKILL like a crashed node).
class CNode {
 public:
  CNode(const Epmd& epmd, std::string name, const std::vector<std::string>& extra) {
    std::vector<std::string> argv{CPPNODE_EXECUTABLE, "--cookie", cookie};
    const auto dist = cppnode::test_support::cppnode_dist_args(name);
    argv.insert(argv.end(), dist.begin(), dist.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    // The name may be held by epmd for a moment after a kill: try again a few times.
    for (int attempt = 0; attempt < 20; ++attempt) {
      process_ =
          std::make_unique<ChildProcess>(argv, std::vector<std::pair<std::string, std::string>>{
                                                   {"ERL_EPMD_PORT", std::to_string(epmd.port())}});
      const auto deadline = ChildProcess::Clock::now() + 20s;
      if (process_->wait_stderr(
              [](const std::string& err) { return err.find("is running") != std::string::npos; },
              deadline)) {
        return;
      }
      process_->kill_and_reap();
    }
    ADD_FAILURE() << "the C node did not start: " << process_->stderr_text();
  }
  void kill() { process_->kill_and_reap(); }
  [[nodiscard]] std::string log() { return process_->stderr_text(); }

 private:
  std::unique_ptr<ChildProcess> process_;
};

class Harness : public ::testing::Test {
 protected:
  // Erlang or Elixir syntax for the same harness call.
  static std::string harness(BeamNode& node, bool elixir, const std::string& fun,
                             const std::string& erl_args, const std::string& ex_args) {
    (void)node;
    return elixir ? ":cppnode_harness." + fun + "(" + ex_args + ")"
                  : "cppnode_harness:" + fun + "(" + erl_args + ").";
  }
  // Waits until every server in `names` is registered to the C node as seen from `node`.
  bool all_registered(BeamNode& node, bool elixir, const std::vector<std::string>& names) {
    for (const auto& n : names) {
      const std::string where =
          harness(node, elixir, "wait_registered", n + ", 10000", ":" + n + ", 10000");
      const std::string at = node.eval(elixir ? "node(" + where + ")"
                                              : "node(" + where.substr(0, where.size() - 1) + ").");
      // Printed as an atom: quoted when the host is an IPv6 literal.
      if (at != cpp_node && at != "'" + cpp_node + "'") {
        ADD_FAILURE() << n << " is at " << at << " as seen from " << node.node_name();
        return false;
      }
    }
    return true;
  }

  Epmd epmd;
  std::string cpp_name = cppnode::test_support::unique_name("cpp");
  std::string cpp_node = cppnode::test_support::cppnode_node_name(cpp_name);
};

TEST_F(Harness, SeedServersAcrossTheCluster) {
  BeamNode e1(epmd, beam_options(BeamKind::elixir, "e1"));
  BeamNode e2(epmd, beam_options(BeamKind::elixir, "e2"));
  BeamNode r1(epmd, beam_options(BeamKind::erlang, "r1"));
  ASSERT_EQ(e1.eval("Node.ping(:\"" + e2.node_name() + "\")"), "pong");
  ASSERT_EQ(e1.eval("Node.ping(:\"" + r1.node_name() + "\")"), "pong");
  ASSERT_EQ(e1.eval(":cppnode_harness.start_references()"), "ok");

  auto cpp =
      std::make_unique<CNode>(epmd, cpp_name,
                              std::vector<std::string>{"--connect", e1.node_name(), "--rate-limit",
                                                       "3", "--max-restarts", "1000"});
  ASSERT_TRUE(all_registered(e1, true, all_servers));
  ASSERT_TRUE(all_registered(e2, true, all_servers));
  ASSERT_TRUE(all_registered(r1, false, all_servers));

  // Every server, from every node, Elixir and Erlang clients: the same answers as the seeds.
  struct Client {
    BeamNode* node;
    bool elixir;
  };
  for (const Client c : {Client{&e1, true}, Client{&e2, true}, Client{&r1, false}}) {
    for (const auto& s : seed_servers) {
      const std::string result =
          c.node->eval(harness(*c.node, c.elixir, "compare", s + ", erlang",
                               ":" + s + ", " + (c.elixir ? ":elixir" : ":erlang")));
      EXPECT_EQ(result.rfind("{ok,", 0), 0U)
          << s << " from " << c.node->node_name() << ": " << result;
    }
    // The rate limiter says no after its allowance and yes again after the refill.
    const std::string rate = c.node->eval(
        harness(*c.node, c.elixir, "rate_check", "erlang, rate_limiter", ":elixir, :rate_limiter"));
    EXPECT_EQ(rate.rfind("{limited_after,", 0), 0U) << rate;
    EXPECT_NE(rate.find(",refilled}"), std::string::npos) << rate;
    EXPECT_EQ(c.node->eval(harness(*c.node, c.elixir, "probe", "erlang, rate_limiter, {call, deny}",
                                   ":erlang, :rate_limiter, {:call, :deny}")),
              "{exit,{function_clause,rate_limiter,handle_call,deny}}");
  }
  EXPECT_EQ(r1.eval("cppnode_harness:probe(erlang, rate_limiter, {cast, x})."),
            "{cast_exit,{undef,rate_limiter,handle_cast,x}}");
  EXPECT_EQ(r1.eval("gen_server:cast({global, counter}, {increment, 7}), "
                    "gen_server:call({global, counter}, get_count)."),
            "7");

  // The node the C node registered through (the one it connected to) dies: every name stays
  // resolvable from the others, and the servers keep their state.
  e1.kill();
  EXPECT_TRUE(all_registered(e2, true, all_servers));
  EXPECT_TRUE(all_registered(r1, false, all_servers));
  EXPECT_EQ(e2.eval("GenServer.call({:global, :counter}, :get_count)"), "7");

  // The C node dies while a caller waits for a reply: the caller exits at once (no timeout:
  // the call has none) and the names vanish everywhere. gen turns the lost connection into
  // noproc for calls by name, exactly as when a BEAM node hosting the server dies.
  const std::string caller =
      r1.eval("C = cppnode_harness:call_when_suspended(counter, get_count).");
  ASSERT_EQ(caller.rfind("<", 0), 0U) << caller;
  cpp->kill();
  EXPECT_EQ(r1.eval("receive {call_result, R} -> R after 10000 -> no_exit end."),
            "{exit,{noproc,{gen_server,call,[{global,counter},get_count,infinity]}}}");
  std::string erl_names;
  std::string ex_names;
  for (const auto& n : all_servers) {
    erl_names += (erl_names.empty() ? "" : ",") + n;
    ex_names += (ex_names.empty() ? ":" : ",:") + n;
  }
  EXPECT_EQ(r1.eval("cppnode_harness:wait_gone([" + erl_names + "], 10000)."), "[]");
  EXPECT_EQ(e2.eval(":cppnode_harness.wait_gone([" + ex_names + "], 10000)"), "[]");

  // Started again (connecting to another node), the names come back everywhere; this time the
  // cart forgets its items after 300 ms without activity.
  cpp = std::make_unique<CNode>(
      epmd, cpp_name,
      std::vector<std::string>{"--connect", e2.node_name(), "--cart-timeout-ms", "300"});
  EXPECT_TRUE(all_registered(e2, true, all_servers));
  EXPECT_TRUE(all_registered(r1, false, all_servers));
  EXPECT_EQ(e2.eval("GenServer.call({:global, :counter}, :get_count)"), "0");
  EXPECT_EQ(r1.eval("gen_server:call({global, shopping_cart}, {add_item, tea, 2})."), "ok");
  EXPECT_EQ(r1.eval("F = fun Wait(N) -> case gen_server:call({global, shopping_cart}, "
                    "list_items) of [] -> cleared; _ when N > 0 -> timer:sleep(20), Wait(N - 1); "
                    "Items -> Items end end, F(500)."),
            "cleared");
  cpp->kill();
}

}  // namespace
