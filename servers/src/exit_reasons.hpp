// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <exception>
#include <vector>

#include "cppnode/codec/term.hpp"

namespace cppnode::servers::detail {

/// `{function_clause, [{Module, Function, Args, []}]}`.
codec::Term function_clause_reason(codec::Atom module, codec::Atom function,
                                   std::vector<codec::Term> args);

/// The exit reason for an exception escaping `module:function` called with `args` (the state
/// included): see GenServer's documentation for the shapes.
codec::Term exception_reason(const std::exception_ptr& e, codec::Atom module, codec::Atom function,
                             std::vector<codec::Term> args);

/// Whether `reason` is a normal end that is not logged as an error and does not make a
/// transient child restart: `normal`, `shutdown` or `{shutdown, _}`.
bool is_normal_exit(const codec::Term& reason);

}  // namespace cppnode::servers::detail
