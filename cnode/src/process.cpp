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

std::optional<MailboxLimit> Process::mailbox_limit() const noexcept {
  const std::size_t max = max_queued_.load();
  if (max == 0) {
    return std::nullopt;
  }
  return MailboxLimit{max, overflow_policy_.load()};
}

}  // namespace cppnode::cnode
