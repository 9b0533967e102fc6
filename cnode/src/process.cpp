// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/process.hpp"

#include <stdexcept>

#include "cppnode/cnode/node.hpp"

namespace cppnode::cnode {

Process::Process(Node& node) : node_(node), strand_(node.io().get_executor()) {}

void Process::set_mailbox_limit(std::optional<MailboxLimit> limit) {
  if (!limit) {
    max_queued_.store(0);
    return;
  }
  if (limit->max_queued == 0) {
    throw std::invalid_argument("Process::set_mailbox_limit: expected max_queued >= 1, got 0");
  }
  overflow_policy_.store(limit->policy);
  max_queued_.store(limit->max_queued);
}

// The node keeps the running state in its process table: a process object holds none of it.
bool Process::alive() const { return node_.find(self_) != nullptr; }

std::size_t Process::queued() const {
  const auto info = node_.process_info(self_);
  return info ? info->queued : 0;
}

std::uint64_t Process::dropped() const {
  const auto info = node_.process_info(self_);
  return info ? info->dropped : 0;
}

}  // namespace cppnode::cnode
