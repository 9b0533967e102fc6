// SPDX-License-Identifier: Apache-2.0
// Property tests: random terms round-trip; damaged corpus inputs give errors, never crashes.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "corpus.hpp"
#include "cppnode/codec/codec.hpp"

namespace cppnode::codec {
namespace {

using testing::corpus;
using testing::unhex;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  Term term(int depth) {
    const int kinds = depth > 4 ? 13 : 17;
    switch (pick(kinds)) {
      case 0:
        return Term(static_cast<std::int64_t>(pick(300)) - 20);
      case 1:
        return Term(static_cast<std::int64_t>(rng_()));
      case 2:
        return big();
      case 3:
        return Term(real());
      case 4:
        return Term(atom());
      case 5:
        return binary(bytes(pick(3) == 0 ? 200 : 12));
      case 6:
        return Term(BitString{bytes(1 + pick(5)), static_cast<std::uint8_t>(1 + pick(7))});
      case 7:
        return Term(Pid{atom(), u32(), u32(), u32()});
      case 8:
        return Term(Port{atom(), pick(2) == 0 ? u32() : rng_(), u32()});
      case 9: {
        Reference r{atom(), u32(), static_cast<std::uint8_t>(pick(6)), {}};
        for (auto& id : r.ids) id = u32();
        return Term(r);
      }
      case 10:
        return Term(Export{atom(), atom(), static_cast<std::uint8_t>(pick(256))});
      case 11:
        return charlist(bytes(pick(40)));
      case 12:
        return Term();
      case 13: {
        Tuple t;
        const int n = depth == 0 && pick(8) == 0 ? 300 : pick(5);
        for (int i = 0; i < n; ++i) t.elements.push_back(term(depth + 1));
        return Term(std::move(t));
      }
      case 14: {
        std::vector<Term> v;
        const int n = pick(6);
        for (int i = 0; i < n; ++i) v.push_back(pick(3) == 0 ? Term(pick(256)) : term(depth + 1));
        if (pick(4) == 0) return improper_list(std::move(v), term(depth + 1));
        return list_of(std::move(v));
      }
      case 15:
      case 16: {
        Map m;
        const int n = depth == 0 && pick(6) == 0 ? 40 : pick(6);
        for (int i = 0; i < n; ++i) {
          Term k = term(depth + 1);
          if (m.find(k) == nullptr) m.entries.emplace_back(std::move(k), term(depth + 1));
        }
        return Term(std::move(m));
      }
      default:
        return Term();
    }
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(rng_()); }
  Term big() {
    BigInt b;
    b.negative = pick(2) == 0;
    const int n = 9 + pick(pick(10) == 0 ? 300 : 20);
    for (int i = 0; i < n; ++i) b.magnitude.push_back(static_cast<std::uint8_t>(rng_()));
    b.magnitude.back() |= 1;
    return Term(std::move(b));
  }
  double real() {
    for (;;) {
      const double d = std::bit_cast<double>(rng_());
      if (std::isfinite(d)) return pick(3) == 0 ? static_cast<double>(pick(1000)) / 8 : d;
    }
  }
  Atom atom() {
    static const char* const names[] = {
        "",         "a",          "ok",  "hello world",      "\xC3\xA9t\xC3\xA9",
        "\xCE\xBB", "Elixir.Foo", "a@b", "x\xF0\x9F\x98\x80"};
    if (pick(4) == 0) return Atom("atom" + std::to_string(pick(1000)));
    return Atom(names[pick(9)]);
  }
  std::string bytes(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(rng_()));
    return s;
  }

  std::mt19937_64 rng_;
};

