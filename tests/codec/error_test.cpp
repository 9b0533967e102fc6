// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/error.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace cppnode::codec {
namespace {

TEST(Error, IsAnErrorCode) {
  const std::error_code ec = errc::too_deep;
  EXPECT_EQ(ec.category().name(), std::string("cppnode.codec"));
  EXPECT_EQ(ec.message(), "terms nested deeper than the limit");
  EXPECT_EQ(ec, errc::too_deep);
  for (int e = 1; e <= static_cast<int>(errc::compressed_refused); ++e) {
    EXPECT_NE(make_error_code(static_cast<errc>(e)).message(), "unknown codec error");
  }
}

TEST(Error, WhatHasOffsetAndMessage) {
  const Error e{errc::truncated, 12, "expected 4 bytes, got 1"};
  EXPECT_EQ(e.what(), "offset 12: expected 4 bytes, got 1");
}

TEST(Result, HoldsValueOrError) {
  Result<int> ok(5);
  EXPECT_TRUE(ok);
  EXPECT_EQ(ok.value(), 5);
  EXPECT_EQ(*ok, 5);
  Result<int> bad(unexpected(Error{errc::bad_value, 3, "expected x, got y"}));
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().offset, 3u);
  try {
    (void)bad.value();
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "offset 3: expected x, got y");
  }
}

TEST(Result, TellsAValueFromAnErrorOfTheSameType) {
  auto parse = [](bool ok) -> Result<std::string, std::string> {
    if (ok) return std::string("value");
    return unexpected("expected ok, got false");
  };
  EXPECT_EQ(parse(true).value(), "value");
  const auto bad = parse(false);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), "expected ok, got false");
  EXPECT_EQ(bad.value_or("fallback"), "fallback");
  EXPECT_THROW((void)bad.value(), BadResultAccess);
}

TEST(Result, OfVoidHoldsOnlyAnError) {
  const Result<void, std::string> ok;
  EXPECT_TRUE(ok);
  EXPECT_NO_THROW(ok.value());
  const Result<void, std::string> bad = unexpected(std::string("no epmd"));
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), "no epmd");
  try {
    bad.value();
    FAIL();
  } catch (const BadResultAccess& e) {
    EXPECT_STREQ(e.what(), "no epmd");
  }
}

}  // namespace
}  // namespace cppnode::codec
