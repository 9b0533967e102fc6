// SPDX-License-Identifier: Apache-2.0
// Process::set_mailbox_limit on a node without network: a process held busy by the test fills
// its mailbox; what it gets, drops and does then is checked without timing anything.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cppnode/cnode/node.hpp"
#include "cppnode/cnode/process.hpp"
#include "live_node.hpp"

namespace cppnode::cnode::testing {
namespace {

using codec::Atom;
using codec::Term;

// Records every signal; the message `block` keeps its callback (and so the process) busy until
// the test calls release().
class Busy : public Process {
 public:
  using Process::Process;

  bool wait_busy() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return busy_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  std::vector<Signal> handled() {
    std::lock_guard lock(mutex_);
    return handled_;
  }
  /// Waits until `n` signals were handled.
  bool wait_handled(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return handled_.size() >= n; });
  }

 protected:
  void on_signal(Signal signal) override {
    const auto* m = std::get_if<MessageSignal>(&signal);
    const bool block = m != nullptr && m->message == Term(Atom("block"));
    std::unique_lock lock(mutex_);
    handled_.push_back(std::move(signal));
    if (block) {
      busy_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
      busy_ = false;
    }
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Signal> handled_;
  bool busy_ = false;
  bool released_ = false;
};

class Mailbox : public ::testing::Test {
 protected:
  Mailbox() : node(make_config()) {}
  ~Mailbox() override {
    for (auto& b : busy) b->release();
    node.stop();
    thread.join();
  }
  static NodeConfig make_config() {
    NodeConfig c;
    c.node_name = "mailbox@nohost";
    c.cookie = "x";
    c.threads = 2;  // one may be held by a busy process
    return c;
  }
  std::shared_ptr<Probe> probe() {
    auto p = std::make_shared<Probe>(node);
    node.spawn(p);
    return p;
  }
  // A busy process with `limit`, spawned and held in its first callback.
  std::shared_ptr<Busy> busy_process(cnode::MailboxLimit limit) {
    auto b = std::make_shared<Busy>(node);
    b->set_mailbox_limit(limit);
    node.spawn(b);
    busy.push_back(b);
    node.send(sender->self(), b->self(), Term(Atom("block")));
    EXPECT_TRUE(b->wait_busy());
    return b;
  }
  static std::size_t messages(const std::vector<Signal>& signals) {
    std::size_t n = 0;
    for (const auto& s : signals) n += std::holds_alternative<MessageSignal>(s) ? 1 : 0;
    return n;
  }

  Node node;
  std::thread thread{[this] { node.run(); }};
  std::shared_ptr<Probe> sender = probe();
  std::vector<std::shared_ptr<Busy>> busy;
};

TEST_F(Mailbox, IsUnboundedByDefaultAndValidated) {
  auto p = probe();
  EXPECT_FALSE(p->mailbox_limit());
  EXPECT_EQ(p->dropped(), 0U);
  p->set_mailbox_limit(cnode::MailboxLimit{10, OverflowPolicy::exit});
  EXPECT_EQ(p->mailbox_limit(), (cnode::MailboxLimit{10, OverflowPolicy::exit}));
  EXPECT_THROW(p->set_mailbox_limit(cnode::MailboxLimit{0, OverflowPolicy::drop}),
               std::invalid_argument);
  EXPECT_EQ(p->mailbox_limit(), (cnode::MailboxLimit{10, OverflowPolicy::exit}));
  p->set_mailbox_limit(std::nullopt);
  EXPECT_FALSE(p->mailbox_limit());
}

TEST_F(Mailbox, UnboundedMailboxKeepsEverything) {
  auto b = busy_process(cnode::MailboxLimit{1, OverflowPolicy::drop});
  b->set_mailbox_limit(std::nullopt);
  for (int i = 0; i < 5000; ++i) node.send(sender->self(), b->self(), Term(i));
  EXPECT_EQ(b->queued(), 5000U);
  b->release();
  ASSERT_TRUE(b->wait_handled(5001));
  EXPECT_EQ(b->dropped(), 0U);
}

TEST_F(Mailbox, DropKeepsExactlyTheLimitAndCountsTheRest) {
  auto b = busy_process(cnode::MailboxLimit{5, OverflowPolicy::drop});
  for (int i = 0; i < 20; ++i) node.send(sender->self(), b->self(), Term(i));
  EXPECT_EQ(b->queued(), 5U);
  EXPECT_EQ(b->dropped(), 15U);
  b->release();
  ASSERT_TRUE(b->wait_handled(6));
  ASSERT_TRUE(wait_until([&] { return b->queued() == 0; }));
  // The first five, in order; the rest never came.
  const auto got = b->handled();
  ASSERT_EQ(got.size(), 6U);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(std::get<MessageSignal>(got[static_cast<std::size_t>(i) + 1]).message, Term(i));
  }
  // Caught up, it takes messages again.
  for (int i = 0; i < 3; ++i) node.send(sender->self(), b->self(), Term(i));
  ASSERT_TRUE(b->wait_handled(9));
  EXPECT_EQ(b->dropped(), 15U);
}

