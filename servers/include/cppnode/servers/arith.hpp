// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cppnode/codec/term.hpp"

namespace cppnode::servers {

/// Erlang's `A + B`: integers stay exact (growing into big integers), a float on either side
/// gives a float. Anything that is not a number, or a float result that overflows, throws
/// `ErlangError(badarith)` with the frame `{erlang, '+', [A, B], []}`, as the BEAM does.
codec::Term add(const codec::Term& a, const codec::Term& b);

}  // namespace cppnode::servers
