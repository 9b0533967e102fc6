// SPDX-License-Identifier: Apache-2.0
// The GenServer framework on a real node without network: the call protocol, results, exits,
// timers, timeouts, sys messages and calls out, observed through a probe process.
#include "cppnode/servers/gen_server.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "cppnode/servers/start.hpp"
#include "local_node.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using codec::Atom;
using codec::Term;
using testing::LocalNode;

// Threads that answer calls after their callback returned. A From holds the node by reference,
// so they are joined before the node goes (a detached one could still be leaving Node::send
// when the test, which already has its reply, destroys the node).
class ReplyThreads {
 public:
  template <class F>
  void start(F f) {
    const std::lock_guard lock(mutex_);
    threads_.emplace_back(std::move(f));
  }
  ~ReplyThreads() {
    const std::lock_guard lock(mutex_);
    threads_.clear();
  }
  ReplyThreads() = default;
  ReplyThreads(const ReplyThreads&) = delete;
  ReplyThreads& operator=(const ReplyThreads&) = delete;

 private:
  std::mutex mutex_;
  std::vector<std::jthread> threads_;
};

// A server whose every behaviour is driven by the request, reporting what happens to
// `observer` as `{event, What}` messages.
class TestServer : public GenServer {
 public:
  TestServer(codec::Pid observer, ReplyThreads& reply_threads)
      : observer_(std::move(observer)), reply_threads_(reply_threads) {}

  [[nodiscard]] Term state_term() const override { return count_; }
  [[nodiscard]] Atom module() const override { return "test_server"_a; }

 protected:
  CallResult handle_call(const Term& req, const From& from) override {
    std::int64_t n = 0;
    Term a;
    Term b;
    Term c;
    if (req.is_atom("get")) return reply(count_);
    if (codec::match(req, "add"_a, &n)) {
      count_ += n;
      return reply(count_);
    }
    if (codec::match(req, "later"_a, &a)) {
      // Answer from another thread, after this callback has returned.
      reply_threads_.start([from, a] { from.reply(a); });
      return noreply();
    }
    if (codec::match(req, "stop_reply"_a, &a, &b)) return stop(a, b);
    if (codec::match(req, "stop"_a, &a)) return stop(a);
    if (codec::match(req, "throw"_a, &a)) throw std::runtime_error("thrown on purpose");
    if (codec::match(req, "erl_error"_a, &a)) throw ErlangError(a);
    if (codec::match(req, "exit"_a, &a)) throw ExitError(a);
    if (codec::match(req, "reply_timeout"_a, &n))
      return reply("ok"_a, std::chrono::milliseconds(n));
    if (codec::match(req, "send_after"_a, &n, &a)) {
      send_after(std::chrono::milliseconds(n), a);
      return reply("ok"_a);
    }
    if (req.is_atom("cancel_twice")) {
      const TimerRef t = send_after(std::chrono::hours(1), "never"_a);
      const bool first = cancel_timer(t);
      const bool second = cancel_timer(t);
      return reply(codec::tuple(first, second));
    }
    codec::Pid pid;
    if (codec::match(req, "monitor"_a, &pid)) return reply(monitor(pid));
    if (codec::match(req, "link"_a, &pid)) {
      link(pid);
      return reply("ok"_a);
    }
    if (codec::match(req, "trap"_a, &a)) {
      trap_exit(a.is_atom("true"));
      return reply("ok"_a);
    }
    if (codec::match(req, "call_out"_a, &a, &b, &n)) {
      auto dest = Dest::from_term(a);
      call(*dest, b, std::chrono::milliseconds(n), [this, from](CallOutcome r) {
        from.reply(codec::tuple(r.ok ? "ok"_a : "error"_a, r.value));
        ++count_;
        return noreply();
      });
      return noreply();
    }
    if (codec::match(req, "send_to"_a, &a, &b)) {
      send(*Dest::from_term(a), b);
      return reply("ok"_a);
    }
    if (codec::match(req, "cast_to"_a, &a, &b)) {
      cast(*Dest::from_term(a), b);
      return reply("ok"_a);
    }
    if (req.is_atom("nomatch")) return no_match();
    (void)c;
    return GenServer::handle_call(req, from);
  }

