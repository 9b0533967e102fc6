// SPDX-License-Identifier: Apache-2.0
// pg scopes and Phoenix.PubSub against real BEAM nodes: members seen both ways, monitors, exits
// and killed nodes, 10,000 members, two scopes, a late scope, malformed protocol messages, and
// broadcasts in the PG2 adapter's wire shapes (erlang_test_harness/cppnode_pubsub_shape.ex).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cppnode/servers/servers.hpp"
#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/child_process.hpp"
#include "cppnode/test_support/dist.hpp"
#include "cppnode/test_support/names.hpp"
#include "live_node.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using namespace std::chrono_literals;
using cnode::testing::erl_literal;
using cnode::testing::LiveNode;
using cnode::testing::Probe;
using cnode::testing::wait_until;
using codec::Pid;
using codec::Term;
using test_support::BeamKind;
using test_support::BeamNode;
using test_support::Epmd;

std::shared_ptr<Probe> spawn_probe(cnode::Node& node) {
  auto p = std::make_shared<Probe>(node);
  node.spawn(p);
  return p;
}

class LivePg : public ::testing::Test {
 protected:
  LivePg() { EXPECT_EQ(erl.eval("{ok, _} = pg:start(pg), ok"), "ok"); }

  // Waits until `expr` evaluates to `expected` on `beam`.
  static bool beam_says(BeamNode& beam, const std::string& expr, const std::string& expected) {
    std::string last;
    const bool ok = wait_until([&] { return (last = beam.eval(expr)) == expected; });
    if (!ok) ADD_FAILURE() << expr << " gave " << last << ", expected " << expected;
    return ok;
  }

  Epmd epmd;
  BeamNode erl{epmd, {.name_prefix = "pg"}};
  LiveNode cpp{epmd, [this](cnode::NodeConfig& c) { c.connect = {erl.node_name()}; }};
  std::shared_ptr<PgScope> scope = PgScope::start(cpp.node(), "pg"_a);
};

TEST_F(LivePg, JoinsLeavesAndMonitorsAreSeenOnBothSides) {
  auto member = spawn_probe(cpp.node());
  auto watcher = spawn_probe(cpp.node());
  const std::string member_lit = erl_literal(Term(member->self()));
  ASSERT_EQ(erl.eval("{Ref, _} = pg:monitor_scope(pg), put(ref, Ref), ok"), "ok");
  const auto watch = scope->monitor_scope(watcher->self());
  EXPECT_TRUE(watch.groups.empty());

  // C++ joins: the BEAM's get_members, which_groups and monitor see it.
  scope->join("g1"_a, member->self());
  beam_says(erl, "pg:get_members(pg, g1) =:= [" + member_lit + "]", "true");
  EXPECT_EQ(erl.eval("Ref = get(ref), receive {Ref, join, g1, Ps} -> Ps =:= [" + member_lit +
                     "] after 5000 -> timeout end"),
            "true");
  Term pids;
  auto note = watcher->take_message();
  ASSERT_TRUE(note);
  EXPECT_TRUE(codec::match(*note, Term(watch.ref), "join"_a, "g1"_a, &pids)) << *note;
  EXPECT_EQ(pids, codec::list(member->self()));

  // The BEAM joins (twice the same pid): C++ sees both, and its monitor says so.
  EXPECT_EQ(erl.eval("P = spawn(fun() -> receive stop -> ok end end), put(p, P), "
                     "pg:join(pg, g2, [P, P])"),
            "ok");
  ASSERT_TRUE(wait_until([&] { return scope->members("g2"_a).size() == 2; }));
  for (const Pid& p : scope->members("g2"_a)) EXPECT_EQ(p.node, codec::Atom(erl.node_name()));
  EXPECT_TRUE(scope->local_members("g2"_a).empty());
  note = watcher->take_message();
  ASSERT_TRUE(note);
  EXPECT_TRUE(codec::match(*note, Term(watch.ref), "join"_a, "g2"_a, &pids)) << *note;
  EXPECT_EQ(pids.list_elements().size(), 2U);
  EXPECT_EQ(scope->which_groups(), (std::vector<Term>{"g1"_a, "g2"_a}));
  EXPECT_EQ(erl.eval("lists:sort(pg:which_groups(pg))"), "[g1,g2]");

  // Leaves both ways; a second leave is not_joined.
  EXPECT_TRUE(scope->leave("g1"_a, member->self()));
  EXPECT_FALSE(scope->leave("g1"_a, member->self()));
  beam_says(erl, "pg:get_members(pg, g1)", "[]");
  EXPECT_EQ(erl.eval("pg:leave(pg, g2, get(p))"), "ok");
  ASSERT_TRUE(wait_until([&] { return scope->members("g2"_a).size() == 1; }));
  // A BEAM member that exits is dropped by its node's scope, which tells us.
  EXPECT_EQ(erl.eval("get(p) ! stop, ok"), "ok");
  ASSERT_TRUE(wait_until([&] { return scope->members("g2"_a).empty(); }));
  EXPECT_TRUE(scope->which_groups().empty());

  // A C++ member that exits leaves every group it joined, on every node.
  scope->join("g3"_a, member->self());
  scope->join("g4"_a, member->self());
  beam_says(erl, "length(pg:get_members(pg, g3)) + length(pg:get_members(pg, g4))", "2");
  cpp->exit_process(member->self(), "kill"_a);
  beam_says(erl, "pg:which_groups(pg)", "[]");
  EXPECT_TRUE(scope->which_groups().empty());

  EXPECT_TRUE(scope->demonitor(watch.ref));
  EXPECT_FALSE(scope->demonitor(watch.ref));
  EXPECT_THROW(scope->join("g1"_a, Pid{codec::Atom(erl.node_name()), 1, 0, 1}),
               std::invalid_argument);
}

