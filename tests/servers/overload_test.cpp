// SPDX-License-Identifier: Apache-2.0
// A flood of casts to a slow GenServer with a mailbox bound (StartOptions::mailbox_limit), on a
// real node without network. The server is held busy by the test, never timed.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cppnode/servers/gen_server.hpp"
#include "cppnode/servers/start.hpp"
#include "cppnode/servers/supervisor.hpp"
#include "local_node.hpp"
#include "slow_server.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using codec::Atom;
using codec::Term;
using testing::Gate;
using testing::LocalNode;
using testing::Slow;

// The value of `key` in the process data of a `sys:get_status` answer (the entry after the
// header, beside "Status" and "Parent").
std::optional<Term> status_entry(const Term& status, const std::string& key) {
  const auto items = status.as<codec::Tuple>().elements.at(3).list_elements();
  const auto misc = items.at(4).list_elements();
  const auto& data = misc.at(1).as<codec::Tuple>().elements;
  EXPECT_EQ(data.at(0), Term("data"_a));
  for (const auto& entry : data.at(1).list_elements()) {
    const auto& kv = entry.as<codec::Tuple>().elements;
    if (kv.at(0) == codec::charlist(key)) return kv.at(1);
  }
  return std::nullopt;
}

class Overload : public ::testing::Test {
 protected:
  ~Overload() override { gate_->open(); }

  codec::Pid start_slow(std::optional<cnode::MailboxLimit> limit) {
    StartOptions options;
    options.mailbox_limit = limit;
    auto started = start(local_.node(), std::make_unique<Slow>(gate_), std::move(options));
    EXPECT_TRUE(started) << started.error();
    return *started;
  }
  std::shared_ptr<cnode::Process> process(const codec::Pid& pid) { return local_.node().find(pid); }
  void casts(const codec::Pid& pid, int n) {
    for (int i = 0; i < n; ++i) local_.cast(pid, codec::tuple("n"_a, i));
  }
  // Sends `sys:get_status` and returns its tag, to take the reply later.
  codec::Reference ask_status(const codec::Pid& pid) {
    const codec::Reference tag = local_.node().make_ref();
    local_.node().send(
        local_.probe().self(), pid,
        codec::tuple("system"_a, codec::tuple(local_.probe().self(), tag), "get_status"_a));
    return tag;
  }

  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  LocalNode local_;
};

TEST_F(Overload, UnboundedByDefaultAndStatusSaysSo) {
  const auto pid = start_slow(std::nullopt);
  EXPECT_FALSE(process(pid)->mailbox_limit());
  local_.cast(pid, "block"_a);
  ASSERT_TRUE(gate_->wait_entered(1));
  casts(pid, 1000);
  EXPECT_EQ(process(pid)->queued(), 1000U);
  const auto tag = ask_status(pid);
  casts(pid, 3);
  gate_->release();
  const auto status = local_.take_reply(tag);
  ASSERT_TRUE(status);
  EXPECT_EQ(status_entry(*status, "Status"), Term("running"_a));
  EXPECT_EQ(status_entry(*status, "Message queue length"), Term(3));
  EXPECT_EQ(status_entry(*status, "Mailbox limit"), Term("infinity"_a));
  EXPECT_EQ(status_entry(*status, "Dropped messages"), Term(0));
  // gen_server's three entries stay where sys users look for them.
  const auto misc = status->as<codec::Tuple>().elements[3].list_elements()[4].list_elements();
  ASSERT_EQ(misc.size(), 3U);
  EXPECT_EQ(misc[2],
            codec::tuple("data"_a, codec::list(codec::tuple(codec::charlist("State"), 1000))));
  EXPECT_EQ(local_.call(pid, "get"_a), Term(1003));
}

