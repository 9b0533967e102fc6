// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/from.hpp"

#include <utility>

#include "cppnode/cnode/node.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Term;

namespace {

// The reference of an OTP 24+ tag `[alias | Ref]`, or null.
const codec::Reference* alias_of(const Term& tag) {
  const auto* l = tag.get_if<codec::List>();
  if (l == nullptr || l->proper || l->elements.size() != 2) return nullptr;
  const auto* a = l->elements[0].get_if<codec::Atom>();
  if (a == nullptr || *a != "alias"_a) return nullptr;
  return l->elements[1].get_if<codec::Reference>();
}

}  // namespace

void From::reply(Term reply) const& {
  if (node_ == nullptr) return;
  Term message = codec::tuple(tag_, std::move(reply));
  if (const codec::Reference* alias = alias_of(tag_)) {
    node_->send_alias(server_, *alias, caller_, std::move(message));
  } else {
    node_->send(server_, caller_, std::move(message));
  }
}

void From::reply(Term reply) && {
  if (node_ == nullptr) return;
  const codec::Reference* alias = alias_of(tag_);
  const codec::Reference ref = alias != nullptr ? *alias : codec::Reference{};
  Term message = codec::tuple(std::move(tag_), std::move(reply));
  if (alias != nullptr) {
    node_->send_alias(server_, ref, caller_, std::move(message));
  } else {
    node_->send(server_, caller_, std::move(message));
  }
}

Term From::to_term() const { return codec::tuple(caller_, tag_); }

}  // namespace cppnode::servers
