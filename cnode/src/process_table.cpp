// SPDX-License-Identifier: Apache-2.0
#include "process_table.hpp"

#include <stdexcept>

namespace cppnode::cnode {

void ProcessTable::throw_full() {
  throw std::length_error("process table full: 2^28 processes alive");
}

SlotPtr ProcessTable::find(const codec::Pid& pid) const {
  if (pid.id > 0x7fffU || pid.serial > 0x1fffU) {
    return nullptr;
  }
  const std::uint32_t key = key_of(pid);
  const Shard& s = shard(key);
  std::shared_lock lock(s.mutex);
  auto it = s.slots.find(key);
  if (it == s.slots.end() || !(it->second->process->self_ == pid)) {
    return nullptr;
  }
  return it->second;
}

void ProcessTable::erase(const codec::Pid& pid) {
  const std::uint32_t key = key_of(pid);
  Shard& s = shard(key);
  std::unique_lock lock(s.mutex);
  auto it = s.slots.find(key);
  if (it != s.slots.end() && it->second->process->self_ == pid) {
    s.slots.erase(it);
    size_.fetch_sub(1, std::memory_order_relaxed);
  }
}

std::size_t ProcessTable::size() const { return size_.load(std::memory_order_relaxed); }

std::vector<SlotPtr> ProcessTable::snapshot() const {
  std::vector<SlotPtr> out;
  out.reserve(size());
  for (const Shard& s : shards_) {
    std::shared_lock lock(s.mutex);
    for (const auto& [key, slot] : s.slots) {
      out.push_back(slot);
    }
  }
  return out;
}

}  // namespace cppnode::cnode
