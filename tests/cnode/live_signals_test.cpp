// SPDX-License-Identifier: Apache-2.0
// Links, monitors and exit signals between C++ processes and real BEAM processes.
#include <gtest/gtest.h>

#include "cppnode/test_support/beam_node.hpp"
#include "live_node.hpp"

namespace cppnode::cnode::testing {
namespace {

using codec::Atom;
using codec::Term;
using test_support::BeamNode;
using test_support::Epmd;

class LiveSignals : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(beam.eval("register(evaler, self())."), "true");
    ASSERT_EQ(beam.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  }
  std::shared_ptr<Probe> spawn_probe(const char* name = nullptr) {
    auto probe = std::make_shared<Probe>(cpp.node());
    const auto pid = cpp->spawn(probe);
    if (name != nullptr) cpp->register_name(Atom(name), pid);
    return probe;
  }
  /// A process on the BEAM node that exits with the reason it is sent; registered as `name`.
  std::string spawn_victim(const std::string& name) {
    return beam.eval("P = spawn(fun() -> receive {die, R} -> exit(R) end end), register(" + name +
                     ", P), put(" + name + ", P), P.");
  }
  /// Blocks until everything the C node sent so far has been processed by the BEAM node: a
  /// message from `probe` to `evaler` travels behind it on the same connection.
  void sync_from(const std::shared_ptr<Probe>& probe) {
    cpp->send(probe->self(), Atom("evaler"), beam_atom(), Term(Atom("sync")));
    ASSERT_EQ(beam.eval("receive sync -> ok after 5000 -> timeout end."), "ok");
  }
  Atom beam_atom() const { return Atom(beam.node_name()); }

