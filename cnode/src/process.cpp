// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/process.hpp"

#include "cppnode/cnode/node.hpp"

namespace cppnode::cnode {

Process::Process(Node& node) : node_(node), strand_(node.io().get_executor()) {}

}  // namespace cppnode::cnode