  InfoResult handle_cast(const Term& msg) override {
    std::int64_t n = 0;
    if (codec::match(msg, "add"_a, &n)) {
      count_ += n;
      return noreply();
    }
    if (msg.is_atom("nomatch")) return no_match();
    return GenServer::handle_cast(msg);
  }

  InfoResult handle_info(const Term& msg) override {
    std::int64_t n = 0;
    report(codec::tuple("info"_a, msg));
    if (codec::match(msg, "noreply_timeout"_a, &n)) return noreply(std::chrono::milliseconds(n));
    if (msg.is_atom("stop_me")) return stop("stopped_by_info"_a);
    return noreply();
  }

  void terminate(const Term& reason) override { report(codec::tuple("terminate"_a, reason)); }

 private:
  void report(Term what) {
    node().send(self(), observer_, codec::tuple("event"_a, std::move(what)));
  }

  codec::Pid observer_;
  ReplyThreads& reply_threads_;
  std::int64_t count_ = 0;
};

// Overrides nothing: every default is exercised.
class DefaultServer : public GenServer {};

class GenServerTest : public ::testing::Test {
 protected:
  codec::Pid start_test_server(StartOptions options = {}) {
    auto started =
        start(local_.node(), std::make_unique<TestServer>(local_.probe().self(), reply_threads_),
              std::move(options));
    EXPECT_TRUE(started) << started.error();
    return *started;
  }
  std::optional<Term> event() {
    auto m = local_.probe().take_message(
        [](const Term& t) { return codec::match(t, "event"_a, codec::_); });
    if (!m) return std::nullopt;
    return m->as<codec::Tuple>().elements[1];
  }

  LocalNode local_;
  ReplyThreads reply_threads_;  // after local_: joined before the node is destroyed
};

TEST_F(GenServerTest, CallRepliesWithTheTagUnchanged) {
  const auto pid = start_test_server();
  EXPECT_EQ(local_.call(pid, codec::tuple("add"_a, 5)), Term(5));
  EXPECT_EQ(local_.call(pid, "get"_a), Term(5));
  // Any tag, e.g. a tuple, comes back as it was.
  const Term tag = codec::tuple("my"_a, codec::binary("tag"), 7);
  local_.node().send(
      local_.probe().self(), pid,
      codec::tuple("$gen_call"_a, codec::tuple(local_.probe().self(), tag), "get"_a));
  EXPECT_EQ(local_.take_reply(tag), Term(5));
}

TEST_F(GenServerTest, CastsAndSysGetState) {
  const auto pid = start_test_server();
  local_.cast(pid, codec::tuple("add"_a, 2));
  local_.cast(pid, codec::tuple("add"_a, 3));
  EXPECT_EQ(local_.sys(pid, "get_state"_a), Term(5));
}

TEST_F(GenServerTest, LocalNameReachesTheServer) {
  const auto pid = start_test_server({.local_name = "named_server"_a});
  EXPECT_EQ(local_.node().whereis("named_server"_a), pid);
  EXPECT_EQ(local_.call("named_server"_a, codec::tuple("add"_a, 1)), Term(1));
  auto again =
      start(local_.node(), std::make_unique<TestServer>(local_.probe().self(), reply_threads_),
            {.local_name = "named_server"_a});
  EXPECT_FALSE(again);
  EXPECT_EQ(again.error(), codec::tuple("already_started"_a, pid));
}

TEST_F(GenServerTest, NoReplyThenReplyFromAnotherThread) {
  const auto pid = start_test_server();
  EXPECT_EQ(local_.call(pid, codec::tuple("later"_a, codec::binary("async"))),
            codec::binary("async"));
}

