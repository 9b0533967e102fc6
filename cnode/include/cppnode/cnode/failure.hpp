// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <system_error>
#include <utility>

#include "cppnode/codec/result.hpp"

namespace cppnode::cnode {

/// Why a node could not be configured or started: a code to branch on (std::errc, errno, asio)
/// and a message for a person, naming what failed. Not codec::Error, whose byte offset into an
/// input means nothing here.
struct Failure {
  std::error_code code;
  std::string message;
};

/// `return failed(code, "...");` in a function returning codec::Result<T, Failure>.
inline codec::Unexpected<Failure> failed(std::error_code code, std::string message) {
  return codec::unexpected(Failure{code, std::move(message)});
}

}  // namespace cppnode::cnode
