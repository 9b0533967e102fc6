// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdexcept>
#include <utility>

#include "cppnode/codec/term.hpp"

namespace cppnode::servers {

/// `erlang:error(Reason)` for C++ callbacks: thrown out of a callback, it ends the server with
/// `{Reason, [Frame..., {Module, Callback, Arity, []}]}`, the shape a crashed Erlang callback
/// leaves. `frame` (if not nil) names where it happened, e.g. `{erlang, '+', [A, B], []}`.
class ErlangError : public std::runtime_error {
 public:
  explicit ErlangError(codec::Term reason, codec::Term frame = {});
  [[nodiscard]] const codec::Term& reason() const noexcept { return reason_; }
  [[nodiscard]] const codec::Term& frame() const noexcept { return frame_; }

 private:
  codec::Term reason_;
  codec::Term frame_;
};

/// `exit(Reason)` for C++ callbacks: thrown out of a callback, it ends the server with exactly
/// `reason` (terminate runs first, as for `{stop, Reason, State}`).
class ExitError : public std::runtime_error {
 public:
  explicit ExitError(codec::Term reason);
  [[nodiscard]] const codec::Term& reason() const noexcept { return reason_; }

 private:
  codec::Term reason_;
};

}  // namespace cppnode::servers
