// SPDX-License-Identifier: Apache-2.0
// The seed servers on a real node without network: the answers the seed modules give (checked
// against the real modules by the live harness test), their exits, and their supervision.
#include "cppnode/servers/examples/example_servers.hpp"

#include <gtest/gtest.h>

#include "cppnode/servers/start.hpp"
#include "local_node.hpp"

namespace cppnode::servers::examples {
namespace {

using namespace codec::literals;
using codec::Atom;
using codec::Term;
using servers::testing::LocalNode;

class ExampleServersTest : public ::testing::Test {
 protected:
  codec::Pid run(std::unique_ptr<GenServer> server) {
    auto started = start(local_.node(), std::move(server));
    EXPECT_TRUE(started) << started.error();
    return *started;
  }
  // The {function_clause, [{Module, Function, [FirstArg | _], _}]} parts a test checks.
  static Term clause_of(const std::optional<Term>& reason) {
    if (!reason) return Term();
    const auto& r = reason->as<codec::Tuple>().elements;
    const auto frame = r[1].list_elements().at(0).as<codec::Tuple>().elements;
    return codec::tuple(r[0], frame[0], frame[1], frame[2].list_elements().at(0));
  }

  LocalNode local_;
};

TEST_F(ExampleServersTest, Counter) {
  const auto pid = run(make_counter());
  EXPECT_EQ(local_.call(pid, "get_count"_a), Term(0));
  local_.cast(pid, codec::tuple("increment"_a, 5));
  local_.cast(pid, codec::tuple("increment"_a, 3));
  EXPECT_EQ(local_.call(pid, "get_count"_a), Term(8));
  // Erlang arithmetic: past int64 into a big integer, then a float.
  local_.cast(pid, codec::tuple("increment"_a, std::int64_t{9223372036854775807}));
  EXPECT_EQ(local_.call(pid, "get_count"_a),
            Term(codec::BigInt{false, {0x07, 0, 0, 0, 0, 0, 0, 0x80}}));
  local_.cast(pid, codec::tuple("increment"_a, 0.5));
  EXPECT_EQ(local_.call(pid, "get_count"_a), Term(9.223372036854776e18));
  EXPECT_EQ(local_.sys(pid, "get_state"_a), Term(9.223372036854776e18));
  EXPECT_EQ(clause_of(local_.call_exit(pid, "other"_a)),
            codec::tuple("function_clause"_a, "Elixir.Counter"_a, "handle_call"_a, "other"_a));
}

TEST_F(ExampleServersTest, CounterBadArithmetic) {
  const auto pid = run(make_counter());
  const auto mref = local_.node().monitor(local_.probe().self(), pid, pid.node);
  local_.cast(pid, codec::tuple("increment"_a, "x"_a));
  // {badarith, [{erlang, '+', [0, x], []}, {'Elixir.Counter', handle_cast, 2, []}]}
  EXPECT_EQ(local_.probe().take_down(mref),
            codec::tuple(
                "badarith"_a,
                codec::list(codec::tuple("erlang"_a, "+"_a, codec::list(0, "x"_a), codec::list()),
                            codec::tuple("Elixir.Counter"_a, "handle_cast"_a, 2, codec::list()))));
}

TEST_F(ExampleServersTest, Stack) {
  const auto pid = run(make_stack());
  EXPECT_EQ(local_.sys(pid, "get_state"_a), codec::list("hello"_a));
  EXPECT_EQ(local_.call(pid, "pop"_a), Term("hello"_a));
  local_.cast(pid, codec::tuple("push"_a, "world"_a));
  local_.cast(pid, codec::tuple("push"_a, codec::binary("x")));
  EXPECT_EQ(local_.sys(pid, "get_state"_a), codec::list(codec::binary("x"), "world"_a));
  EXPECT_EQ(local_.call(pid, "pop"_a), codec::binary("x"));
  EXPECT_EQ(local_.call(pid, "pop"_a), Term("world"_a));
  EXPECT_EQ(clause_of(local_.call_exit(pid, "pop"_a)),
            codec::tuple("function_clause"_a, "Elixir.Stack"_a, "handle_call"_a, "pop"_a));
}

TEST_F(ExampleServersTest, KVStore) {
  const auto pid = run(make_kv_store());
  EXPECT_EQ(local_.call(pid, codec::tuple("put"_a, "name"_a, codec::binary("Elixir"))),
            Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("put"_a, "version"_a, codec::binary("1.16"))),
            Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("get"_a, "name"_a)), codec::binary("Elixir"));
  EXPECT_EQ(local_.call(pid, codec::tuple("get"_a, "missing"_a)), Term("nil"_a));
  EXPECT_EQ(local_.call(pid, "keys"_a), codec::list("name"_a, "version"_a));
  local_.cast(pid, codec::tuple("delete"_a, "version"_a));
  EXPECT_EQ(local_.call(pid, "keys"_a), codec::list("name"_a));
  // Keys are any terms, listed in map key order (maps:keys of OTP 25 gives exactly this).
  for (const Term& k : {Term(codec::binary("x")), Term(2), Term(1.5), Term(1), Term(1.0),
                        Term(codec::tuple(1)), Term(codec::list()), Term(codec::charlist("s"))}) {
    EXPECT_EQ(local_.call(pid, codec::tuple("put"_a, k, k)), Term("ok"_a));
  }
  EXPECT_EQ(local_.call(pid, "keys"_a),
            codec::list(1, 2, 1.0, 1.5, "name"_a, codec::tuple(1), codec::list(),
                        codec::charlist("s"), codec::binary("x")));
  EXPECT_EQ(local_.call(pid, codec::tuple("get"_a, 1.0)), Term(1.0));
  EXPECT_EQ(clause_of(local_.call_exit(pid, "all"_a)),
            codec::tuple("function_clause"_a, "Elixir.KVStore"_a, "handle_call"_a, "all"_a));
}

