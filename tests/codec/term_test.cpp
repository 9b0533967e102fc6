// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/term.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace cppnode::codec {
namespace {

using namespace literals;

TEST(Term, BuildAndMatchLikeErlang) {
  const Term put = tuple("put"_a, binary("k"), 1);
  EXPECT_EQ(to_string(put), "{put,<<\"k\">>,1}");

  const Term get = tuple("get"_a, binary("key"));
  Term key;
  EXPECT_TRUE(match(get, "get"_a, &key));
  EXPECT_EQ(key, binary("key"));
  EXPECT_FALSE(match(put, "get"_a, &key));     // wrong tag
  EXPECT_FALSE(match(get, "get"_a, &key, _));  // wrong arity
  EXPECT_FALSE(match("get"_a, "get"_a));       // not a tuple

  Binary k;
  std::int64_t v = 0;
  EXPECT_TRUE(match(put, "put"_a, &k, &v));
  EXPECT_EQ(k.bytes, "k");
  EXPECT_EQ(v, 1);
  Atom tag;
  EXPECT_TRUE(match(put, &tag, _, Term(1)));
  EXPECT_EQ(tag, "put"_a);
  EXPECT_FALSE(match(put, _, &v, _));  // a binary is not an integer
}

TEST(Term, KindsFollowErlangTermOrder) {
  EXPECT_EQ(Term(1).kind(), Kind::integer);
  EXPECT_EQ(Term(1.5).kind(), Kind::float_);
  EXPECT_EQ(Term("a"_a).kind(), Kind::atom);
  EXPECT_EQ(Term().kind(), Kind::list);
  EXPECT_EQ(charlist("ab").kind(), Kind::list);
  EXPECT_EQ(binary("ab").kind(), Kind::bitstring);
  EXPECT_EQ(map({}).kind(), Kind::map);
  EXPECT_EQ(tuple().kind(), Kind::tuple);
  EXPECT_LT(Term(1000), Term("a"_a));
  EXPECT_LT(Term("z"_a), Term(Reference{}));
  EXPECT_LT(Term(Reference{}), Term(Export{}));
  EXPECT_LT(Term(Export{}), Term(Port{}));
  EXPECT_LT(Term(Port{}), Term(Pid{}));
  EXPECT_LT(Term(Pid{}), tuple());
  EXPECT_LT(tuple(1, 2, 3), map({}));
  EXPECT_LT(map({{1, 2}}), Term());
  EXPECT_LT(Term(), list(1));
  EXPECT_LT(list(1), binary(""));
}

// Lists and tuples are vectors of Terms: their size is what decoding allocates per element.
TEST(Term, IsSixWordsOn64BitTargets) {
  if constexpr (sizeof(void*) == 8) {
    EXPECT_EQ(sizeof(Term), 48U);
  }
}

TEST(Term, FunIndexAndUniqComeFromItsBytes) {
  // fun make_corpus:'-funs/0-fun-3-'/0 from tests/data/etf_corpus.txt (fun_6).
  const std::string hex =
      "700000004F00344C0C61F38F2E2EDCE2C86179ED3649000000030000000064000B6D616B655F636F72707573610"
      "36201A260635864000D6E6F6E6F6465406E6F686F7374000000090000000000000000";
  Fun f;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    f.encoded.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  f.module = Atom("make_corpus");
  EXPECT_EQ(f.index(), 3U);
  EXPECT_EQ(f.uniq(), 27418723U);
  EXPECT_EQ(to_string(Term(f)), "#Fun<make_corpus.3.27418723>");
  f.encoded.resize(20);  // not a whole fun: nothing to read
  EXPECT_EQ(f.index(), 0U);
  EXPECT_EQ(f.uniq(), 0U);
}

TEST(Term, BoolIsAnAtom) {
  EXPECT_EQ(Term(true), Term("true"_a));
  EXPECT_TRUE(Term(false).is_atom("false"));
}

TEST(Term, IntegersNormalise) {
  EXPECT_TRUE(Term(std::uint64_t{5}).is<std::int64_t>());
  const Term big(std::numeric_limits<std::uint64_t>::max());
  ASSERT_TRUE(big.is<BigInt>());
  EXPECT_EQ(to_string(big), "18446744073709551615");
  EXPECT_EQ(Term(BigInt{true, {0, 0, 0, 0, 0, 0, 0, 0x80}}),
            Term(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(Term(BigInt{false, {5, 0, 0}}), Term(5));
  EXPECT_EQ(Term(BigInt{true, {}}), Term(0));
  EXPECT_TRUE(Term(BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0x80}}).is<BigInt>());
}

TEST(Term, NumbersCompareByValueAndThenIntegerFirst) {
  EXPECT_NE(Term(1), Term(1.0));                                                  // =:=
  EXPECT_EQ(erlang_compare(Term(1), Term(1.0)), std::weak_ordering::equivalent);  // ==
  EXPECT_LT(Term(1), Term(1.0));
  EXPECT_LT(Term(1.0), Term(2));
  EXPECT_LT(Term(0.5), Term(1));
  const Term two64(BigInt{false, {0, 0, 0, 0, 0, 0, 0, 0, 1}});
  EXPECT_EQ(erlang_compare(two64, Term(18446744073709551616.0)), std::weak_ordering::equivalent);
  EXPECT_LT(Term(18446744073709549568.0), two64);
  EXPECT_LT(Term(-1.0e300), Term(BigInt{true, {1, 2, 3, 4, 5, 6, 7, 8, 9}}));
  EXPECT_LT(Term(std::numeric_limits<std::int64_t>::max()), Term(9223372036854775808.0));
  // OTP 25: 0.0 =:= -0.0.
  EXPECT_EQ(Term(0.0), Term(-0.0));
  EXPECT_EQ(Term(0.0).hash(), Term(-0.0).hash());
}

TEST(Term, ListsCompareInErlangOrder) {
  // [1.0, 1] < [1, 2.0]: heads are == so the second elements decide.
  EXPECT_LT(list(1.0, 1), list(1, 2.0));
  EXPECT_LT(improper_list({"a"_a}, "b"_a), list("a"_a));  // b (an atom) < [] (nil)
  EXPECT_LT(improper_list({1}, 2), list(1, 2));           // 2 (a number) < [2]
  EXPECT_LT(charlist("ab"), charlist("abc"));
  EXPECT_LT(charlist("abc"), list(97, 98, 100));
}

TEST(Term, StringsAndListsOfBytesAreTheSameTerm) {
  const Term s = charlist("abc");
  const Term l = list(97, 98, 99);
  EXPECT_EQ(s, l);
  EXPECT_EQ(s.hash(), l.hash());
  EXPECT_EQ(s <=> l, std::strong_ordering::equal);
  EXPECT_EQ(charlist(""), Term());
  EXPECT_TRUE(charlist("").is_nil());
  EXPECT_EQ(s.list_elements().size(), 3u);
  EXPECT_NE(s, list(97, 98, 99.0));
}

TEST(Term, ImproperListsNormalise) {
  EXPECT_EQ(improper_list({1}, list(2, 3)), list(1, 2, 3));
  EXPECT_EQ(improper_list({1}, improper_list({2}, 3)), improper_list({1, 2}, 3));
  EXPECT_EQ(improper_list({}, "a"_a), Term("a"_a));
  EXPECT_EQ(to_string(improper_list({1, 2}, 3)), "[1,2|3]");
  EXPECT_THROW((void)improper_list({1}, 2).list_elements(), std::invalid_argument);
}

TEST(Term, BitStringsNormalise) {
  EXPECT_TRUE(Term(BitString{"ab", 8}).is<Binary>());
  const Term bits(BitString{"\xFF", 3});
  ASSERT_TRUE(bits.is<BitString>());
  EXPECT_EQ(bits.as<BitString>().bytes, "\xE0");  // unused bits cleared
  EXPECT_EQ(to_string(bits), "<<7:3>>");
  EXPECT_THROW(Term(BitString{"", 3}), std::invalid_argument);
  EXPECT_THROW(Term(BitString{"a", 0}), std::invalid_argument);
  EXPECT_LT(binary("\x01"), Term(BitString{"\x20", 3}));  // bit by bit: 000... < 001
}

TEST(Term, MapsIgnoreEntryOrder) {
  const Term a = map({{"a"_a, 1}, {"b"_a, 2}});
  const Term b = map({{"b"_a, 2}, {"a"_a, 1}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(to_string(b), "#{a => 1,b => 2}");
  EXPECT_NE(a, map({{"a"_a, 1}}));
  ASSERT_NE(a.as<Map>().find("b"_a), nullptr);
  EXPECT_EQ(*a.as<Map>().find("b"_a), Term(2));
  EXPECT_EQ(a.as<Map>().find("c"_a), nullptr);
  // Later keys win, as in #{k => 1, k => 2}.
  EXPECT_EQ(map({{1, 1}, {1, 2}}), map({{1, 2}}));
  // Map keys: integers before floats.
  EXPECT_EQ(to_string(map({{1.0, "a"_a}, {2, "b"_a}, {1, "c"_a}})), "#{1 => c,2 => b,1.0 => a}");
}

TEST(Term, AsNamesExpectedAndActualKind) {
  try {
    (void)Term(1).as<Tuple>();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "expected tuple, got integer");
  }
  EXPECT_NO_THROW((void)Term(1).as<std::int64_t>());
  EXPECT_EQ(Term(1).get_if<double>(), nullptr);
}

TEST(Term, HashAgreesWithEquality) {
  std::unordered_set<Term> set;
  set.insert(tuple(1, "a"_a));
  set.insert(charlist("xy"));
  EXPECT_TRUE(set.contains(tuple(1, "a"_a)));
  EXPECT_TRUE(set.contains(list(120, 121)));
  EXPECT_FALSE(set.contains(tuple(1.0, "a"_a)));
}

TEST(Term, PrintsIdentifiersWithTheNodeName) {
  const Term pid(Pid{"cpp@host"_a, 42, 1, 3});
  EXPECT_EQ(to_string(pid), "<cpp@host.42.1>");
  Reference r{"a@b"_a, 1, 3, {1, 2, 3, 0, 0}};
  EXPECT_EQ(to_string(Term(r)), "#Ref<a@b.3.2.1>");
  EXPECT_EQ(to_string(Term(Port{"a@b"_a, 7, 1})), "#Port<a@b.7>");
  EXPECT_EQ(to_string(Term(Export{"lists"_a, "map"_a, 2})), "fun lists:map/2");
  std::ostringstream os;
  os << tuple("ok"_a, charlist("hi"), 1.5, "Quoted atom"_a);
  EXPECT_EQ(os.str(), "{ok,\"hi\",1.5,'Quoted atom'}");
}

TEST(Term, PrintsFloatsLikeErlang) {
  EXPECT_EQ(to_string(Term(1.0)), "1.0");
  EXPECT_EQ(to_string(Term(0.1)), "0.1");
  EXPECT_EQ(to_string(Term(1.0e308)), "1.0e308");
  EXPECT_EQ(to_string(Term(-0.0)), "-0.0");
  EXPECT_EQ(to_string(Term(5.0e-324)), "5.0e-324");
  EXPECT_EQ(to_string(Term(100.0)), "100.0");
  EXPECT_EQ(to_string(Term(1000.0)), "1.0e3");
  EXPECT_EQ(to_string(Term(0.0001)), "0.0001");
  EXPECT_EQ(to_string(Term(1.23e-4)), "1.23e-4");
}

}  // namespace
}  // namespace cppnode::codec
