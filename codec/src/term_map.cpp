// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/term_map.hpp"

namespace cppnode::codec {

Term to_term(const TermMap& map) {
  Map m;
  m.entries.reserve(map.size());
  for (const auto& [k, v] : map) m.entries.emplace_back(k, v);
  return Term(std::move(m));
}

}  // namespace cppnode::codec
