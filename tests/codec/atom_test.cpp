// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/atom.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

}  // namespace
}  // namespace cppnode::codec