TEST(Property, RandomTermsRoundTrip) {
  Generator gen(20241123);
  for (int i = 0; i < 3000; ++i) {
    const Term t = gen.term(0);
    const std::string enc = encode(t);
    auto back = decode(bytes_of(enc));
    ASSERT_TRUE(back) << to_string(t) << ": " << back.error().what();
    ASSERT_EQ(*back, t) << to_string(t);
    EXPECT_EQ(back->hash(), t.hash()) << to_string(t);
    EXPECT_EQ(*back <=> t, std::strong_ordering::equal) << to_string(t);
    EXPECT_EQ(encode(*back), enc) << to_string(t);
    auto z = decode(bytes_of(encode_compressed(t)));
    ASSERT_TRUE(z) << to_string(t);
    EXPECT_EQ(*z, t);
  }
}

TEST(Property, OrderIsATotalOrderConsistentWithEquality) {
  Generator gen(7);
  std::vector<Term> terms;
  for (int i = 0; i < 150; ++i) terms.push_back(gen.term(3));
  for (const auto& a : terms) {
    for (const auto& b : terms) {
      const auto ab = a <=> b;
      EXPECT_EQ(ab, 0 <=> (b <=> a));
      EXPECT_EQ(ab == 0, a == b);
      if (erlang_compare(a, b) != 0) {
        EXPECT_EQ(ab < 0, erlang_compare(a, b) < 0);
      }
      for (int k = 0; k < 3; ++k) {
        const auto& c =
            terms[static_cast<std::size_t>(k * 31 + (&a - terms.data())) % terms.size()];
        if (ab < 0 && (b <=> c) < 0) {
          EXPECT_LT(a, c);
        }
      }
    }
  }
}

// The inputs of the corpus (all but the sorted lists).
std::vector<std::string> corpus_inputs() {
  std::vector<std::string> v;
  for (const auto& r : corpus()) {
    if (r.kind == 'S') continue;
    v.push_back(unhex(r.fields.at(0)));
  }
  return v;
}

// Decoding must end in a value or an error, and what decodes must re-encode and decode alike.
void check_no_crash(const std::string& in) {
  auto t = decode(bytes_of(in));
  if (!t) {
    EXPECT_LE(t.error().offset, in.size() * 1100 + 64);  // inside the input or its inflated data
    EXPECT_FALSE(t.error().message.empty());
    return;
  }
  auto again = decode(bytes_of(encode(*t)));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *t);
}

TEST(Property, EveryTruncationIsAnError) {
  std::size_t checked = 0;
  for (const auto& r : corpus()) {
    if (r.kind == 'S' || r.kind == 'B') continue;  // B inputs are bad already
    const std::string in = unhex(r.fields.at(0));
    // Every prefix of inputs up to 8 KiB; for larger ones the first and last 512 prefixes and
    // 2000 spread between (all of them would be quadratic in the input).
    const std::size_t n = in.size();
    const std::size_t step = n <= 8192 ? 1 : n / 2000;
    for (std::size_t len = 0; len < n; ++len) {
      if (n > 8192 && len > 512 && len + 512 < n && len % step != 0) continue;
      auto t = decode(bytes_of(in.substr(0, len)));
      ASSERT_FALSE(t) << r.name << " cut to " << len << " bytes decoded to " << to_string(*t);
      EXPECT_FALSE(t.error().message.empty());
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000u);
}

TEST(Property, RandomDamageNeverCrashes) {
  std::mt19937_64 rng(99);
  for (const std::string& in : corpus_inputs()) {
    if (in.empty()) continue;
    const int rounds = in.size() > 8192 ? 5 : 200;
    for (int i = 0; i < rounds; ++i) {
      std::string damaged = in;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        const std::size_t at = rng() % damaged.size();
        switch (rng() % 4) {
          case 0:
            damaged[at] = static_cast<char>(rng());
            break;
          case 1:
            damaged[at] = static_cast<char>(damaged[at] ^ (1 << (rng() % 8)));
            break;
          case 2:
            damaged.insert(at, 1, static_cast<char>(rng()));
            break;
          default:
            damaged.erase(at, 1);
            break;
        }
        if (damaged.empty()) damaged.push_back('\x83');
      }
      check_no_crash(damaged);
    }
  }
}

}  // namespace
}  // namespace cppnode::codec
