// SPDX-License-Identifier: Apache-2.0
// The golden corpus made by a real OTP 25 node (tests/data/make_corpus.erl).
#include "corpus.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cppnode/codec/codec.hpp"

namespace cppnode::codec {
namespace {

using testing::corpus_of;
using testing::unhex;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Corpus, HasSeveralHundredTerms) {
  EXPECT_GE(corpus_of('T').size(), 400u);
  EXPECT_GE(corpus_of('C').size(), 50u);
  EXPECT_GE(corpus_of('B').size(), 40u);
  EXPECT_GE(corpus_of('S').size(), 10u);
  EXPECT_GE(corpus_of('Z').size(), 10u);
}

TEST(Corpus, DecodeEncodeIsByteIdentical) {
  for (const auto* r : corpus_of('T')) {
    const std::string in = unhex(r->fields.at(0));
    auto t = decode(bytes_of(in));
    ASSERT_TRUE(t.has_value()) << r->name << ": " << t.error().what();
    EXPECT_EQ(encode(*t), in) << r->name;
  }
}

TEST(Corpus, PrintsLikeTheNode) {
  for (const auto* r : corpus_of('T')) {
    if (r->fields.at(1) != "p") continue;
    auto t = decode(bytes_of(unhex(r->fields.at(0))));
    ASSERT_TRUE(t.has_value()) << r->name;
    EXPECT_EQ(to_string(*t), r->fields.at(2)) << r->name;
  }
}

TEST(Corpus, CraftedInputsDecodeToWhatTheNodeReEncodes) {
  for (const auto* r : corpus_of('C')) {
    auto t = decode(bytes_of(unhex(r->fields.at(0))));
    ASSERT_TRUE(t.has_value()) << r->name << ": " << t.error().what();
    const std::string expected = unhex(r->fields.at(1));
    EXPECT_EQ(encode(*t), expected) << r->name;
    auto again = decode(bytes_of(expected));
    ASSERT_TRUE(again.has_value()) << r->name;
    EXPECT_EQ(*again, *t) << r->name;
    if (r->fields.at(2).find('<') == std::string::npos) {
      EXPECT_EQ(to_string(*t), r->fields.at(2)) << r->name;
    }
  }
}

TEST(Corpus, CompressedTermsDecodeAndReCompressIdentically) {
  for (const auto* r : corpus_of('Z')) {
    const std::string compressed = unhex(r->fields.at(0));
    const std::string plain = unhex(r->fields.at(1));
    auto t = decode(bytes_of(compressed));
    ASSERT_TRUE(t.has_value()) << r->name << ": " << t.error().what();
    EXPECT_EQ(encode(*t), plain) << r->name;
    EXPECT_EQ(encode_compressed(*t), compressed) << r->name;
  }
}

TEST(Corpus, RejectsWhatTheNodeRejects) {
  for (const auto* r : corpus_of('B')) {
    auto t = decode(bytes_of(unhex(r->fields.at(0))));
    EXPECT_FALSE(t.has_value()) << r->name << " decoded to " << to_string(*t);
  }
}

TEST(Corpus, TermOrderMatchesListsSort) {
  for (const auto* r : corpus_of('S')) {
    auto t = decode(bytes_of(unhex(r->fields.at(0))));
    ASSERT_TRUE(t.has_value()) << r->name;
    const auto elems = t->list_elements();
    for (std::size_t i = 0; i < elems.size(); ++i) {
      for (std::size_t j = i + 1; j < elems.size(); ++j) {
        EXPECT_TRUE(erlang_compare(elems[i], elems[j]) <= 0)
            << r->name << ": " << to_string(elems[i]) << " sorted before " << to_string(elems[j]);
        EXPECT_TRUE(erlang_compare(elems[j], elems[i]) >= 0) << r->name;
      }
    }
    // The strict order agrees wherever Erlang's order is strict.
    auto sorted = elems;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < elems.size(); ++i) {
      EXPECT_TRUE(erlang_compare(sorted[i], elems[i]) == 0)
          << r->name << " at " << i << ": " << to_string(sorted[i]) << " vs "
          << to_string(elems[i]);
    }
  }
}

}  // namespace
}  // namespace cppnode::codec
