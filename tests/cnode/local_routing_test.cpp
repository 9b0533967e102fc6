// SPDX-License-Identifier: Apache-2.0
// Local processes and signals on a node that is not on the network (no start()).
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <set>
#include <thread>

#include "cppnode/cnode/node.hpp"
#include "live_node.hpp"

namespace cppnode::cnode::testing {
namespace {

using codec::Atom;
using codec::Term;

class LocalNode : public ::testing::Test {
 protected:
  LocalNode() : node(make_config()) {}
  ~LocalNode() override {
    node.stop();
    thread.join();
  }
  static NodeConfig make_config() {
    NodeConfig c;
    c.node_name = "local@nohost";
    c.cookie = "x";
    c.threads = 2;
    return c;
  }
  std::shared_ptr<Probe> probe() {
    auto p = std::make_shared<Probe>(node);
    node.spawn(p);
    return p;
  }

  Node node;
  std::thread thread{[this] { node.run(); }};
};

TEST_F(LocalNode, SpawnSendAndOrder) {
  auto a = probe();
  auto b = probe();
  EXPECT_NE(a->self(), b->self());
  EXPECT_EQ(a->self().node, Atom("local@nohost"));
  EXPECT_EQ(node.find(a->self()), a);
  EXPECT_EQ(node.process_count(), 2U);
  for (int i = 0; i < 1000; ++i) node.send(b->self(), a->self(), Term(i));
  for (int i = 0; i < 1000; ++i) {
    auto m = a->take_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, Term(i));
  }
}

TEST_F(LocalNode, RegisteredNames) {
  auto a = probe();
  auto b = probe();
  EXPECT_TRUE(node.register_name(Atom("a"), a->self()));
  EXPECT_FALSE(node.register_name(Atom("a"), b->self()));   // name taken
  EXPECT_FALSE(node.register_name(Atom("a2"), a->self()));  // pid already named
  EXPECT_EQ(node.whereis(Atom("a")), a->self());
  node.send(b->self(), Atom("a"), node.name(), Term(Atom("hi")));
  EXPECT_EQ(a->take_message(), Term(Atom("hi")));
  node.unregister_name(Atom("a"));
  EXPECT_FALSE(node.whereis(Atom("a")));
  EXPECT_TRUE(node.register_name(Atom("a"), b->self()));
  node.exit_process(b->self(), Term(Atom("normal")));
  ASSERT_TRUE(wait_until([&] { return !node.whereis(Atom("a")).has_value(); }));
  EXPECT_FALSE(node.register_name(Atom("late"), b->self()));  // dead
}

TEST_F(LocalNode, ReferencesAreUnique) {
  std::set<std::array<std::uint32_t, 5>> seen;
  for (int i = 0; i < 10000; ++i) {
    auto r = node.make_ref();
    EXPECT_EQ(r.node, node.name());
    EXPECT_TRUE(seen.insert(r.ids).second);
  }
}

TEST_F(LocalNode, MonitorsFireOnExitAndNoprocForDead) {
  auto watcher = probe();
  auto target = probe();
  node.register_name(Atom("target"), target->self());
  const auto by_pid = node.monitor(watcher->self(), Term(target->self()), node.name());
  const auto by_name = node.monitor(watcher->self(), Term(Atom("target")), node.name());
  const auto dropped = node.monitor(watcher->self(), Term(target->self()), node.name());
  node.demonitor(watcher->self(), dropped);
  node.exit_process(target->self(), Term(Atom("bye")));
  std::set<std::string> got;
  for (int i = 0; i < 2; ++i) {
    auto d = watcher->take_down();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reason, Term(Atom("bye")));
    if (d->ref == by_pid) {
      EXPECT_EQ(d->object, Term(target->self()));
      got.insert("pid");
    } else {
      EXPECT_EQ(d->ref, by_name);
      EXPECT_EQ(d->object, codec::tuple(Atom("target"), node.name()));
      got.insert("name");
    }
  }
  EXPECT_EQ(got.size(), 2U);
  EXPECT_FALSE(watcher->take_down(std::chrono::milliseconds(50)));
  const auto late = node.monitor(watcher->self(), Term(target->self()), node.name());
  auto d = watcher->take_down();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ref, late);
  EXPECT_EQ(d->reason, Term(Atom("noproc")));
  node.monitor(watcher->self(), Term(Atom("nobody")), node.name());
  d = watcher->take_down();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, Term(Atom("noproc")));
}