TEST_F(Mailbox, ConcurrentSendersNeverPassTheBound) {
  auto b = busy_process(cnode::MailboxLimit{100, OverflowPolicy::drop});
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) node.send(sender->self(), b->self(), Term(i));
    });
  }
  for (auto& t : senders) t.join();
  EXPECT_EQ(b->queued(), 100U);
  EXPECT_EQ(b->dropped(), 40'000U - 100U);
  b->release();
  ASSERT_TRUE(b->wait_handled(101));
  ASSERT_TRUE(wait_until([&] { return b->queued() == 0; }));
  EXPECT_EQ(messages(b->handled()), 101U);
}

TEST_F(Mailbox, ExitDownAndLinkSignalsGetThroughAFullMailbox) {
  auto b = busy_process(cnode::MailboxLimit{2, OverflowPolicy::drop});
  b->set_trap_exit(true);
  auto watched = probe();
  auto linked = probe();
  // The process monitors `watched` (from its own pid, as its code would) before it fills up.
  const auto ref = node.monitor(b->self(), watched->self(), node.name());
  for (int i = 0; i < 10; ++i) node.send(sender->self(), b->self(), Term(i));
  ASSERT_EQ(b->queued(), 2U);
  // Full: a monitor on it, a link to it, a DOWN and an EXIT for it all still get through.
  const auto mref = node.monitor(sender->self(), b->self(), node.name());
  linked->set_trap_exit(true);
  node.link(linked->self(), b->self());
  node.exit_process(watched->self(), Term(Atom("gone")));
  node.exit_signal(sender->self(), b->self(), Term(Atom("please")));
  EXPECT_EQ(b->dropped(), 8U);
  b->release();
  // block, 0, 1, then the DOWN and the trapped EXIT (from two senders: in either order).
  ASSERT_TRUE(b->wait_handled(5));
  const auto got = b->handled();
  ASSERT_EQ(got.size(), 5U);
  EXPECT_EQ(std::get<MessageSignal>(got[1]).message, Term(0));
  EXPECT_EQ(std::get<MessageSignal>(got[2]).message, Term(1));
  const DownSignal* down = nullptr;
  const ExitSignal* exit = nullptr;
  for (std::size_t i = 3; i < got.size(); ++i) {
    if (const auto* d = std::get_if<DownSignal>(&got[i])) down = d;
    if (const auto* e = std::get_if<ExitSignal>(&got[i])) exit = e;
  }
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->ref, ref);
  EXPECT_EQ(down->reason, Term(Atom("gone")));
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->reason, Term(Atom("please")));
  // The monitor and the link made while it was full fire when it ends.
  node.exit_process(b->self(), Term(Atom("done")));
  auto d = sender->take_down();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ref, mref);
  EXPECT_EQ(d->reason, Term(Atom("done")));
  auto e = linked->take_exit();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->from, Term(b->self()));
  EXPECT_EQ(e->reason, Term(Atom("done")));
}

TEST_F(Mailbox, ExitPolicyEndsTheProcessWithoutRunningWhatIsQueued) {
  auto b = busy_process(cnode::MailboxLimit{3, OverflowPolicy::exit});
  const auto mref = node.monitor(sender->self(), b->self(), node.name());
  for (int i = 0; i < 3; ++i) node.send(sender->self(), b->self(), Term(i));
  EXPECT_EQ(b->queued(), 3U);
  EXPECT_TRUE(b->alive());
  node.send(sender->self(), b->self(), Term(3));  // one past the bound
  for (int i = 4; i < 10; ++i) node.send(sender->self(), b->self(), Term(i));
  EXPECT_EQ(b->dropped(), 7U);
  b->release();
  auto d = sender->take_down();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ref, mref);
  EXPECT_EQ(d->reason, codec::tuple(Atom("mailbox_overflow"), 3));
  EXPECT_FALSE(b->alive());
  // Only the callback that was running when the bound was passed ran.
  EXPECT_EQ(b->handled().size(), 1U);
  EXPECT_EQ(node.find(b->self()), nullptr);
}

}  // namespace
}  // namespace cppnode::cnode::testing
