// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/errors.hpp"

#include <utility>

namespace cppnode::servers {

ErlangError::ErlangError(codec::Term reason, codec::Term frame)
    : std::runtime_error("erlang error: " + codec::to_string(reason)),
      reason_(std::move(reason)),
      frame_(std::move(frame)) {}

ExitError::ExitError(codec::Term reason)
    : std::runtime_error("exit: " + codec::to_string(reason)), reason_(std::move(reason)) {}

}  // namespace cppnode::servers