TEST_F(LocalNode, LinksAndTrapExit) {
  auto trapping = probe();
  trapping->set_trap_exit(true);
  auto plain = probe();
  auto victim = probe();
  node.link(trapping->self(), victim->self());
  node.link(plain->self(), victim->self());
  ASSERT_TRUE(wait_until([&] { return true; }));
  node.exit_process(victim->self(), Term(Atom("crash")));
  auto e = trapping->take_exit();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->from, Term(victim->self()));
  EXPECT_EQ(e->reason, Term(Atom("crash")));
  ASSERT_TRUE(wait_until([&] { return plain->exit_reason().has_value(); }));
  EXPECT_EQ(*plain->exit_reason(), Term(Atom("crash")));
  // Linking to a dead process: an exit with noproc.
  node.link(trapping->self(), victim->self());
  e = trapping->take_exit();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->reason, Term(Atom("noproc")));
}

TEST_F(LocalNode, NormalExitDoesNotKillLinkedAndUnlinkWorks) {
  auto plain = probe();
  auto a = probe();
  auto b = probe();
  node.link(plain->self(), a->self());
  node.link(plain->self(), b->self());
  node.unlink(plain->self(), b->self());
  node.exit_process(a->self(), Term(Atom("normal")));
  node.exit_process(b->self(), Term(Atom("crash")));
  ASSERT_TRUE(wait_until([&] { return node.process_count() == 1; }));
  // Both exits have been handled by plain's strand once a message sent now arrives.
  node.send(plain->self(), plain->self(), Term(Atom("marker")));
  EXPECT_EQ(plain->take_message(), Term(Atom("marker")));
  EXPECT_TRUE(plain->alive());
}

TEST_F(LocalNode, ExitSignals) {
  auto trapping = probe();
  trapping->set_trap_exit(true);
  auto plain = probe();
  auto other = probe();
  node.exit_signal(other->self(), plain->self(), Term(Atom("normal")));
  node.exit_signal(other->self(), trapping->self(), Term(Atom("please")));
  auto e = trapping->take_exit();
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->is_link);
  EXPECT_EQ(e->reason, Term(Atom("please")));
  node.exit_signal(other->self(), trapping->self(), Term(Atom("kill")));
  ASSERT_TRUE(wait_until([&] { return trapping->exit_reason().has_value(); }));
  EXPECT_EQ(*trapping->exit_reason(), Term(Atom("killed")));
  node.send(other->self(), plain->self(), Term(Atom("marker")));
  EXPECT_EQ(plain->take_message(), Term(Atom("marker")));
  EXPECT_TRUE(plain->alive());
}

TEST_F(LocalNode, AliasesDeliverUntilRemoved) {
  auto owner = probe();
  auto sender = probe();
  const auto alias = node.alias(owner->self());
  node.send_alias(sender->self(), alias, sender->self(), Term(1));
  EXPECT_EQ(owner->take_message(), Term(1));
  node.unalias(alias);
  node.send_alias(sender->self(), alias, sender->self(), Term(2));
  node.send(sender->self(), owner->self(), Term(3));
  EXPECT_EQ(owner->take_message(), Term(3));
}

class Thrower : public Process {
 public:
  using Process::Process;

 protected:
  void on_signal(Signal) override { throw std::runtime_error("boom"); }
};

TEST_F(LocalNode, AnExceptionEndsOnlyThatProcess) {
  auto watcher = probe();
  auto t = std::make_shared<Thrower>(node);
  node.spawn(t);
  node.monitor(watcher->self(), Term(t->self()), node.name());
  node.send(watcher->self(), t->self(), Term(1));
  auto d = watcher->take_down();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, codec::tuple(Atom("cpp_exception"), codec::binary("boom")));
}

TEST_F(LocalNode, StopMakesRunReturnDespiteOtherPendingWork) {
  // Like the application's signal_set: work on the node's io_context that stop() does not own.
  boost::asio::steady_timer far(node.io(), std::chrono::hours(1));
  far.async_wait([](const boost::system::error_code&) {});
  node.stop();
  thread.join();  // hangs (and the ctest timeout fails the test) if run() does not return
  thread = std::thread([] {});
}

TEST_F(LocalNode, StopEndsEveryProcessWithShutdown) {
  auto a = probe();
  node.stop();
  ASSERT_TRUE(wait_until([&] { return a->exit_reason().has_value(); }));
  EXPECT_EQ(*a->exit_reason(), Term(Atom("shutdown")));
}

}  // namespace
}  // namespace cppnode::cnode::testing