TEST_F(ExampleServersTest, ErlangKVStore) {
  const auto pid = run(make_erl_kv_store());
  EXPECT_EQ(local_.call(pid, codec::tuple("put"_a, "name"_a, codec::charlist("Alice"))),
            Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("put"_a, "age"_a, 30)), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("get"_a, "name"_a)), codec::charlist("Alice"));
  EXPECT_EQ(local_.call(pid, codec::tuple("get"_a, "nope"_a)), Term("undefined"_a));
  EXPECT_EQ(local_.call(pid, "all"_a),
            codec::map({{"age"_a, 30}, {"name"_a, codec::charlist("Alice")}}));
  local_.cast(pid, codec::tuple("delete"_a, "age"_a));
  local_.cast(pid, "ignored"_a);
  local_.node().send(local_.probe().self(), pid, "stray"_a);  // logged, ignored
  EXPECT_EQ(local_.call(pid, "all"_a), codec::map({{"name"_a, codec::charlist("Alice")}}));
  EXPECT_EQ(local_.call(pid, "whatever"_a), codec::tuple("error"_a, "unknown_request"_a));
  EXPECT_EQ(local_.sys(pid, "get_state"_a), codec::map({{"name"_a, codec::charlist("Alice")}}));
}

TEST_F(ExampleServersTest, Hashmap) {
  const auto pid = run(make_hashmap());
  EXPECT_EQ(local_.call(pid, codec::tuple("get_all"_a)), codec::map({}));
  EXPECT_EQ(local_.call(pid, codec::tuple("put"_a, codec::binary("name"), codec::binary("John"))),
            Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("get"_a, codec::binary("name"))), codec::binary("John"));
  EXPECT_EQ(local_.call(pid, codec::tuple("update"_a, codec::binary("name"), codec::binary("Doe"))),
            Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("get"_a, codec::binary("age"))), Term("nil"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("get"_a, codec::binary("age"), 30)), Term(30));
  EXPECT_EQ(local_.call(pid, codec::tuple("put"_a, codec::binary("gender"), codec::binary("Male"))),
            Term("ok"_a));
  local_.cast(pid, codec::tuple("delete"_a, codec::binary("gender")));
  EXPECT_EQ(local_.call(pid, codec::tuple("get_all"_a)),
            codec::map({{codec::binary("name"), codec::binary("Doe")}}));
  EXPECT_EQ(clause_of(local_.call_exit(pid, "get_all"_a)),
            codec::tuple("function_clause"_a, "Elixir.Hashmap"_a, "handle_call"_a, "get_all"_a));
}

TEST_F(ExampleServersTest, RateLimiterAllowsThenRefills) {
  const auto pid = run(make_rate_limiter(3, std::chrono::milliseconds(200)));
  // Right after a refill exactly `max` calls pass; wait for one to start from a known point.
  ASSERT_TRUE(LocalNode::eventually([&] {
    return local_.sys(pid, "get_state"_a) == codec::map({{"max"_a, 3}, {"remaining"_a, 3}});
  }));
  std::vector<Term> answers;
  for (int i = 0; i < 5; ++i) answers.push_back(*local_.call(pid, "allow"_a));
  // A refill may land anywhere in the sequence (timing): every answer is ok or rate_limited.
  const Term limited = codec::tuple("error"_a, "rate_limited"_a);
  for (const auto& a : answers) EXPECT_TRUE(a == Term("ok"_a) || a == limited) << a;
  ASSERT_TRUE(LocalNode::eventually([&] { return local_.call(pid, "allow"_a) == Term("ok"_a); }));
  const auto mref = local_.node().monitor(local_.probe().self(), pid, pid.node);
  local_.cast(pid, "x"_a);  // rate_limiter has no handle_cast/2
  EXPECT_EQ(local_.probe().take_down(mref)->as<codec::Tuple>().elements[0], Term("undef"_a));
}

