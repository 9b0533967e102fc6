// SPDX-License-Identifier: Apache-2.0
// With more than one thread, processes whose callbacks take a tenth of a millisecond run in
// parallel: a message for such a process, read from a connection, is queued on its strand for
// any thread to take, instead of running on the reading thread before the next message of the
// same read (which made CPU-bound servers take turns on one thread).
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/epmd.hpp"
#include "cppnode/test_support/names.hpp"
#include "live_node.hpp"
#include "raw_peer.hpp"

namespace cppnode::cnode::testing {
namespace {

using codec::Atom;
using codec::Term;
using test_support::Epmd;

/// Two processes meet: each arrives, then waits for the other.
class Meeting {
 public:
  bool arrive_and_wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ++arrived_;
    changed_.notify_all();
    return changed_.wait_for(lock, timeout, [this] { return arrived_ == 2; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
};

// `prime`: a callback of 100 us (the process is slow from then on). `meet`: waits up to 5 s for
// the other process to arrive at the meeting, which it can only do on another thread.
class Meeter : public Process {
 public:
  Meeter(Node& node, std::shared_ptr<Meeting> meeting)
      : Process(node), meeting_(std::move(meeting)) {}
  std::atomic<bool> primed{false};
  std::atomic<int> met{-1};  // -1 not yet, 0 the other never came, 1 both were there

 protected:
  void on_signal(Signal signal) override {
    const auto* m = std::get_if<MessageSignal>(&signal);
    if (m == nullptr) return;
    if (m->message.is_atom("prime")) {
      // A busy loop: a sleep this short often lasts twice as long.
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
      while (std::chrono::steady_clock::now() < until) {
      }
      primed = true;
    } else if (m->message.is_atom("meet")) {
      met = meeting_->arrive_and_wait(std::chrono::seconds(5)) ? 1 : 0;
    }
  }

 private:
  std::shared_ptr<Meeting> meeting_;
};

TEST(LiveThreads, ProcessesOfATenthOfAMillisecondPerCallbackRunInParallel) {
  Epmd epmd;
  LiveNode cpp(epmd, [](NodeConfig& c) { c.threads = 2; });
  auto meeting = std::make_shared<Meeting>();
  auto a = std::make_shared<Meeter>(cpp.node(), meeting);
  auto b = std::make_shared<Meeter>(cpp.node(), meeting);
  ASSERT_TRUE(cpp->register_name(Atom("meeter_a"), cpp->spawn(a)));
  ASSERT_TRUE(cpp->register_name(Atom("meeter_b"), cpp->spawn(b)));

  RawPeer raw(cpp->port());
  const std::string name = test_support::unique_name("raw") + "@" + test_support::short_hostname();
  ASSERT_EQ(raw.handshake(name, "cppnode_test_cookie", cpp.name()), "");
  const codec::Pid from{Atom(name), 1, 0, 1};
  auto to_both = [&](const char* message) {
    std::string packets;
    detail::encode_reg_send(packets, from, Atom("meeter_a"), Term(Atom(message)));
    detail::encode_reg_send(packets, from, Atom("meeter_b"), Term(Atom(message)));
    raw.send(packets);  // one write: the node reads both at once
  };
  to_both("prime");
  ASSERT_TRUE(wait_until([&] { return a->primed && b->primed; }));
  to_both("meet");
  ASSERT_TRUE(wait_until([&] { return a->met >= 0 && b->met >= 0; }, std::chrono::seconds(15)));
  EXPECT_EQ(a->met, 1);
  EXPECT_EQ(b->met, 1);
}

// Reports the scheduling policy of each thread that runs one of its callbacks.
class PolicyReporter : public Process {
 public:
  explicit PolicyReporter(Node& node) : Process(node) {}
  std::atomic<int> seen{0};
  std::atomic<int> batch{0};

 protected:
  void on_signal(Signal signal) override {
    if (std::get_if<MessageSignal>(&signal) == nullptr) return;
    if (sched_getscheduler(0) == SCHED_BATCH) ++batch;
    ++seen;
  }
};

// --scheduling batch: every thread that runs the event loop is under SCHED_BATCH; by default
// none is.
TEST(LiveThreads, BatchSchedulingPutsEveryEventLoopThreadUnderSchedBatch) {
  Epmd epmd;
  for (const bool batch : {false, true}) {
    SCOPED_TRACE(batch ? "batch" : "normal");
    LiveNode cpp(epmd, [&](NodeConfig& c) {
      c.threads = 2;
      c.batch_scheduling = batch;
    });
    auto reporter = std::make_shared<PolicyReporter>(cpp.node());
    const codec::Pid pid = cpp->spawn(reporter);
    constexpr int messages = 200;
    for (int i = 0; i < messages; ++i) cpp->send(pid, pid, Term(i));
    ASSERT_TRUE(wait_until([&] { return reporter->seen == messages; }));
    EXPECT_EQ(reporter->batch, batch ? messages : 0);
  }
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The event-loop threads poll for NodeConfig::busy_wait after their last event, then sleep: a
// node with nothing to do (its connection quiet) costs no CPU, with or without busy waiting. A
// loop that kept polling would spend about 2 s of CPU here.
TEST(LiveThreads, EventLoopThreadsSleepWhenTheNodeIsIdle) {
  Epmd epmd;
  for (const auto busy_wait : {std::chrono::microseconds(0), std::chrono::microseconds(50),
                               std::chrono::microseconds(5000)}) {
    SCOPED_TRACE("busy_wait " + std::to_string(busy_wait.count()) + " us");
    LiveNode cpp(epmd, [&](NodeConfig& c) {
      c.threads = 2;
      c.busy_wait = busy_wait;
    });
    auto reporter = std::make_shared<PolicyReporter>(cpp.node());
    const codec::Pid pid = cpp->spawn(reporter);
    for (int i = 0; i < 100; ++i) cpp->send(pid, pid, Term(i));
    ASSERT_TRUE(wait_until([&] { return reporter->seen == 100; }));
    const double before = process_cpu_seconds();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_LT(process_cpu_seconds() - before, 0.25);
  }
}

// Polling pays only while work comes often: a thread whose last sleep lasted more than four
// times busy_wait blocks at once. One message every 30 ms to a node polling 5 ms after each
// would cost a sixth of a core (0.17 s of CPU in the second measured here).
TEST(LiveThreads, ANodeThatGetsAMessageNowAndThenDoesNotPollAfterEach) {
  Epmd epmd;
  LiveNode cpp(epmd, [](NodeConfig& c) { c.busy_wait = std::chrono::milliseconds(5); });
  auto reporter = std::make_shared<PolicyReporter>(cpp.node());
  const codec::Pid pid = cpp->spawn(reporter);
  const auto send_now_and_then = [&](int count) {
    for (int i = 0; i < count; ++i) {
      cpp->send(pid, pid, Term(i));
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
  };
  send_now_and_then(5);
  const double before = process_cpu_seconds();
  send_now_and_then(33);
  EXPECT_LT(process_cpu_seconds() - before, 0.08);
  EXPECT_TRUE(wait_until([&] { return reporter->seen == 38; }));
}

// `Callers` processes each make `Calls` gen_server calls to `Echo`, each checking that its reply
// is its request; the fun returns how many replies were right and the milliseconds all took.
constexpr const char* call_echo_fun = R"(fun(Echo, Callers, Calls) ->
  Parent = self(),
  T0 = erlang:monotonic_time(millisecond),
  Call = fun(I) -> [gen_server:call(Echo, {I, J}) =:= {I, J} || J <- lists:seq(1, Calls)] end,
  Pids = [spawn(fun() -> Parent ! {self(), Call(I)} end) || I <- lists:seq(1, Callers)],
  Right = length([x || P <- Pids, true <- receive {P, R} -> R end]),
  {Right, erlang:monotonic_time(millisecond) - T0}
end)";

std::pair<int, int> parse_right_and_ms(const std::string& printed) {
  std::smatch m;
  if (!std::regex_match(printed, m, std::regex(R"(\{(\d+),(\d+)\})"))) {
    ADD_FAILURE() << "unexpected answer: " << printed;
    return {0, 0};
  }
  return {std::stoi(m[1]), std::stoi(m[2])};
}

// Applies `fun` (call_echo_fun or call_echo_in_bursts_fun) to {echo, cpp} and two counts, on
// `beam`.
std::pair<int, int> run_on_echo(test_support::BeamNode& beam, const LiveNode& cpp, const char* fun,
                                int first, int second) {
  return parse_right_and_ms(beam.eval("pong = net_adm:ping(" + cpp.atom() + "), (" + fun +
                                          ")({echo, " + cpp.atom() + "}, " + std::to_string(first) +
                                          ", " + std::to_string(second) + ").",
                                      std::chrono::seconds(30)));
}

// `Bursts` times, sends `Burst` calls to `Echo` with gen_server:send_request, waits for their
// replies, then pauses 5 ms; returns how many replies were right and the milliseconds all took.
constexpr const char* call_echo_in_bursts_fun = R"(fun(Echo, Bursts, Burst) ->
  T0 = erlang:monotonic_time(millisecond),
  Send = fun(I) -> [{{I, J}, gen_server:send_request(Echo, {I, J})} || J <- lists:seq(1, Burst)] end,
  Wait = fun(Id) -> gen_server:wait_response(Id, 5000) end,
  Right = fun(Ids) -> length([x || {Req, Id} <- Ids, {reply, Req} =:= Wait(Id)]) end,
  Round = fun(I) -> R = Right(Send(I)), timer:sleep(5), R end,
  {lists:sum([Round(I) || I <- lists:seq(1, Bursts)]), erlang:monotonic_time(millisecond) - T0}
end)";

std::shared_ptr<LiveNode> echo_node(const Epmd& epmd, std::chrono::microseconds coalesce) {
  auto cpp = std::make_shared<LiveNode>(epmd, [&](NodeConfig& c) {
    c.threads = 1;
    c.coalesce = coalesce;
  });
  const auto pid = (*cpp)->spawn(std::make_shared<Echo>(cpp->node()));
  (*cpp)->register_name(codec::Atom("echo"), pid);
  return cpp;
}

// After a pass that answered several calls, the thread naps NodeConfig::coalesce before it polls
// again, and answers the calls that gathered meanwhile together. A caller that sends its calls
// eight at a time (gen_server:send_request, then the eight replies, then a pause of 5 ms in
// which the node runs out of work) finds each burst after the first waiting for a nap: 25 bursts
// with naps of 50 ms take over 1.2 s, where they take 0.15-0.65 s without (idle machine to
// sanitizers beside busy loops). A node that never runs out of work never naps: its reads are
// batches already. Each call gets its own reply.
TEST(LiveThreads, CallsThatComeInBurstsAreAnsweredTogetherAfterANap) {
  Epmd epmd;
  const auto cpp = echo_node(epmd, std::chrono::milliseconds(50));
  test_support::BeamNode beam(epmd);
  const auto [right, ms] = run_on_echo(beam, *cpp, call_echo_in_bursts_fun, 25, 8);
  EXPECT_EQ(right, 200);
  EXPECT_GE(ms, 800);
}

// A lone caller's next call comes only after its reply: it never waits for a nap. Fifty calls
// that each waited for one would take a second.
TEST(LiveThreads, ALoneCallerDoesNotWaitForNaps) {
  Epmd epmd;
  const auto cpp = echo_node(epmd, std::chrono::milliseconds(20));
  test_support::BeamNode beam(epmd);
  const auto [right, ms] = run_on_echo(beam, *cpp, call_echo_fun, 1, 50);
  EXPECT_EQ(right, 50);
  EXPECT_LT(ms, 500);
}

}  // namespace
}  // namespace cppnode::cnode::testing
