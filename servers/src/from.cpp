// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/from.hpp"

#include <utility>

#include "cppnode/cnode/node.hpp"

namespace cppnode::servers {

using codec::Term;

void From::reply(Term reply) const& {
  if (node_ != nullptr) {
    node_->reply(server_, caller_, tag_, std::move(reply));
  }
}

void From::reply(Term reply) && {
  if (node_ != nullptr) {
    node_->reply(server_, caller_, std::move(tag_), std::move(reply));
  }
}

Term From::to_term() const { return codec::tuple(caller_, tag_); }

}  // namespace cppnode::servers