  Epmd epmd;
  LiveNode cpp{epmd};
  BeamNode beam{epmd};
};

TEST_F(LiveSignals, BeamMonitorOfCppProcessGetsTheExitReason) {
  auto probe = spawn_probe("watched");
  const std::string pid = erl_literal(Term(probe->self()));
  EXPECT_EQ(beam.eval("put(r1, erlang:monitor(process, " + pid +
                      ")), "
                      "put(r2, erlang:monitor(process, {watched, " +
                      cpp.atom() + "})), ok."),
            "ok");
  // The MONITOR_Ps travel before this message on the same connection.
  EXPECT_EQ(beam.eval(pid + " ! hello, ok."), "ok");
  ASSERT_TRUE(probe->take_message());
  cpp->exit_process(probe->self(), codec::tuple(Atom("shutdown"), Atom("bye")));
  EXPECT_EQ(beam.eval("R1 = get(r1), receive {'DOWN', R1, process, _, W1} -> W1 after 5000 -> "
                      "timeout end."),
            "{shutdown,bye}");
  EXPECT_EQ(beam.eval("R2 = get(r2), receive {'DOWN', R2, process, O, W2} -> {O, W2} after 5000 "
                      "-> timeout end."),
            "{{watched," + cpp.printed() + "},{shutdown,bye}}");
}

TEST_F(LiveSignals, MonitorAndLinkOfDeadCppPidAnswerNoproc) {
  auto probe = spawn_probe();
  const std::string pid = erl_literal(Term(probe->self()));
  cpp->exit_process(probe->self(), Term(Atom("normal")));
  ASSERT_TRUE(wait_until([&] { return probe->exit_reason().has_value(); }));
  EXPECT_EQ(beam.eval("erlang:monitor(process, " + pid +
                      "), receive {'DOWN', _, process, _, "
                      "R} -> R after 5000 -> timeout end."),
            "noproc");
  EXPECT_EQ(beam.eval("erlang:monitor(process, {no_such_name, " + cpp.atom() +
                      "}), receive "
                      "{'DOWN', _, process, O, R} -> {O, R} after 5000 -> timeout end."),
            "{{no_such_name," + cpp.printed() + "},noproc}");
  EXPECT_EQ(beam.eval("process_flag(trap_exit, true), P = " + pid +
                      ", link(P), receive "
                      "{'EXIT', P, R} -> R after 5000 -> timeout end."),
            "noproc");
  // A gen_server call to the dead pid fails at once instead of timing out.
  EXPECT_EQ(beam.eval("catch gen_server:call(" + pid + ", x, 30000)."),
            "{'EXIT',{noproc,{gen_server,call,[" + beam.eval(pid) + ",x,30000]}}}");
}

TEST_F(LiveSignals, CppMonitorsOfBeamProcessFireWithItsReason) {
  auto probe = spawn_probe("probe");
  const std::string victim = spawn_victim("victim");
  ASSERT_EQ(beam.eval("{probe, " + cpp.atom() + "} ! {victim, get(victim)}, ok."), "ok");
  auto msg = probe->take_message();
  ASSERT_TRUE(msg);
  codec::Pid victim_pid;
  ASSERT_TRUE(codec::match(*msg, Atom("victim"), &victim_pid));
  const auto by_name = cpp->monitor(probe->self(), Term(Atom("victim")), beam_atom());
  const auto by_pid = cpp->monitor(probe->self(), Term(victim_pid), beam_atom());
  const auto dropped = cpp->monitor(probe->self(), Term(victim_pid), beam_atom());
  cpp->demonitor(probe->self(), dropped);
  sync_from(probe);
  EXPECT_EQ(beam.eval("victim ! {die, custom}, ok."), "ok");
  auto d1 = probe->take_down();
  auto d2 = probe->take_down();
  ASSERT_TRUE(d1 && d2);
  if (d1->ref == by_pid) std::swap(d1, d2);
  EXPECT_EQ(d1->ref, by_name);
  EXPECT_EQ(d1->object, codec::tuple(Atom("victim"), beam_atom()));
  EXPECT_EQ(d1->reason, Term(Atom("custom")));
  EXPECT_EQ(d2->ref, by_pid);
  EXPECT_EQ(d2->object, Term(victim_pid));
  EXPECT_EQ(d2->reason, Term(Atom("custom")));
  // No DOWN for the demonitored one: a marker sent after the exit arrives first.
  sync_from(probe);
  EXPECT_FALSE(probe->take_down(std::chrono::milliseconds(0)));
}

TEST_F(LiveSignals, LinksPropagateExitsBothWays) {
  auto trapping = spawn_probe("trapping");
  trapping->set_trap_exit(true);
  auto plain = spawn_probe("plain");
  spawn_victim("victim");
  ASSERT_EQ(beam.eval("{trapping, " + cpp.atom() + "} ! {victim, get(victim)}, ok."), "ok");
  auto msg = trapping->take_message();
  ASSERT_TRUE(msg);
  codec::Pid victim_pid;
  ASSERT_TRUE(codec::match(*msg, Atom("victim"), &victim_pid));
  cpp->link(trapping->self(), victim_pid);
  // The control process links to `plain` and traps exits.
  ASSERT_EQ(
      beam.eval("process_flag(trap_exit, true), link(" + erl_literal(Term(plain->self())) + ")."),
      "true");
  sync_from(trapping);
  EXPECT_EQ(beam.eval("victim ! {die, boom}, ok."), "ok");
  auto exit = trapping->take_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->from, Term(victim_pid));
  EXPECT_EQ(exit->reason, Term(Atom("boom")));
  EXPECT_TRUE(exit->is_link);
  cpp->exit_process(plain->self(), Term(Atom("plain_gone")));
  EXPECT_EQ(beam.eval("receive {'EXIT', _, R} -> R after 5000 -> timeout end."), "plain_gone");
}

TEST_F(LiveSignals, BeamLinkExitKillsNonTrappingCppProcess) {
  auto plain = spawn_probe("plain");
  EXPECT_EQ(beam.eval("P = spawn(fun() -> link(" + erl_literal(Term(plain->self())) +
                      "), receive go -> exit(boom) end end), register(linker, P), ok."),
            "ok");
  // Wait for the LINK to land before the exit: the linker's message follows it.
  EXPECT_EQ(beam.eval("linker ! go, ok."), "ok");
  ASSERT_TRUE(wait_until([&] { return plain->exit_reason().has_value(); }));
  EXPECT_EQ(*plain->exit_reason(), Term(Atom("boom")));
  EXPECT_EQ(cpp->find(plain->self()), nullptr);
}

