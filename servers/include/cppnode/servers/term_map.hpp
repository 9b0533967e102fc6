// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <compare>
#include <map>

#include "cppnode/codec/term.hpp"

namespace cppnode::servers {

/// Erlang's map key order (OTP 25): the standard term order, except that every integer sorts
/// before every float, also inside tuples, lists and maps (so `1 < 2 < 1.0 < 1.5`). This is
/// the order of `maps:keys/1` and `Map.keys/1` for maps of up to 32 keys; larger maps list
/// their keys in the runtime's internal hash order instead, which this does not reproduce.
std::strong_ordering map_key_compare(const codec::Term& a, const codec::Term& b);

struct MapKeyLess {
  bool operator()(const codec::Term& a, const codec::Term& b) const {
    return std::is_lt(map_key_compare(a, b));
  }
};

/// A map with Erlang's key semantics: keys are exact (`1` and `1.0` differ), in map key order.
using TermMap = std::map<codec::Term, codec::Term, MapKeyLess>;

/// The map as an Erlang map term (entries in key order).
codec::Term to_term(const TermMap& map);

/// `maps:get(Key, Map, Default)`: the value for `key`, or `otherwise`.
inline const codec::Term& get_or(const TermMap& map, const codec::Term& key,
                                 const codec::Term& otherwise) {
  auto it = map.find(key);
  return it == map.end() ? otherwise : it->second;
}

/// Erlang's `==`: like `=:=` except that numbers compare by value (`1 == 1.0`), also inside
/// tuples, lists and map values (map keys still match exactly).
bool erlang_equal(const codec::Term& a, const codec::Term& b);

}  // namespace cppnode::servers