TEST_F(ExampleServersTest, RateLimiterSaysNoWhenExhausted) {
  // An interval that never elapses during the test makes the sequence exact.
  const auto pid = run(make_rate_limiter(2, std::chrono::hours(1)));
  EXPECT_EQ(local_.call(pid, "allow"_a), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, "allow"_a), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, "allow"_a), codec::tuple("error"_a, "rate_limited"_a));
  EXPECT_EQ(local_.sys(pid, "get_state"_a), codec::map({{"max"_a, 2}, {"remaining"_a, 0}}));
  EXPECT_EQ(clause_of(local_.call_exit(pid, "deny"_a)),
            codec::tuple("function_clause"_a, "rate_limiter"_a, "handle_call"_a, "deny"_a));
}

TEST_F(ExampleServersTest, ShoppingCart) {
  const auto pid = run(make_shopping_cart(std::chrono::hours(1)));
  EXPECT_EQ(local_.call(pid, "total"_a), Term(0));
  EXPECT_EQ(local_.call(pid, codec::tuple("add_item"_a, codec::binary("apple"), 3)), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("add_item"_a, 1, 2)), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("add_item"_a, codec::binary("apple"), 4)), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, "total"_a), Term(9));
  // remove_item drops the first match, compared with == (1.0 == 1); absent items are a no-op.
  EXPECT_EQ(local_.call(pid, codec::tuple("remove_item"_a, codec::binary("apple"))), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("remove_item"_a, 1.0)), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("remove_item"_a, "absent"_a)), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, "list_items"_a), codec::list(codec::tuple(codec::binary("apple"), 4)));
  EXPECT_EQ(local_.call(pid, codec::tuple("add_item"_a, "pear"_a, 0.5)), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, "total"_a), Term(4.5));
  EXPECT_EQ(local_.sys(pid, "get_state"_a),
            codec::list(codec::tuple(codec::binary("apple"), 4), codec::tuple("pear"_a, 0.5)));
  local_.cast(pid, "clear"_a);
  EXPECT_EQ(local_.call(pid, "list_items"_a), codec::list());
  EXPECT_EQ(local_.call(pid, codec::tuple("add_item"_a, "x"_a, "free"_a)), Term("ok"_a));
  const auto reason = local_.call_exit(pid, "total"_a);
  ASSERT_TRUE(reason);
  EXPECT_EQ(reason->as<codec::Tuple>().elements[0], Term("badarith"_a));
}

TEST_F(ExampleServersTest, ShoppingCartClearsAfterInactivity) {
  const auto pid = run(make_shopping_cart(std::chrono::milliseconds(50)));
  EXPECT_EQ(local_.call(pid, codec::tuple("add_item"_a, "a"_a, 1)), Term("ok"_a));
  EXPECT_EQ(local_.call(pid, codec::tuple("add_item"_a, "b"_a, 2)), Term("ok"_a));
  EXPECT_TRUE(LocalNode::eventually(
      [&] { return local_.call(pid, "list_items"_a) == Term(codec::list()); }));
}

TEST_F(ExampleServersTest, Greeter) {
  // As the README starts it (the global name waits for a BEAM node to register through).
  auto started =
      start(local_.node(), make_greeter(), {.local_name = "greeter"_a, .global_name = "greeter"_a});
  ASSERT_TRUE(started);
  const auto pid = *started;
  EXPECT_EQ(local_.call("greeter"_a, codec::tuple("greet"_a, codec::binary("Ann"))),
            codec::binary("Hello, Ann!"));
  EXPECT_EQ(local_.call(pid, "count"_a), Term(1));
  EXPECT_EQ(local_.sys(pid, "get_state"_a), Term(1));
}

TEST_F(ExampleServersTest, StartedUnderOneSupervisorWithLocalNames) {
  ExampleOptions options;
  options.global_names = false;
  auto started = start_example_servers(local_.node(), options);
  ASSERT_TRUE(started) << started.error();
  for (const char* name : {"counter", "stack", "kv_store", "erl_kv_store", "hashmap",
                           "rate_limiter", "shopping_cart", "cppnode_sup"}) {
    EXPECT_TRUE(local_.node().whereis(Atom(name))) << name;
  }
  // pop on an empty stack exits the caller; the stack comes back with [hello].
  const auto stack = *local_.node().whereis("stack"_a);
  EXPECT_EQ(local_.call("stack"_a, "pop"_a), Term("hello"_a));
  EXPECT_TRUE(local_.call_exit(stack, "pop"_a));
  ASSERT_TRUE(LocalNode::eventually([&] {
    auto p = local_.node().whereis("stack"_a);
    return p && *p != stack;
  }));
  EXPECT_EQ(local_.call("stack"_a, "pop"_a), Term("hello"_a));
}

}  // namespace
}  // namespace cppnode::servers::examples
