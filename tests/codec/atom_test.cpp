// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/atom.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cppnode/codec/codec.hpp"

namespace cppnode::codec {
namespace {

TEST(Atom, InternsByText) {
  const Atom a("hello");
  const Atom b(std::string("hel") + "lo");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.name(), "hello");
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a, Atom("world"));
}

TEST(Atom, DefaultIsTheEmptyAtom) {
  EXPECT_EQ(Atom(), Atom(""));
  EXPECT_EQ(Atom().name(), "");
}

TEST(Atom, LiteralSuffix) {
  using namespace literals;
  EXPECT_EQ("ok"_a, Atom("ok"));
}

TEST(Atom, OrdersByCodePoint) {
  EXPECT_LT(Atom("a"), Atom("b"));
  EXPECT_LT(Atom("a"), Atom("aa"));
  EXPECT_LT(Atom("Z"), Atom("a"));
  EXPECT_LT(Atom("z"), Atom("\xC3\xA9"));         // é
  EXPECT_LT(Atom("\xC3\xA9"), Atom("\xCE\xBB"));  // é < λ
  EXPECT_EQ(Atom("a") <=> Atom("a"), std::strong_ordering::equal);
}

TEST(Atom, RejectsBadText) {
  EXPECT_THROW(Atom(std::string(256, 'a')), std::invalid_argument);
  EXPECT_NO_THROW(Atom(std::string(255, 'a')));
  std::string emoji255;
  for (int i = 0; i < 255; ++i) emoji255 += "\xF0\x9F\x98\x80";
  EXPECT_NO_THROW(Atom{emoji255});
  EXPECT_THROW(Atom(emoji255 + "\xF0\x9F\x98\x80"), std::invalid_argument);
  EXPECT_THROW(Atom("\xC0\x80"), std::invalid_argument);      // overlong
  EXPECT_THROW(Atom("\xED\xA0\x80"), std::invalid_argument);  // surrogate
  EXPECT_THROW(Atom("\xCE"), std::invalid_argument);          // truncated
  EXPECT_THROW(Atom("\xFF"), std::invalid_argument);
}

// Names of up to 8 bytes are looked up by their text as one word: names that differ only in a
// trailing NUL, or in their last byte, or that share a cache slot, must stay apart.
TEST(Atom, ShortNamesStayDistinct) {
  std::vector<std::string> names = {"",
                                    std::string(1, '\0'),
                                    std::string(2, '\0'),
                                    "a",
                                    std::string("a\0", 2),
                                    "ab",
                                    "abc",
                                    "abcd",
                                    "abcde",
                                    "abcdef",
                                    "abcdefg",
                                    "abcdefgh",
                                    "abcdefgi",
                                    "abcdefghi"};
  for (int i = 0; i < 3000; ++i) names.push_back("k" + std::to_string(i));
  for (int pass = 0; pass < 2; ++pass) {  // the second pass finds them cached
    for (const auto& n : names) {
      std::string bytes = {'\x83', '\x77', static_cast<char>(n.size())};
      bytes += n;
      const auto t =
          decode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
      ASSERT_TRUE(t.has_value()) << n;
      ASSERT_EQ(t->as<Atom>().name(), n);
      ASSERT_EQ(t->as<Atom>(), Atom(n));
    }
  }
}

TEST(Atom, ThreadsSeeOneAtomPerText) {
  constexpr int threads = 4;
  constexpr int per_thread = 2000;
  std::vector<std::vector<Atom>> seen(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([t, &seen] {
      for (int i = 0; i < per_thread; ++i) {
        seen[t].emplace_back("thread_atom_" + std::to_string((i * 7 + t) % per_thread));
      }
    });
  }
  for (auto& th : pool) th.join();
  for (int i = 0; i < per_thread; ++i) {
    const Atom expected("thread_atom_" + std::to_string(i));
    for (int t = 0; t < threads; ++t) {
      for (const Atom& a : seen[t]) {
        if (a.name() == expected.name()) {
          EXPECT_EQ(a, expected);
        }
      }
    }
  }
}

// SMALL_ATOM_UTF8_EXT of `text`, as a whole term.
std::string small_atom(const std::string& text) {
  std::string s{static_cast<char>(131), static_cast<char>(119), static_cast<char>(text.size())};
  return s + text;
}

Result<Term> decode_atom(const std::string& text) { return decode(as_bytes(small_atom(text))); }

// Sets the process-wide atom limit for one test and restores it after.
class AtomLimit : public ::testing::Test {
 protected:
  void TearDown() override { set_atom_limit(default_atom_limit); }
};

TEST_F(AtomLimit, DefaultIsTheBeams) { EXPECT_EQ(atom_limit(), 1'048'576U); }

TEST_F(AtomLimit, DecodingRefusesNewAtomsAtTheLimitAndKeepsOldOnes) {
  ASSERT_TRUE(decode_atom("limit_test_old"));
  const Atom program("limit_test_program");
  set_atom_limit(atom_count() + 2);
  EXPECT_TRUE(decode_atom("limit_test_new_1"));
  EXPECT_TRUE(decode_atom("limit_test_new_2"));
  const std::size_t full = atom_count();
  auto r = decode_atom("limit_test_new_3");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::atom_table_full);
  EXPECT_EQ(r.error().offset, 1U);
  EXPECT_NE(r.error().message.find("got the new atom 'limit_test_new_3'"), std::string::npos)
      << r.error().message;
  // Latin-1 atoms (ATOM_EXT) too.
  r = decode(as_bytes(std::string("\x83\x64\x00\x03\xe9\xe9\xe9", 7)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::atom_table_full);
  EXPECT_EQ(atom_count(), full);
  // Every atom already there still decodes, from any thread.
  for (const char* old :
       {"limit_test_old", "limit_test_new_1", "limit_test_new_2", "limit_test_program", ""}) {
    EXPECT_TRUE(decode_atom(old)) << old;
    std::thread([old] { EXPECT_TRUE(decode_atom(old)) << old; }).join();
  }
  // The program's own atoms are not bound by it.
  EXPECT_EQ(Atom("limit_test_new_3").name(), "limit_test_new_3");
  EXPECT_TRUE(decode_atom("limit_test_new_3"));
  set_atom_limit(default_atom_limit);
  EXPECT_TRUE(decode_atom("limit_test_new_4"));
}

TEST_F(AtomLimit, MemoryPerAtom) {
  // What a new atom decoded from a peer costs for good: heap bytes per atom, for 100,000 atoms
  // of 12-20 characters (the table's entry, its strings and the hash map's node and bucket).
  constexpr int count = 100'000;
  std::vector<std::string> inputs;
  inputs.reserve(count);
  for (int i = 0; i < count; ++i) inputs.push_back(small_atom("mem_atom_" + std::to_string(i)));
  const std::size_t atoms_before = atom_count();
  const auto before = mallinfo2().uordblks;
  for (const auto& in : inputs) ASSERT_TRUE(decode(as_bytes(in)));
  const auto after = mallinfo2().uordblks;
  ASSERT_EQ(atom_count(), atoms_before + count);
  const double per_atom = static_cast<double>(after - before) / count;
  std::printf("[figure] heap_bytes_per_atom = %.0f bytes\n", per_atom);
  RecordProperty("heap_bytes_per_atom", static_cast<int>(per_atom));
  EXPECT_LT(per_atom, 400.0);
}

}  // namespace
}  // namespace cppnode::codec
