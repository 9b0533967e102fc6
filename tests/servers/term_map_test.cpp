// SPDX-License-Identifier: Apache-2.0
// Erlang's map key order, == and + (compared with what OTP 25 answers; see each case).
#include "cppnode/servers/term_map.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "cppnode/codec/codec.hpp"
#include "cppnode/servers/arith.hpp"
#include "cppnode/servers/errors.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using codec::Term;

std::vector<Term> keys_of(std::initializer_list<Term> keys) {
  TermMap m;
  for (const auto& k : keys) m.emplace(k, k);
  std::vector<Term> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

TEST(MapKeyOrder, IntegersBeforeFloatsAsOtp25) {
  // maps:keys(#{2=>a, 1.5=>b, 1=>c, 1.0=>d, foo=>e, <<"x">>=>f, "s"=>g, {1}=>h, []=>i})
  EXPECT_EQ(keys_of({2, 1.5, 1, 1.0, "foo"_a, codec::binary("x"), codec::charlist("s"),
                     codec::tuple(1), codec::list()}),
            (std::vector<Term>{1, 2, 1.0, 1.5, "foo"_a, codec::tuple(1), codec::list(),
                               codec::charlist("s"), codec::binary("x")}));
  // maps:keys(#{{2}=>a, {1.5}=>b, [2]=>c, [1.5]=>d, #{2=>x}=>e, #{1.5=>x}=>f})
  EXPECT_EQ(keys_of({codec::tuple(2), codec::tuple(1.5), codec::list(2), codec::list(1.5),
                     codec::map({{2, "x"_a}}), codec::map({{1.5, "x"_a}})}),
            (std::vector<Term>{codec::tuple(2), codec::tuple(1.5), codec::map({{2, "x"_a}}),
                               codec::map({{1.5, "x"_a}}), codec::list(2), codec::list(1.5)}));
  // maps:keys(#{-1=>a, 18446744073709551616=>b, 0.5=>c})
  const Term big(codec::BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0, 1}});
  EXPECT_EQ(keys_of({0.5, big, -1}), (std::vector<Term>{-1, big, 0.5}));
}

TEST(ErlangEqual, NumbersByValue) {
  EXPECT_TRUE(erlang_equal(1, 1.0));
  EXPECT_TRUE(erlang_equal(codec::tuple(1, codec::list(2)), codec::tuple(1.0, codec::list(2.0))));
  EXPECT_TRUE(erlang_equal(codec::charlist("ab"), codec::list(97, 98.0)));
  EXPECT_TRUE(erlang_equal(codec::map({{"a"_a, 1}}), codec::map({{"a"_a, 1.0}})));
  EXPECT_FALSE(erlang_equal(codec::map({{1, "a"_a}}), codec::map({{1.0, "a"_a}})));
  const Term big(codec::BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0, 1}});
  EXPECT_TRUE(erlang_equal(big, 18446744073709551616.0));
  EXPECT_FALSE(erlang_equal(1, 1.5));
  EXPECT_FALSE(erlang_equal("a"_a, codec::binary("a")));
}

TEST(Add, ErlangArithmetic) {
  EXPECT_EQ(add(2, 3), Term(5));
  EXPECT_EQ(add(std::int64_t{9223372036854775807}, 1),
            Term(codec::BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0x80}}));
  EXPECT_EQ(add(std::int64_t{-9223372036854775807 - 1}, -1),
            Term(codec::BigInt{true, {1, 0, 0, 0, 0, 0, 0, 0x80}}));
  // Back into int64 range.
  EXPECT_EQ(add(Term(codec::BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0x80}}), -1),
            Term(std::int64_t{9223372036854775807}));
  EXPECT_EQ(add(1, 0.5), Term(1.5));
  EXPECT_EQ(add(Term(codec::BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0, 1}}), 0.0),
            Term(18446744073709551616.0));
  try {
    add(1, "x"_a);
    FAIL() << "expected badarith";
  } catch (const ErlangError& e) {
    EXPECT_EQ(e.reason(), Term("badarith"_a));
    EXPECT_EQ(e.frame(), codec::tuple("erlang"_a, "+"_a, codec::list(1, "x"_a), codec::list()));
  }
  EXPECT_THROW(add(1.0e308, 1.0e308), ErlangError);
}

TEST(Add, SystemLimitBeyondTheLargestInteger) {
  // The largest integer OTP 25 holds is 2^33,554,368 - 1 (codec::max_integer_bytes of 0xFF):
  // an integer of one bit more raises system_limit there (`1 bsl 33554368` does, on erts 13.1.5,
  // where `1 bsl 33554367` is fine), so `Max + 1` must too.
  const Term max(codec::BigInt{false, std::vector<std::uint8_t>(codec::max_integer_bytes, 0xFF)});
  EXPECT_EQ(add(max, -1).as<codec::BigInt>().magnitude.size(), codec::max_integer_bytes);
  try {
    add(max, 1);
    FAIL() << "expected system_limit";
  } catch (const ErlangError& e) {
    EXPECT_EQ(e.reason(), Term("system_limit"_a));
  }
}

}  // namespace
}  // namespace cppnode::servers
