// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "cppnode/codec/result.hpp"

namespace cppnode::cnode {

/// Whether a parse failed with a message containing `text`; on failure, says what came instead.
template <class T>
::testing::AssertionResult fails_with(const codec::Result<T, std::string>& parsed,
                                      std::string_view text) {
  if (parsed) return ::testing::AssertionFailure() << "parsed, expected an error naming " << text;
  if (parsed.error().find(text) == std::string::npos) {
    return ::testing::AssertionFailure() << "the error \"" << parsed.error() << "\" lacks " << text;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace cppnode::cnode