TEST_F(LiveSignals, ExitSignalsFromBeam) {
  auto trapping = spawn_probe();
  trapping->set_trap_exit(true);
  auto plain = spawn_probe();
  auto killed = spawn_probe();
  EXPECT_EQ(beam.eval("exit(" + erl_literal(Term(plain->self())) + ", normal), exit(" +
                      erl_literal(Term(trapping->self())) + ", hello), exit(" +
                      erl_literal(Term(killed->self())) + ", kill), ok."),
            "ok");
  auto exit = trapping->take_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->reason, Term(Atom("hello")));
  EXPECT_FALSE(exit->is_link);
  ASSERT_TRUE(wait_until([&] { return killed->exit_reason().has_value(); }));
  EXPECT_EQ(*killed->exit_reason(), Term(Atom("killed")));
  EXPECT_TRUE(plain->alive());  // exit(Pid, normal) is ignored by a process not trapping exits
}

TEST_F(LiveSignals, UnlinkedProcessGetsNoExit) {
  auto trapping = spawn_probe("trapping");
  trapping->set_trap_exit(true);
  spawn_victim("victim");
  ASSERT_EQ(beam.eval("{trapping, " + cpp.atom() + "} ! {victim, get(victim)}, ok."), "ok");
  auto msg = trapping->take_message();
  ASSERT_TRUE(msg);
  codec::Pid victim_pid;
  ASSERT_TRUE(codec::match(*msg, Atom("victim"), &victim_pid));
  cpp->link(trapping->self(), victim_pid);
  cpp->unlink(trapping->self(), victim_pid);
  sync_from(trapping);
  EXPECT_EQ(beam.eval("victim ! {die, boom}, {links, L} = process_info(self(), links), "
                      "{trapping, " +
                      cpp.atom() + "} ! after_exit, ok."),
            "ok");
  auto next = trapping->take([](const Signal&) { return true; });
  ASSERT_TRUE(next);
  ASSERT_TRUE(std::holds_alternative<MessageSignal>(*next));
  EXPECT_EQ(std::get<MessageSignal>(*next).message, Term(Atom("after_exit")));
}

TEST_F(LiveSignals, KilledBeamNodeFiresNoconnection) {
  auto trapping = spawn_probe("trapping");
  trapping->set_trap_exit(true);
  spawn_victim("victim");
  ASSERT_EQ(beam.eval("{trapping, " + cpp.atom() + "} ! {victim, get(victim)}, ok."), "ok");
  auto msg = trapping->take_message();
  ASSERT_TRUE(msg);
  codec::Pid victim_pid;
  ASSERT_TRUE(codec::match(*msg, Atom("victim"), &victim_pid));
  std::mutex m;
  std::vector<NodeEvent> events;
  cpp->on_node_event([&](const NodeEvent& e) {
    std::lock_guard lock(m);
    events.push_back(e);
  });
  cpp->link(trapping->self(), victim_pid);
  const auto ref = cpp->monitor(trapping->self(), Term(Atom("victim")), beam_atom());
  sync_from(trapping);
  beam.kill(SIGKILL);
  auto exit = trapping->take_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->from, Term(victim_pid));
  EXPECT_EQ(exit->reason, Term(Atom("noconnection")));
  auto down = trapping->take_down();
  ASSERT_TRUE(down);
  EXPECT_EQ(down->ref, ref);
  EXPECT_EQ(down->reason, Term(Atom("noconnection")));
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(m);
    return std::any_of(events.begin(), events.end(),
                       [&](const NodeEvent& e) { return !e.up && e.node == beam_atom(); });
  }));
  EXPECT_TRUE(cpp->connected_nodes().empty());
}

}  // namespace
}  // namespace cppnode::cnode::testing
