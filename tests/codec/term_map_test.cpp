// SPDX-License-Identifier: Apache-2.0
// Erlang's map key order and == (compared with what OTP 25 answers; see each case).
#include "cppnode/codec/term_map.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "cppnode/codec/codec.hpp"

namespace cppnode::codec {
namespace {

using namespace literals;

std::vector<Term> keys_of(std::initializer_list<Term> keys) {
  TermMap m;
  for (const auto& k : keys) m.emplace(k, k);
  std::vector<Term> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

TEST(MapKeyOrder, IntegersBeforeFloatsAsOtp25) {
  // maps:keys(#{2=>a, 1.5=>b, 1=>c, 1.0=>d, foo=>e, <<"x">>=>f, "s"=>g, {1}=>h, []=>i})
  EXPECT_EQ(
      keys_of({2, 1.5, 1, 1.0, "foo"_a, binary("x"), charlist("s"), tuple(1), list()}),
      (std::vector<Term>{1, 2, 1.0, 1.5, "foo"_a, tuple(1), list(), charlist("s"), binary("x")}));
  // maps:keys(#{{2}=>a, {1.5}=>b, [2]=>c, [1.5]=>d, #{2=>x}=>e, #{1.5=>x}=>f})
  EXPECT_EQ(
      keys_of({tuple(2), tuple(1.5), list(2), list(1.5), map({{2, "x"_a}}), map({{1.5, "x"_a}})}),
      (std::vector<Term>{tuple(2), tuple(1.5), map({{2, "x"_a}}), map({{1.5, "x"_a}}), list(2),
                         list(1.5)}));
  // maps:keys(#{-1=>a, 18446744073709551616=>b, 0.5=>c})
  const Term big(BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0, 1}});
  EXPECT_EQ(keys_of({0.5, big, -1}), (std::vector<Term>{-1, big, 0.5}));
}

TEST(ErlangEqual, NumbersByValue) {
  EXPECT_TRUE(erlang_equal(1, 1.0));
  EXPECT_TRUE(erlang_equal(tuple(1, list(2)), tuple(1.0, list(2.0))));
  EXPECT_TRUE(erlang_equal(charlist("ab"), list(97, 98.0)));
  EXPECT_TRUE(erlang_equal(map({{"a"_a, 1}}), map({{"a"_a, 1.0}})));
  EXPECT_FALSE(erlang_equal(map({{1, "a"_a}}), map({{1.0, "a"_a}})));
  const Term big(BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0, 1}});
  EXPECT_TRUE(erlang_equal(big, 18446744073709551616.0));
  EXPECT_FALSE(erlang_equal(1, 1.5));
  EXPECT_FALSE(erlang_equal("a"_a, binary("a")));
}

}  // namespace
}  // namespace cppnode::codec
