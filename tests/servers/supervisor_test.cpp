// SPDX-License-Identifier: Apache-2.0
// The one_for_one supervisor on a real node without network.
#include "cppnode/servers/supervisor.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "local_node.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using codec::Atom;
using codec::Term;
using testing::LocalNode;

// Counts calls; `{die, Reason}` makes it exit with Reason.
class Worker : public GenServer {
 public:
  explicit Worker(std::atomic<int>& made) { ++made; }
  [[nodiscard]] Term state_term() const override { return n_; }

 protected:
  CallResult handle_call(const Term& req, const From&) override {
    Term reason;
    if (codec::match(req, "die"_a, &reason)) return stop(reason, "dying"_a);
    return reply(++n_);
  }

 private:
  std::int64_t n_ = 0;
};

class SupervisorTest : public ::testing::Test {
 protected:
  ChildSpec worker(const char* id, Restart restart = Restart::permanent) {
    return ChildSpec{Atom(id), [this] { return std::make_unique<Worker>(made_); }, restart,
                     Atom(id), std::nullopt};
  }
  // Waits until child `id` runs with a pid other than `old`.
  std::optional<codec::Pid> new_pid(Supervisor& sup, Atom id, const codec::Pid& old) {
    std::optional<codec::Pid> pid;
    LocalNode::eventually([&] {
      pid = sup.child_pid(id);
      return pid && *pid != old;
    });
    return pid;
  }

  std::atomic<int> made_{0};
  LocalNode local_;
};

TEST_F(SupervisorTest, RestartsWithNewPidFreshStateAndName) {
  auto started = Supervisor::start(local_.node(), {worker("w1"), worker("w2")});
  ASSERT_TRUE(started) << started.error();
  auto& sup = *started.value();
  const auto w1 = *sup.child_pid("w1"_a);
  EXPECT_EQ(local_.call("w1"_a, "hit"_a), Term(1));
  EXPECT_EQ(local_.call("w1"_a, "hit"_a), Term(2));
  EXPECT_EQ(local_.call(w1, codec::tuple("die"_a, "crashed"_a)), Term("dying"_a));
  const auto again = new_pid(sup, "w1"_a, w1);
  ASSERT_TRUE(again);
  EXPECT_TRUE(LocalNode::eventually([&] { return local_.node().whereis("w1"_a) == again; }));
  EXPECT_EQ(local_.call("w1"_a, "hit"_a), Term(1));  // the initial state again
  EXPECT_EQ(sup.restarts(), 1U);
  EXPECT_EQ(made_.load(), 3);
}

TEST_F(SupervisorTest, RestartTypes) {
  auto started = Supervisor::start(
      local_.node(),
      {worker("perm"), worker("trans", Restart::transient), worker("temp", Restart::temporary)});
  ASSERT_TRUE(started);
  auto& sup = *started.value();
  // A transient child that ends normally stays down; one that crashes comes back.
  const auto t1 = *sup.child_pid("trans"_a);
  EXPECT_EQ(local_.call(t1, codec::tuple("die"_a, "normal"_a)), Term("dying"_a));
  EXPECT_TRUE(LocalNode::eventually([&] { return !sup.child_pid("trans"_a); }));
  // A temporary child is never restarted and is forgotten.
  const auto tmp = *sup.child_pid("temp"_a);
  EXPECT_EQ(local_.call(tmp, codec::tuple("die"_a, "crashed"_a)), Term("dying"_a));
  // A permanent child comes back even after a normal exit.
  const auto p1 = *sup.child_pid("perm"_a);
  EXPECT_EQ(local_.call(p1, codec::tuple("die"_a, "normal"_a)), Term("dying"_a));
  EXPECT_TRUE(new_pid(sup, "perm"_a, p1));
  // (The reply comes before the exit: wait for the supervisor to see it.)
  EXPECT_TRUE(LocalNode::eventually([&] { return !sup.child_pid("temp"_a); }));
  EXPECT_FALSE(sup.child_pid("trans"_a));
  // which_children answers like OTP's supervisor.
  const auto children = local_.call(sup.self(), "which_children"_a);
  ASSERT_TRUE(children);
  const auto list = children->list_elements();
  ASSERT_EQ(list.size(), 2U);  // perm and trans; temp is gone
  EXPECT_EQ(list[1].as<codec::Tuple>().elements[0], Term("trans"_a));
  EXPECT_EQ(list[1].as<codec::Tuple>().elements[1], Term("undefined"_a));
  EXPECT_EQ(list[1].as<codec::Tuple>().elements[2], Term("worker"_a));
  EXPECT_EQ(local_.call(sup.self(), "count_children"_a),
            codec::list(codec::tuple("specs"_a, 2), codec::tuple("active"_a, 1),
                        codec::tuple("supervisors"_a, 0), codec::tuple("workers"_a, 2)));
}

TEST_F(SupervisorTest, GivesUpWhenIntensityIsExceeded) {
  std::atomic<bool> gave_up{false};
  Term why;
  SupervisorOptions options;
  options.max_restarts = 2;
  options.period = std::chrono::hours(1);  // every restart in this test counts
  options.on_give_up = [&](const Term& reason) {
    why = reason;
    gave_up = true;
  };
  auto started = Supervisor::start(local_.node(), {worker("a"), worker("b")}, options);
  ASSERT_TRUE(started);
  auto& sup = *started.value();
  const auto sup_mref = local_.node().monitor(local_.probe().self(), sup.self(), sup.self().node);
  const auto b = *sup.child_pid("b"_a);
  const auto b_mref = local_.node().monitor(local_.probe().self(), b, b.node);
  for (int i = 0; i < 3; ++i) {
    const auto a = sup.child_pid("a"_a);
    ASSERT_TRUE(a) << "restart " << i;
    EXPECT_EQ(local_.call(*a, codec::tuple("die"_a, "crashed"_a)), Term("dying"_a));
    if (i < 2) {
      ASSERT_TRUE(new_pid(sup, "a"_a, *a));
    }
  }
  // The third crash is one restart too many: the others are shut down and the owner is told.
  EXPECT_EQ(local_.probe().take_down(sup_mref), Term("shutdown"_a));
  EXPECT_EQ(local_.probe().take_down(b_mref), Term("shutdown"_a));
  EXPECT_TRUE(gave_up.load());
  EXPECT_EQ(why, Term("reached_max_restart_intensity"_a));
}

TEST_F(SupervisorTest, FailingChildFailsTheStart) {
  class Refuser : public GenServer {
    InitResult init() override { return InitResult::stop("no"_a); }
  };
  auto started = Supervisor::start(
      local_.node(),
      {worker("ok1"), ChildSpec{"bad"_a, [] { return std::make_unique<Refuser>(); }}});
  EXPECT_FALSE(started);
  EXPECT_EQ(started.error(),
            codec::tuple("shutdown"_a, codec::tuple("failed_to_start_child"_a, "bad"_a, "no"_a)));
  // The child that did start was shut down.
  EXPECT_TRUE(LocalNode::eventually([&] { return !local_.node().whereis("ok1"_a); }));
}

}  // namespace
}  // namespace cppnode::servers