TEST_F(GenServerTest, StopWithReplyRunsTerminateThenRepliesThenExits) {
  const auto pid = start_test_server();
  const auto mref = local_.node().monitor(local_.probe().self(), pid, pid.node);
  EXPECT_EQ(local_.call(pid, codec::tuple("stop_reply"_a, "my_reason"_a, "bye"_a)), Term("bye"_a));
  EXPECT_EQ(event(), codec::tuple("terminate"_a, "my_reason"_a));
  EXPECT_EQ(local_.probe().take_down(mref), Term("my_reason"_a));
}

TEST_F(GenServerTest, StopFromInfoEndsTheServerThroughTerminate) {
  const auto pid = start_test_server();
  const auto mref = local_.node().monitor(local_.probe().self(), pid, pid.node);
  local_.node().send(local_.probe().self(), pid, "stop_me"_a);
  EXPECT_EQ(event(), codec::tuple("info"_a, "stop_me"_a));
  EXPECT_EQ(event(), codec::tuple("terminate"_a, "stopped_by_info"_a));
  EXPECT_EQ(local_.probe().take_down(mref), Term("stopped_by_info"_a));
}

TEST_F(GenServerTest, NoMatchExitsWithFunctionClauseNamingTheRequest) {
  const auto pid = start_test_server();
  local_.cast(pid, codec::tuple("add"_a, 4));
  const auto reason = local_.call_exit(pid, "nomatch"_a);
  ASSERT_TRUE(reason);
  // {function_clause, [{test_server, handle_call, [nomatch, {Probe, Ref}, 4], []}]}
  const auto& r = reason->as<codec::Tuple>().elements;
  EXPECT_EQ(r[0], Term("function_clause"_a));
  const auto frame = r[1].list_elements().at(0).as<codec::Tuple>().elements;
  EXPECT_EQ(frame[0], Term("test_server"_a));
  EXPECT_EQ(frame[1], Term("handle_call"_a));
  const auto args = frame[2].list_elements();
  ASSERT_EQ(args.size(), 3U);
  EXPECT_EQ(args[0], Term("nomatch"_a));
  EXPECT_EQ(args[1].as<codec::Tuple>().elements[0], Term(local_.probe().self()));
  EXPECT_EQ(args[2], Term(4));
  EXPECT_EQ(event(), codec::tuple("terminate"_a, *reason));
}

TEST_F(GenServerTest, ExceptionsEndTheServerWithReasonsThatNameThem) {
  {
    const auto pid = start_test_server();
    const auto reason = local_.call_exit(pid, codec::tuple("throw"_a, 1));
    ASSERT_TRUE(reason);
    const auto& r = reason->as<codec::Tuple>().elements;
    EXPECT_EQ(r[0], codec::tuple("cpp_exception"_a, codec::binary("thrown on purpose")));
    const auto frame = r[1].list_elements().at(0).as<codec::Tuple>().elements;
    EXPECT_EQ(frame[1], Term("handle_call"_a));
    EXPECT_EQ(frame[2].list_elements().at(0), codec::tuple("throw"_a, 1));
  }
  {
    const auto pid = start_test_server();
    const auto reason = local_.call_exit(pid, codec::tuple("erl_error"_a, "badarg"_a));
    EXPECT_EQ(reason,
              codec::tuple("badarg"_a, codec::list(codec::tuple("test_server"_a, "handle_call"_a, 3,
                                                                codec::list()))));
  }
  {
    const auto pid = start_test_server();
    const auto reason = local_.call_exit(pid, codec::tuple("exit"_a, codec::tuple("my"_a, 1)));
    EXPECT_EQ(reason, codec::tuple("my"_a, 1));
  }
}

TEST_F(GenServerTest, DefaultsNameTheUnhandledRequest) {
  auto started = start(local_.node(), std::make_unique<DefaultServer>());
  ASSERT_TRUE(started);
  const codec::Pid pid = *started;
  // Unhandled info is logged and ignored; the state defaults to the module name.
  local_.node().send(local_.probe().self(), pid, "stray"_a);
  const auto state = local_.sys(pid, "get_state"_a);
  ASSERT_TRUE(state);
  EXPECT_NE(state->as<Atom>().name().find("DefaultServer"), std::string_view::npos);
  EXPECT_EQ(local_.call_exit(pid, codec::tuple("hello"_a, 1)),
            codec::tuple("bad_call"_a, codec::tuple("hello"_a, 1)));

  started = start(local_.node(), std::make_unique<DefaultServer>());
  ASSERT_TRUE(started);
  const auto mref = local_.node().monitor(local_.probe().self(), *started, started->node);
  local_.cast(*started, "ping"_a);
  EXPECT_EQ(local_.probe().take_down(mref), codec::tuple("bad_cast"_a, "ping"_a));
}