TEST_F(LivePg, TenThousandMembersBothWaysBySyncAndByJoin) {
  // A second BEAM node whose 10,000 members exist before it meets the C node: we learn them
  // from the sync that answers our discovery.
  BeamNode late(epmd, {.name_prefix = "pglate"});
  EXPECT_EQ(
      late.eval("{ok, _} = pg:start(pg), "
                "Ps = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, 10000)],"
                " pg:join(pg, big, Ps)"),
      "ok");
  EXPECT_EQ(late.eval("net_kernel:connect_node('" + cpp.name() + "')"), "true");
  ASSERT_TRUE(wait_until([&] { return scope->members("big"_a).size() == 10'000; }, 20s))
      << scope->members("big"_a).size();

  // 10,000 C++ members in one join: a join message to the connected node, and part of the sync
  // to a node that meets us later.
  std::vector<std::shared_ptr<Probe>> probes;
  std::vector<Pid> pids;
  for (int i = 0; i < 10'000; ++i) {
    probes.push_back(spawn_probe(cpp.node()));
    pids.push_back(probes.back()->self());
  }
  scope->join("many"_a, pids);
  beam_says(erl, "length(pg:get_members(pg, many))", "10000");
  beam_says(late, "length(pg:get_members(pg, many))", "10000");
  EXPECT_EQ(scope->local_members("many"_a).size(), 10'000U);
  cpp->exit_process(pids.front(), "kill"_a);
  beam_says(erl, "length(pg:get_members(pg, many))", "9999");
  EXPECT_EQ(scope->leave("many"_a, pids), true);
  beam_says(late, "pg:get_members(pg, many)", "[]");
}

TEST_F(LivePg, MembersOfAKilledBeamNodeAreDropped) {
  BeamNode doomed(epmd, {.name_prefix = "pgdoomed"});
  EXPECT_EQ(doomed.eval("{ok, _} = pg:start(pg), net_kernel:connect_node('" + cpp.name() +
                        "'), pg:join(pg, doomed, [spawn(fun() -> receive stop -> ok end end) "
                        "|| _ <- [1, 2, 3]])"),
            "ok");
  ASSERT_TRUE(wait_until([&] { return scope->members("doomed"_a).size() == 3; }));
  doomed.kill();
  EXPECT_TRUE(wait_until([&] { return scope->members("doomed"_a).empty(); }));
}

TEST_F(LivePg, MembersOfAKilledCNodeAreDropped) {
  const std::string name = test_support::cppnode_node_name(test_support::unique_name("pgcnode"));
  test_support::ChildProcess other({CPPNODE_PG_MEMBER_NODE, name, erl.cookie(),
                                    std::to_string(epmd.port()), erl.node_name(), "gone", "5"},
                                   {});
  ASSERT_TRUE(
      other.wait_stdout([](const std::string& out) { return out.find("ready") != out.npos; },
                        std::chrono::steady_clock::now() + 10s))
      << other.stderr_text();
  beam_says(erl, "length(pg:get_members(pg, gone))", "5");
  other.kill(SIGKILL);
  beam_says(erl, "pg:get_members(pg, gone)", "[]");
}

TEST_F(LivePg, ScopesAreIndependent) {
  EXPECT_EQ(erl.eval("{ok, _} = pg:start(other), ok"), "ok");
  auto other = PgScope::start(cpp.node(), "other"_a);
  EXPECT_THROW(PgScope::start(cpp.node(), "other"_a), std::logic_error);
  auto member = spawn_probe(cpp.node());
  other->join("g"_a, member->self());
  EXPECT_EQ(erl.eval("P = spawn(fun() -> receive stop -> ok end end), pg:join(pg, g, P)"), "ok");
  beam_says(erl, "length(pg:get_members(other, g))", "1");
  ASSERT_TRUE(wait_until([&] { return scope->members("g"_a).size() == 1; }));
  EXPECT_EQ(erl.eval("pg:get_members(pg, g) =:= pg:get_members(other, g)"), "false");
  EXPECT_TRUE(other->members("g"_a) == std::vector<Pid>{member->self()});
}

TEST_F(LivePg, AScopeThatStartsAfterTheConnectionIsFound) {
  auto late = PgScope::start(cpp.node(), "late"_a);
  auto member = spawn_probe(cpp.node());
  late->join("g"_a, member->self());
  ASSERT_TRUE(wait_until([&] { return !cpp->connected_nodes().empty(); }));
  EXPECT_EQ(erl.eval("{ok, _} = pg:start(late), ok"), "ok");
  beam_says(erl, "length(pg:get_members(late, g))", "1");
}

TEST_F(LivePg, MalformedProtocolMessagesAreDroppedAndTheScopeGoesOn) {
  const std::string to = "{pg, " + cpp.atom() + "}";
  EXPECT_EQ(erl.eval(to + " ! hello, " + to + " ! {join, self(), g, not_a_pid}, " + to +
                     " ! {leave, self(), [self()], not_a_list}, " + to +
                     " ! {'$gen_cast', {sync, self(), [bad]}}, ok"),
            "ok");
  // A join from a process that is not a known scope is ignored, as pg does.
  EXPECT_EQ(erl.eval(to + " ! {join, self(), stray, self()}, ok"), "ok");
  auto member = spawn_probe(cpp.node());
  scope->join("later"_a, member->self());
  beam_says(erl, "length(pg:get_members(pg, later))", "1");
  EXPECT_TRUE(scope->members("stray"_a).empty());
  EXPECT_TRUE(scope->alive());
}

// ---- Phoenix.PubSub ----

// README's worked example, word for word: the last price of each symbol broadcast on "prices".
class PriceBoard : public GenServer {
 protected:
  InfoResult handle_info(const Term& message) override {
    Term symbol;
    Term price;
    // {:price, "EURUSD", 1.09} from any node
    if (match(message, "price"_a, &symbol, &price)) latest_[symbol] = price;
    return noreply();
  }
  CallResult handle_call(const Term& request, const From&) override {
    Term symbol;
    if (!match(request, "latest"_a, &symbol)) return no_match();
    auto it = latest_.find(symbol);
    return reply(it == latest_.end() ? Term("none"_a) : it->second);
  }

 private:
  std::map<Term, Term> latest_;
};

class LivePhoenixPubSub : public ::testing::Test {
 protected:
  LivePhoenixPubSub() {
    EXPECT_EQ(ex.eval("CppnodePubSubShape.start(MyApp.PubSub, 2)"), "ok");
    EXPECT_EQ(ex.eval("CppnodePubSubShape.subscribe(MyApp.PubSub, \"room:1\")"), "ok");
    // Both nodes' listeners of both pool groups are in each node's view.
    for (const char* group : {"MyApp.PubSub.Adapter", "MyApp.PubSub.Adapter_2"}) {
      EXPECT_TRUE(wait_until([&] {
        return ex.eval("length(:pg.get_members(Phoenix.PubSub, " + std::string(group) + "))") ==
               "2";
      })) << group;
    }
    EXPECT_TRUE(
        wait_until([&] { return pubsub->scope()->members(pubsub->groups().front()).size() == 2; }));
  }

  Epmd epmd;
  BeamNode ex{epmd,
              {.kind = BeamKind::elixir,
               .name_prefix = "pubsub",
               .erl_args = {"-pa", CPPNODE_HARNESS_EBIN}}};
  LiveNode cpp{epmd, [this](cnode::NodeConfig& c) { c.connect = {ex.node_name()}; }};
  std::shared_ptr<PhoenixPubSub> pubsub =
      PhoenixPubSub::start(cpp.node(), {.name = "Elixir.MyApp.PubSub"_a, .pool_size = 2});
};

TEST_F(LivePhoenixPubSub, BroadcastsReachBothWaysInTheSendersOrder) {
  EXPECT_EQ(pubsub->groups(), (std::vector<codec::Atom>{"Elixir.MyApp.PubSub.Adapter"_a,
                                                        "Elixir.MyApp.PubSub.Adapter_2"_a}));
  auto subscriber = spawn_probe(cpp.node());
  pubsub->subscribe(subscriber->self(), "room:1");

  // Elixir -> C++: 200 broadcasts, in order, and nothing for another topic.
  EXPECT_EQ(ex.eval("for i <- 1..200, do: CppnodePubSubShape.broadcast(MyApp.PubSub, "
                    "\"room:1\", {:n, i}); CppnodePubSubShape.broadcast(MyApp.PubSub, "
                    "\"room:2\", :other); :ok"),
            "ok");
  for (std::int64_t i = 1; i <= 200; ++i) {
    auto m = subscriber->take_message();
    ASSERT_TRUE(m) << i;
    ASSERT_EQ(*m, codec::tuple("n"_a, i));
  }
  EXPECT_EQ(ex.eval("for _ <- 1..200, do: receive(do: ({:n, _} -> :ok)); :ok"), "ok");

  // C++ -> Elixir and the local subscriber: 200 broadcasts, in order.
  for (std::int64_t i = 1; i <= 200; ++i) pubsub->broadcast("room:1", codec::tuple("m"_a, i));
  EXPECT_EQ(ex.eval("Enum.map(1..200, fn _ -> receive do {:m, i} -> i after 5000 -> :timeout "
                    "end end) == Enum.to_list(1..200)"),
            "true");
  for (std::int64_t i = 1; i <= 200; ++i) {
    auto m = subscriber->take_message();
    ASSERT_TRUE(m) << i;
    ASSERT_EQ(*m, codec::tuple("m"_a, i));
  }
}

TEST_F(LivePhoenixPubSub, DirectFromAndLocalBroadcastsAndSubscriberExits) {
  auto a = spawn_probe(cpp.node());
  auto b = spawn_probe(cpp.node());
  pubsub->subscribe(a->self(), "room:1");
  pubsub->subscribe(b->self(), "room:1");

  pubsub->broadcast_from(a->self(), "room:1", "from_a"_a);
  EXPECT_EQ(b->take_message(), Term("from_a"_a));
  EXPECT_EQ(ex.eval("receive do :from_a -> :ok after 5000 -> :timeout end"), "ok");

  pubsub->local_broadcast("room:1", "local"_a);
  EXPECT_EQ(a->take_message(), Term("local"_a));
  pubsub->direct_broadcast(codec::Atom(ex.node_name()), "room:1", "direct"_a);
  EXPECT_EQ(ex.eval("receive do :local -> :leaked; :direct -> :ok after 5000 -> :timeout end"),
            "ok");
  EXPECT_EQ(ex.eval("send({MyApp.PubSub.Adapter, :\"" + cpp.name() +
                    "\"}, {:forward_to_local, \"room:1\", :direct_in, Phoenix.PubSub}); :ok"),
            "ok");
  EXPECT_EQ(a->take_message(), Term("direct_in"_a));
  EXPECT_EQ(b->take_message(), Term("local"_a));
  EXPECT_EQ(b->take_message(), Term("direct_in"_a));

  pubsub->unsubscribe(a->self(), "room:1");
  cpp->exit_process(b->self(), "kill"_a);
  EXPECT_TRUE(wait_until([&] { return pubsub->subscribers("room:1").empty(); }));
  EXPECT_EQ(a->take_message(200ms), std::nullopt);
}

TEST_F(LivePhoenixPubSub, ReadmePriceBoardAnswersWhatElixirBroadcast) {
  auto board =
      servers::start(cpp.node(), std::make_unique<PriceBoard>(), {.global_name = "price_board"_a});
  ASSERT_TRUE(board);
  pubsub->subscribe(*board, "prices");
  EXPECT_EQ(ex.eval("CppnodePubSubShape.broadcast(MyApp.PubSub, \"prices\", "
                    "{:price, \"EURUSD\", 1.09})"),
            "ok");
  EXPECT_TRUE(wait_until([&] {
    return ex.eval("GenServer.call({:global, :price_board}, {:latest, \"EURUSD\"})") == "1.09";
  }));
  EXPECT_EQ(ex.eval("GenServer.call({:global, :price_board}, {:latest, \"GBPUSD\"})"), "none");
}

}  // namespace
}  // namespace cppnode::servers
