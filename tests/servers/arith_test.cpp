// SPDX-License-Identifier: Apache-2.0
// Erlang's + (compared with what OTP 25 answers; see each case).
#include "cppnode/servers/arith.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "cppnode/codec/codec.hpp"
#include "cppnode/servers/errors.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using codec::Term;

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
