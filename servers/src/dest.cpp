// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/dest.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Term;

std::optional<Dest> Dest::from_term(const Term& t) {
  if (const auto* pid = t.get_if<codec::Pid>()) return Dest(*pid);
  if (const auto* name = t.get_if<codec::Atom>()) return Dest(*name);
  const auto* tuple = t.get_if<codec::Tuple>();
  if (tuple == nullptr || tuple->elements.size() != 2) return std::nullopt;
  const auto* first = tuple->elements[0].get_if<codec::Atom>();
  if (first == nullptr) return std::nullopt;
  if (*first == "global"_a) return global(tuple->elements[1]);
  if (const auto* node = tuple->elements[1].get_if<codec::Atom>()) return remote(*first, *node);
  return std::nullopt;
}

Term Dest::to_term() const {
  switch (kind_) {
    case Kind::pid:
      return pid_;
    case Kind::name:
      return node_ ? codec::tuple(name_, *node_) : Term(name_);
    case Kind::global:
      break;
  }
  return codec::tuple("global"_a, global_);
}

}  // namespace cppnode::servers
