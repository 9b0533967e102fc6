// SPDX-License-Identifier: Apache-2.0
// rex on a real node without network: the function table (arity, errors in rpc's shapes) and
// the messages BEAM nodes and C nodes send to a node's rex.
#include "cppnode/servers/rex.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "cppnode/servers/arith.hpp"
#include "cppnode/servers/errors.hpp"
#include "cppnode/servers/start.hpp"
#include "local_node.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using codec::Atom;
using codec::Term;
using testing::LocalNode;

// The answers a BEAM node gives, written out as rpc.erl builds them.
Term badrpc(Term why) { return codec::tuple("badrpc"_a, codec::tuple("EXIT"_a, std::move(why))); }
Term undef(Atom m, Atom f, Term args) {
  return badrpc(codec::tuple("undef"_a, codec::list(codec::tuple(m, f, args, codec::list()))));
}

std::shared_ptr<RpcFunctions> math_functions() {
  auto fns = std::make_shared<RpcFunctions>();
  fns->register_function("math"_a, "add"_a, 2,
                         [](const std::vector<Term>& a) { return add(a[0], a[1]); });
  fns->register_function("math"_a, "add"_a, 3,
                         [](const std::vector<Term>& a) { return add(add(a[0], a[1]), a[2]); });
  fns->register_function("math"_a, "boom"_a, 0, [](const std::vector<Term>&) -> Term {
    throw std::runtime_error("boom");
  });
  fns->register_function("math"_a, "quit"_a, 1,
                         [](const std::vector<Term>& a) -> Term { throw ExitError(a[0]); });
  return fns;
}

TEST(RexFunctions, AppliesByModuleNameAndArity) {
  auto fns = math_functions();
  EXPECT_EQ(fns->apply("math"_a, "add"_a, codec::list(1, 2)).rpc_reply(), Term(3));
  EXPECT_EQ(fns->apply("math"_a, "add"_a, codec::list(1, 2, 3)).rpc_reply(), Term(6));
  // A charlist is a list too: [1, 2] may arrive as STRING_EXT.
  EXPECT_EQ(fns->apply("math"_a, "add"_a, codec::charlist("\x01\x02")).rpc_reply(), Term(3));
  const RpcResult r = fns->apply("math"_a, "add"_a, codec::list(1));
  EXPECT_EQ(r.kind, RpcResult::Kind::raised);
  EXPECT_EQ(r.rpc_reply(), undef("math"_a, "add"_a, codec::list(1)));
  EXPECT_EQ(fns->apply("nomod"_a, "nofun"_a, codec::list()).rpc_reply(),
            undef("nomod"_a, "nofun"_a, codec::list()));
}

TEST(RexFunctions, ErrorsTakeTheShapesOfErlangApply) {
  auto fns = math_functions();
  // An Erlang error inside the function: its frame, then the function's own.
  EXPECT_EQ(fns->apply("math"_a, "add"_a, codec::list(1, "a"_a)).rpc_reply(),
            badrpc(codec::tuple(
                "badarith"_a,
                codec::list(codec::tuple("erlang"_a, "+"_a, codec::list(1, "a"_a), codec::list()),
                            codec::tuple("math"_a, "add"_a, 2, codec::list())))));
  EXPECT_EQ(fns->apply("math"_a, "boom"_a, codec::list()).rpc_reply(),
            badrpc(codec::tuple(
                codec::tuple("cpp_exception"_a, codec::binary("boom")),
                codec::list(codec::tuple("math"_a, "boom"_a, codec::list(), codec::list())))));
  const RpcResult exited = fns->apply("math"_a, "quit"_a, codec::list("bye"_a));
  EXPECT_EQ(exited.kind, RpcResult::Kind::exited);
  EXPECT_EQ(exited.rpc_reply(), badrpc("bye"_a));
  // erlang:apply/3's own badarg for arguments that are not a proper list or names not atoms.
  const Term improper = codec::improper_list({1}, 2);
  EXPECT_EQ(fns->apply("math"_a, "add"_a, improper).rpc_reply(),
            badrpc(codec::tuple("badarg"_a,
                                codec::list(codec::tuple("erlang"_a, "apply"_a,
                                                         codec::list("math"_a, "add"_a, improper),
                                                         codec::list())))));
  EXPECT_EQ(fns->apply(Term(1), "add"_a, codec::list()).kind, RpcResult::Kind::raised);
  EXPECT_EQ(fns->apply("math"_a, "add"_a, "notalist"_a).kind, RpcResult::Kind::raised);
}

TEST(RexFunctions, RegisterReplaceUnregisterAndList) {
  RpcFunctions fns;
  fns.register_function("m"_a, "f"_a, 0, [](const std::vector<Term>&) { return Term(1); });
  fns.register_function("m"_a, "f"_a, 0, [](const std::vector<Term>&) { return Term(2); });
  fns.register_function("a"_a, "g"_a, 1, [](const std::vector<Term>& a) { return a[0]; });
  EXPECT_EQ(fns.apply("m"_a, "f"_a, codec::list()).rpc_reply(), Term(2));
  EXPECT_EQ(fns.list(), codec::list(codec::tuple("a"_a, "g"_a, 1), codec::tuple("m"_a, "f"_a, 0)));
  EXPECT_TRUE(fns.unregister_function("m"_a, "f"_a, 0));
  EXPECT_FALSE(fns.unregister_function("m"_a, "f"_a, 0));
  EXPECT_EQ(fns.apply("m"_a, "f"_a, codec::list()).kind, RpcResult::Kind::raised);
}

