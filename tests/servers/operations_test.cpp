// SPDX-License-Identifier: Apache-2.0
// The operator tools on a real node without network: node_stats (with a real backlog), the
// `cppnode` stats server, the `cppnode:` RPC functions and their supervisor.
#include "cppnode/servers/operations.hpp"

#include <gtest/gtest.h>

#include <future>

#include "cppnode/cnode/node.hpp"
#include "cppnode/servers/start.hpp"
#include "local_node.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using codec::Atom;
using codec::Term;
using testing::LocalNode;

const Term& get(const Term& map, Atom key) {
  const Term* v = map.as<codec::Map>().find(key);
  if (v == nullptr) throw std::out_of_range("no key " + std::string(key.name()));
  return *v;
}

// A process whose first signal blocks its strand until `release`, so later ones queue up.
class Stuck : public cnode::Process {
 public:
  explicit Stuck(cnode::Node& node, std::shared_future<void> release)
      : cnode::Process(node), release_(std::move(release)) {}

 protected:
  void on_signal(cnode::Signal) override { release_.wait(); }

 private:
  std::shared_future<void> release_;
};

TEST(StatsOfALocalNode, CountsProcessesAndHasNoConnections) {
  LocalNode local;
  const Term stats = node_stats(local.node());
  EXPECT_EQ(get(stats, "node"_a), Term(local.node().name()));
  EXPECT_EQ(get(stats, "processes"_a), Term(local.node().process_count()));
  EXPECT_EQ(get(stats, "connections"_a), Term(0));
  EXPECT_EQ(get(stats, "connected_nodes"_a), codec::list());
  EXPECT_EQ(get(stats, "connections_total"_a), Term(0));
  EXPECT_EQ(get(stats, "messages_in"_a), Term(0));
  EXPECT_EQ(get(stats, "messages_out"_a), Term(0));
  EXPECT_EQ(get(stats, "mailboxes"_a), codec::list());
}

TEST(StatsOfALocalNode, MailboxesShowTheDeepestQueuesWithTheirNames) {
  LocalNode local;
  std::promise<void> release;
  // Declared after `local`, so the strand is unblocked before the node stops, also on failure.
  struct Releaser {
    std::promise<void>& p;
    ~Releaser() { p.set_value(); }
  };
  auto stuck = std::make_shared<Stuck>(local.node(), release.get_future().share());
  const codec::Pid pid = local.node().spawn(stuck);
  ASSERT_TRUE(local.node().register_name("stuck"_a, pid));
  {
    Releaser releaser{release};
    for (int i = 0; i < 4; ++i) local.node().send(local.probe().self(), pid, Term(i));
    // The first message blocks the strand; three stay queued.
    ASSERT_TRUE(LocalNode::eventually([&] { return stuck->queued() == 3; }));
    const Term mailboxes = get(node_stats(local.node()), "mailboxes"_a);
    EXPECT_EQ(mailboxes,
              codec::list(codec::map(
                  {{"pid"_a, pid}, {"name"_a, "stuck"_a}, {"queued"_a, std::uint64_t{3}}})));
    EXPECT_EQ(get(node_stats(local.node(), 0), "mailboxes"_a), codec::list());
  }
  ASSERT_TRUE(LocalNode::eventually([&] { return stuck->queued() == 0; }));
  EXPECT_EQ(get(node_stats(local.node()), "mailboxes"_a), codec::list());
}

TEST(StatsServer, AnswersStatsAndExitsOnOtherRequests) {
  LocalNode local;
  auto started = start(local.node(), make_stats_server(), {.local_name = "cppnode"_a});
  ASSERT_TRUE(started);
  const auto stats = local.call("cppnode"_a, "stats"_a);
  ASSERT_TRUE(stats);
  EXPECT_EQ(get(*stats, "processes"_a), Term(local.node().process_count()));
  EXPECT_EQ(local.sys(*started, "get_state"_a), Term("cppnode_stats"_a));
  const auto reason = local.call_exit(*started, "statz"_a);
  ASSERT_TRUE(reason);
  EXPECT_EQ(reason->as<codec::Tuple>().elements[0], Term("function_clause"_a));
}

TEST(StatsOperations, StartsRexAndStatsUnderASupervisorWithTheNodeFunctions) {
  LocalNode local;
  auto functions = std::make_shared<RpcFunctions>();
  register_node_functions(functions, local.node(), "9.8.7");
  auto sup = start_operations(local.node(), functions);
  ASSERT_TRUE(sup) << sup.error();
  EXPECT_TRUE(local.node().whereis("cppnode_ops_sup"_a));
  const auto rex = local.node().whereis("rex"_a);
  ASSERT_TRUE(rex);
  auto rpc = [&](Atom f) {
    return local.call("rex"_a, codec::tuple("call"_a, "cppnode"_a, f, codec::list(), "user"_a));
  };
  EXPECT_EQ(rpc("version"_a), codec::binary("9.8.7"));
  EXPECT_EQ(rpc("functions"_a), codec::list(codec::tuple("cppnode"_a, "functions"_a, 0),
                                            codec::tuple("cppnode"_a, "stats"_a, 0),
                                            codec::tuple("cppnode"_a, "version"_a, 0)));
  const auto stats = rpc("stats"_a);
  ASSERT_TRUE(stats);
  EXPECT_EQ(get(*stats, "node"_a), Term(local.node().name()));
  // Functions registered later are served at once; a restarted rex keeps them.
  functions->register_function("app"_a, "ping"_a, 0,
                               [](const std::vector<Term>&) { return Term("pong"_a); });
  local.node().exit_process(*rex, "kill"_a);
  ASSERT_TRUE(LocalNode::eventually([&] {
    auto now = local.node().whereis("rex"_a);
    return now && *now != *rex;
  }));
  EXPECT_EQ(local.call("rex"_a, codec::tuple("call"_a, "app"_a, "ping"_a, codec::list(), "user"_a)),
            Term("pong"_a));
}

}  // namespace
}  // namespace cppnode::servers