TEST_F(GenServerTest, ReplyTimeoutGivesTimeoutUnlessAMessageComesFirst) {
  const auto pid = start_test_server();
  EXPECT_EQ(local_.call(pid, codec::tuple("reply_timeout"_a, 1)), Term("ok"_a));
  EXPECT_EQ(event(), codec::tuple("info"_a, "timeout"_a));
  // A message within the (long) timeout cancels it; the message's own result sets the next one.
  EXPECT_EQ(local_.call(pid, codec::tuple("reply_timeout"_a, 600'000)), Term("ok"_a));
  local_.node().send(local_.probe().self(), pid, codec::tuple("noreply_timeout"_a, 1));
  EXPECT_EQ(event(), codec::tuple("info"_a, codec::tuple("noreply_timeout"_a, 1)));
  EXPECT_EQ(event(), codec::tuple("info"_a, "timeout"_a));
  EXPECT_EQ(local_.call(pid, "get"_a), Term(0));
}

TEST_F(GenServerTest, InitTimeoutGivesTimeout) {
  class Idle : public TestServer {
   public:
    using TestServer::TestServer;
    InitResult init() override { return ok(std::chrono::milliseconds(1)); }
  };
  ASSERT_TRUE(start(local_.node(), std::make_unique<Idle>(local_.probe().self(), reply_threads_)));
  EXPECT_EQ(event(), codec::tuple("info"_a, "timeout"_a));
}

TEST_F(GenServerTest, TimersFireAndCancel) {
  const auto pid = start_test_server();
  EXPECT_EQ(local_.call(pid, codec::tuple("send_after"_a, 1, "tick"_a)), Term("ok"_a));
  EXPECT_EQ(event(), codec::tuple("info"_a, "tick"_a));
  EXPECT_EQ(local_.call(pid, "cancel_twice"_a), codec::tuple(true, false));
}

TEST_F(GenServerTest, InitResultsDecideWhatStartReturns) {
  class Stopper : public GenServer {
    InitResult init() override { return InitResult::stop(codec::tuple("bad_config"_a, 1)); }
  };
  class Ignorer : public GenServer {
    InitResult init() override { return InitResult::ignore(); }
  };
  class Thrower : public GenServer {
    InitResult init() override { throw std::runtime_error("no database"); }
  };
  auto probe = local_.new_probe();
  probe->set_trap_exit(true);
  auto s = start(local_.node(), std::make_unique<Stopper>(),
                 {.local_name = "stopper"_a, .parent = probe->self()});
  EXPECT_FALSE(s);
  EXPECT_EQ(s.error(), codec::tuple("bad_config"_a, 1));
  EXPECT_TRUE(LocalNode::eventually([&] { return !local_.node().whereis("stopper"_a); }));
  s = start(local_.node(), std::make_unique<Ignorer>());
  EXPECT_FALSE(s);
  EXPECT_EQ(s.error(), Term("ignore"_a));
  s = start(local_.node(), std::make_unique<Thrower>());
  EXPECT_FALSE(s);
  EXPECT_EQ(s.error().as<codec::Tuple>().elements[0],
            codec::tuple("cpp_exception"_a, codec::binary("no database")));
}

TEST_F(GenServerTest, ExitSignalsFollowErlangRules) {
  // Not trapping: a linked process's abnormal exit ends the server with the same reason.
  {
    const auto pid = start_test_server();
    auto other = local_.new_probe();
    EXPECT_EQ(local_.call(pid, codec::tuple("link"_a, other->self())), Term("ok"_a));
    const auto mref = local_.node().monitor(local_.probe().self(), pid, pid.node);
    local_.node().exit_process(other->self(), "boom"_a);
    EXPECT_EQ(local_.probe().take_down(mref), Term("boom"_a));
  }
  // A normal exit of a linked process is ignored.
  {
    const auto pid = start_test_server();
    auto other = local_.new_probe();
    EXPECT_EQ(local_.call(pid, codec::tuple("link"_a, other->self())), Term("ok"_a));
    local_.node().exit_process(other->self(), "normal"_a);
    EXPECT_EQ(local_.call(pid, codec::tuple("add"_a, 1)), Term(1));
  }
  // Trapping: the exit becomes an {'EXIT', Pid, Reason} message.
  {
    const auto pid = start_test_server();
    auto other = local_.new_probe();
    EXPECT_EQ(local_.call(pid, codec::tuple("trap"_a, true)), Term("ok"_a));
    EXPECT_EQ(local_.call(pid, codec::tuple("link"_a, other->self())), Term("ok"_a));
    local_.node().exit_process(other->self(), "boom"_a);
    EXPECT_EQ(event(), codec::tuple("info"_a, codec::tuple("EXIT"_a, other->self(), "boom"_a)));
    // exit(Pid, kill) cannot be trapped.
    const auto mref = local_.node().monitor(local_.probe().self(), pid, pid.node);
    local_.node().exit_signal(local_.probe().self(), pid, "kill"_a);
    EXPECT_EQ(local_.probe().take_down(mref), Term("killed"_a));
  }
}

TEST_F(GenServerTest, ParentExitEndsATrappingServerThroughTerminate) {
  auto parent = local_.new_probe();
  parent->set_trap_exit(true);
  const auto pid = start_test_server({.parent = parent->self()});
  EXPECT_EQ(local_.call(pid, codec::tuple("trap"_a, true)), Term("ok"_a));
  local_.node().exit_signal(parent->self(), pid, "shutdown"_a);
  EXPECT_EQ(event(), codec::tuple("terminate"_a, "shutdown"_a));
  // The link to the parent carries the exit back.
  const auto exit = parent->take_exit(pid);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->reason, Term("shutdown"_a));
}

TEST_F(GenServerTest, MonitorsDeliverDown) {
  const auto pid = start_test_server();
  auto other = local_.new_probe();
  const auto ref = local_.call(pid, codec::tuple("monitor"_a, other->self()));
  ASSERT_TRUE(ref);
  local_.node().exit_process(other->self(), "gone"_a);
  EXPECT_EQ(event(), codec::tuple("info"_a, codec::tuple("DOWN"_a, *ref, "process"_a, other->self(),
                                                         "gone"_a)));
}

TEST_F(GenServerTest, CallsOutDoNotBlockAndReportFailures) {
  const auto a = start_test_server();
  const auto b = start_test_server({.local_name = "callee"_a});
  EXPECT_EQ(local_.call(b, codec::tuple("add"_a, 41)), Term(41));
  // By pid and by {Name, Node}.
  EXPECT_EQ(local_.call(a, codec::tuple("call_out"_a, b, codec::tuple("add"_a, 1), 10'000)),
            codec::tuple("ok"_a, 42));
  EXPECT_EQ(
      local_.call(a, codec::tuple("call_out"_a, codec::tuple("callee"_a, local_.node().name()),
                                  "get"_a, 10'000)),
      codec::tuple("ok"_a, 42));
  // While a call out waits (the callee answers later), the caller serves other requests.
  EXPECT_EQ(local_.call(
                a, codec::tuple("call_out"_a, b, codec::tuple("later"_a, "late_answer"_a), 10'000)),
            codec::tuple("ok"_a, "late_answer"_a));
  // Failures: no such process, the callee exits, no answer in time, calling oneself.
  EXPECT_EQ(local_.call(a, codec::tuple("call_out"_a, "nobody"_a, "get"_a, 10'000)),
            codec::tuple("error"_a, "noproc"_a));
  EXPECT_EQ(local_.call(a, codec::tuple("call_out"_a, a, "get"_a, 10'000)),
            codec::tuple("error"_a, "calling_self"_a));
  const auto silent = local_.new_probe();
  EXPECT_EQ(local_.call(a, codec::tuple("call_out"_a, silent->self(), "get"_a, 1)),
            codec::tuple("error"_a, "timeout"_a));
  EXPECT_EQ(local_.call(
                a, codec::tuple("call_out"_a, b, codec::tuple("stop"_a, "callee_died"_a), 10'000)),
            codec::tuple("error"_a, "callee_died"_a));
  // No BEAM node to resolve a global name through.
  EXPECT_EQ(
      local_.call(a, codec::tuple("call_out"_a, codec::tuple("global"_a, "x"_a), "get"_a, 10'000)),
      codec::tuple("error"_a, "noproc"_a));
  // Every continuation ran on the server (each bumped its count).
  EXPECT_EQ(local_.call(a, "get"_a), Term(8));
}

TEST_F(GenServerTest, SendAndCastToDestinations) {
  const auto a = start_test_server();
  const auto b = start_test_server({.local_name = "target"_a});
  EXPECT_EQ(local_.call(a, codec::tuple("cast_to"_a, "target"_a, codec::tuple("add"_a, 3))),
            Term("ok"_a));
  EXPECT_EQ(local_.call(a, codec::tuple("send_to"_a, b, "hello"_a)), Term("ok"_a));
  EXPECT_EQ(event(), codec::tuple("info"_a, "hello"_a));
  EXPECT_EQ(local_.call(b, "get"_a), Term(3));
}

TEST_F(GenServerTest, SysStatusSuspendResumeAndUnknown) {
  const auto pid = start_test_server({.local_name = "sys_server"_a});
  local_.cast(pid, codec::tuple("add"_a, 9));
  const auto status = local_.sys(pid, "get_status"_a);
  ASSERT_TRUE(status);
  const auto& st = status->as<codec::Tuple>().elements;
  ASSERT_EQ(st.size(), 4U);
  EXPECT_EQ(st[0], Term("status"_a));
  EXPECT_EQ(st[1], Term(pid));
  EXPECT_EQ(st[2], codec::tuple("module"_a, "gen_server"_a));
  const auto items = st[3].list_elements();
  ASSERT_EQ(items.size(), 5U);
  EXPECT_EQ(items[1], Term("running"_a));
  EXPECT_EQ(items[2], Term(pid));  // no parent: itself, as gen_server
  const auto misc = items[4].list_elements();
  EXPECT_EQ(misc[0],
            codec::tuple("header"_a, codec::charlist("Status for generic server sys_server")));
  EXPECT_EQ(misc[2],
            codec::tuple("data"_a, codec::list(codec::tuple(codec::charlist("State"), 9))));

  // Suspended, the server answers only system messages; the rest waits for resume.
  EXPECT_EQ(local_.sys(pid, "suspend"_a), Term("ok"_a));
  local_.cast(pid, codec::tuple("add"_a, 1));
  EXPECT_EQ(local_.sys(pid, "get_state"_a), Term(9));
  EXPECT_EQ(local_.sys(pid, "resume"_a), Term("ok"_a));
  EXPECT_EQ(local_.sys(pid, "get_state"_a), Term(10));

  EXPECT_EQ(local_.sys(pid, "frobnicate"_a),
            codec::tuple("error"_a, codec::tuple("unknown_system_msg"_a, "frobnicate"_a)));
  // sys:terminate/2: terminate runs, the caller gets ok, the server exits with the reason.
  const auto mref = local_.node().monitor(local_.probe().self(), pid, pid.node);
  EXPECT_EQ(local_.sys(pid, codec::tuple("terminate"_a, "by_sys"_a)), Term("ok"_a));
  EXPECT_EQ(event(), codec::tuple("terminate"_a, "by_sys"_a));
  EXPECT_EQ(local_.probe().take_down(mref), Term("by_sys"_a));
}

}  // namespace
}  // namespace cppnode::servers