class RexServer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = start(local.node(), make_rex(functions), {.local_name = "rex"_a});
    ASSERT_TRUE(started) << started.error();
    rex = *started;
  }
  static Term call_request(Atom kind, Atom m, Atom f, Term args) {
    return codec::tuple(kind, m, f, std::move(args), "user"_a);
  }
  // `{From, Request}` sent to rex, as ei_rpc and rpc:sbcast do.
  void send_plain(Term request) {
    local.node().send(local.probe().self(), rex,
                      codec::tuple(local.probe().self(), std::move(request)));
  }

  LocalNode local;
  std::shared_ptr<RpcFunctions> functions = math_functions();
  codec::Pid rex;
};

TEST_F(RexServer, GenServerCallsAnswerAsRpc) {
  EXPECT_EQ(local.call("rex"_a, call_request("call"_a, "math"_a, "add"_a, codec::list(1, 2))),
            Term(3));
  EXPECT_EQ(local.call(rex, call_request("block_call"_a, "math"_a, "add"_a, codec::list(2, 2))),
            Term(4));
  EXPECT_EQ(local.call(rex, call_request("call"_a, "math"_a, "add"_a, codec::list(1, 2, 3, 4))),
            undef("math"_a, "add"_a, codec::list(1, 2, 3, 4)));
}

TEST_F(RexServer, AThrowingFunctionAnswersAnErrorAndRexServesOn) {
  const Term answer = *local.call(rex, call_request("call"_a, "math"_a, "boom"_a, codec::list()));
  EXPECT_EQ(answer.as<codec::Tuple>().elements[0], Term("badrpc"_a));
  EXPECT_EQ(local.call(rex, call_request("call"_a, "math"_a, "add"_a, codec::list(5, 5))),
            Term(10));
  EXPECT_EQ(local.node().whereis("rex"_a), rex);
}

TEST_F(RexServer, UnknownCallsAreIgnoredAsOtpDoes) {
  // Sent first, answered never: rex handles in order, so had it answered, that answer would
  // be in the mailbox before the second one.
  const codec::Reference ignored = local.node().make_ref();
  local.node().send(
      local.probe().self(), rex,
      codec::tuple("$gen_call"_a, codec::tuple(local.probe().self(), ignored), "whatever"_a));
  EXPECT_EQ(local.call(rex, call_request("call"_a, "math"_a, "add"_a, codec::list(1, 1))), Term(2));
  EXPECT_FALSE(local.probe().take(
      [&](const cnode::Signal& s) {
        const auto* m = std::get_if<cnode::MessageSignal>(&s);
        return m != nullptr && codec::match(m->message, ignored, codec::_);
      },
      std::chrono::milliseconds(0)));
  EXPECT_EQ(local.node().whereis("rex"_a), rex);
}

TEST_F(RexServer, CastsRunTheFunctionAndDropTheResult) {
  std::atomic<int> noted{0};
  functions->register_function("log"_a, "note"_a, 1, [&noted](const std::vector<Term>& a) {
    noted += static_cast<int>(a[0].as<std::int64_t>());
    return Term("ok"_a);
  });
  local.cast(rex, call_request("cast"_a, "log"_a, "note"_a, codec::list(7)));
  local.cast(rex, call_request("cast"_a, "math"_a, "boom"_a, codec::list()));  // logged only
  local.cast(rex, call_request("cast"_a, "nomod"_a, "nofun"_a, codec::list()));
  EXPECT_EQ(local.call(rex, call_request("call"_a, "math"_a, "add"_a, codec::list(0, 0))), Term(0));
  EXPECT_EQ(noted.load(), 7);
}

TEST_F(RexServer, PlainCallsAnswerRexTuples) {
  send_plain(call_request("call"_a, "math"_a, "add"_a, codec::list(20, 22)));
  EXPECT_TRUE(
      local.probe().take_message([](const Term& t) { return t == codec::tuple("rex"_a, 42); }));
  send_plain(call_request("call"_a, "math"_a, "nope"_a, codec::list()));
  EXPECT_TRUE(local.probe().take_message([](const Term& t) {
    return t == codec::tuple("rex"_a, undef("math"_a, "nope"_a, codec::list()));
  }));
}

TEST_F(RexServer, SbcastSendsToALocalNameAndSaysWhetherItExists) {
  auto target = local.new_probe();
  ASSERT_TRUE(local.node().register_name("target"_a, target->self()));
  send_plain(codec::tuple("sbcast"_a, "target"_a, "hello"_a));
  EXPECT_TRUE(target->take_message([](const Term& t) { return t == Term("hello"_a); }));
  const Term node = local.node().name();
  EXPECT_TRUE(local.probe().take_message(
      [&](const Term& t) { return t == codec::tuple("rex"_a, node, node); }));
  send_plain(codec::tuple("sbcast"_a, "nobody"_a, "hello"_a));
  EXPECT_TRUE(local.probe().take_message([&](const Term& t) {
    return t == codec::tuple("rex"_a, node, codec::tuple("nonexisting_name"_a, "nobody"_a));
  }));
}

TEST_F(RexServer, SysGetStateListsTheFunctions) {
  EXPECT_EQ(local.sys(rex, "get_state"_a), functions->list());
}

}  // namespace
}  // namespace cppnode::servers
