// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>

#include "cppnode/codec/term.hpp"

namespace cppnode::codec {

struct MapKeyLess {
  bool operator()(const Term& a, const Term& b) const { return std::is_lt(map_key_compare(a, b)); }
};

/// A map with Erlang's key semantics, for a server's state: keys are exact (`1` and `1.0`
/// differ), in map key order, so `to_term` gives the map `maps:keys/1` lists in the same order.
using TermMap = std::map<Term, Term, MapKeyLess>;

/// The map as an Erlang map term (entries in key order).
Term to_term(const TermMap& map);

/// `maps:get(Key, Map, Default)`: the value for `key`, or `otherwise`.
inline const Term& get_or(const TermMap& map, const Term& key, const Term& otherwise) {
  auto it = map.find(key);
  return it == map.end() ? otherwise : it->second;
}

}  // namespace cppnode::codec
