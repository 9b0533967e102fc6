// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <compare>
#include <vector>

#include "cppnode/codec/term.hpp"

namespace cppnode::codec::detail {

/// How numbers of different types compare.
enum class NumberOrder : unsigned char {
  erlang,  // by value, `1 == 1.0` (Erlang's `<` and `==`)
  exact,   // every integer before every float (map key order, `=:=`)
};

/// Compares in Erlang term order with numbers ordered by `order`.
std::strong_ordering compare(const Term& a, const Term& b, NumberOrder order);

/// The entries of `m` sorted by key in map key order (how Erlang orders map keys).
std::vector<const std::pair<Term, Term>*> sorted_entries(const Map& m);

}  // namespace cppnode::codec::detail