TEST_F(Overload, DropKeepsTheLimitQueuedCountsTheRestAndShowsThemInSysStatus) {
  const auto pid = start_slow(cnode::MailboxLimit{5, cnode::OverflowPolicy::drop});
  local_.cast(pid, "block"_a);
  ASSERT_TRUE(gate_->wait_entered(1));
  casts(pid, 20);
  EXPECT_EQ(process(pid)->queued(), 5U);
  EXPECT_EQ(process(pid)->dropped(), 15U);
  // Full: a sys request still gets in (and does not count as an overflow).
  const auto full_tag = ask_status(pid);
  EXPECT_EQ(process(pid)->queued(), 6U);
  EXPECT_EQ(process(pid)->dropped(), 15U);
  gate_->release();
  const auto full_status = local_.take_reply(full_tag);
  ASSERT_TRUE(full_status);
  EXPECT_EQ(status_entry(*full_status, "Message queue length"), Term(0));
  EXPECT_EQ(status_entry(*full_status, "Mailbox limit"), codec::tuple(5, "drop"_a));
  EXPECT_EQ(status_entry(*full_status, "Dropped messages"), Term(15));
  EXPECT_EQ(local_.call(pid, "get"_a), Term(5));

  // Caught up, it takes messages again. Busy once more with two casts waiting, a status
  // request sees the three queued behind it once the server gets to it.
  local_.cast(pid, "block"_a);
  ASSERT_TRUE(gate_->wait_entered(2));
  casts(pid, 2);
  const auto tag = ask_status(pid);
  casts(pid, 10);
  EXPECT_EQ(process(pid)->queued(), 5U);
  EXPECT_EQ(process(pid)->dropped(), 23U);
  gate_->release();
  const auto status = local_.take_reply(tag);
  ASSERT_TRUE(status);
  EXPECT_EQ(status_entry(*status, "Message queue length"), Term(2));
  EXPECT_EQ(status_entry(*status, "Dropped messages"), Term(23));
  ASSERT_TRUE(LocalNode::eventually([&] { return process(pid)->queued() == 0; }));
  EXPECT_EQ(local_.call(pid, "get"_a), Term(5 + 4));
}

TEST_F(Overload, DroppedCallsLeaveMonitorsAndLinksWorking) {
  const auto pid = start_slow(cnode::MailboxLimit{2, cnode::OverflowPolicy::drop});
  local_.cast(pid, "block"_a);
  ASSERT_TRUE(gate_->wait_entered(1));
  casts(pid, 2);
  // A caller's monitor gets through; its call is dropped, as an OTP caller would time out.
  auto caller = local_.new_probe();
  auto linked = local_.new_probe();
  linked->set_trap_exit(true);
  const auto mref = local_.node().monitor(caller->self(), pid, pid.node);
  local_.node().send(caller->self(), pid,
                     codec::tuple("$gen_call"_a, codec::tuple(caller->self(), mref), "get"_a));
  local_.node().link(linked->self(), pid);
  EXPECT_EQ(process(pid)->dropped(), 1U);
  // An exit signal is never dropped: it ends the server after what is queued.
  local_.node().exit_signal(local_.probe().self(), pid, Term("overloaded"_a));
  gate_->release();
  EXPECT_EQ(caller->take_down(mref), Term("overloaded"_a));
  auto exit = linked->take_exit(pid);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->reason, Term("overloaded"_a));
  EXPECT_EQ(gate_->casts.load(), 2);
  // No reply to the dropped call ever came.
  EXPECT_FALSE(caller->take(
      [](const cnode::Signal& s) { return std::holds_alternative<cnode::MessageSignal>(s); },
      std::chrono::milliseconds(0)));
}

TEST_F(Overload, ExitPolicyEndsTheServerAtOnceAndItsSupervisorRestartsIt) {
  const cnode::MailboxLimit limit{3, cnode::OverflowPolicy::exit};
  auto gate = gate_;
  ChildSpec spec{"slow"_a, [gate] { return std::make_unique<Slow>(gate); }};
  spec.mailbox_limit = limit;
  auto sup = Supervisor::start(local_.node(), {spec});
  ASSERT_TRUE(sup) << sup.error();
  const auto pid = *sup.value()->child_pid("slow"_a);
  EXPECT_EQ(process(pid)->mailbox_limit(), limit);
  local_.cast(pid, "block"_a);
  ASSERT_TRUE(gate_->wait_entered(1));
  casts(pid, 3);
  EXPECT_TRUE(process(pid)->alive());
  // A caller blocked in GenServer.call: its request is the message past the bound.
  auto caller = local_.new_probe();
  const auto mref = local_.node().monitor(caller->self(), pid, pid.node);
  local_.node().send(caller->self(), pid,
                     codec::tuple("$gen_call"_a, codec::tuple(caller->self(), mref), "get"_a));
  casts(pid, 5);
  gate_->release();
  // It exits as soon as the callback it was in returns: the queued casts never run.
  EXPECT_EQ(caller->take_down(mref), codec::tuple("mailbox_overflow"_a, 3));
  EXPECT_EQ(gate_->casts.load(), 0);
  // Restarted, fresh and bounded again.
  std::optional<codec::Pid> restarted;
  ASSERT_TRUE(LocalNode::eventually([&] {
    restarted = sup.value()->child_pid("slow"_a);
    return restarted && *restarted != pid;
  }));
  EXPECT_EQ(process(*restarted)->mailbox_limit(), limit);
  EXPECT_EQ(process(*restarted)->dropped(), 0U);
  EXPECT_EQ(local_.call(*restarted, "get"_a), Term(0));
  EXPECT_EQ(sup.value()->restarts(), 1U);
}

}  // namespace
}  // namespace cppnode::servers
