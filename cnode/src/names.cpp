// SPDX-License-Identifier: Apache-2.0
#include "names.hpp"

#include <memory>
#include <unordered_set>

#include "cppnode/cnode/detail/handshake_protocol.hpp"

namespace cppnode::cnode {

Names::Names(codec::Atom node, const std::atomic<std::uint32_t>& creation)
    : node_(node), creation_(creation), ref_salt_(detail::random_challenge()) {}

bool Names::register_name(codec::Atom name, const SlotPtr& slot) {
  std::unique_lock lock(registry_mutex_);
  // The process's exit clears `alive` before it takes this lock in `forget`: a name given
  // after that check is dropped there.
  if (!slot->alive.load() || slot->name || registry_.contains(name)) {
    return false;
  }
  registry_.emplace(name, slot);
  slot->name = name;
  return true;
}

void Names::unregister_name(codec::Atom name) {
  std::unique_lock lock(registry_mutex_);
  if (auto it = registry_.find(name); it != registry_.end()) {
    it->second->name.reset();
    registry_.erase(it);
  }
}

SlotPtr Names::whereis(codec::Atom name) const {
  std::shared_lock lock(registry_mutex_);
  auto it = registry_.find(name);
  return it == registry_.end() ? nullptr : it->second;
}

std::optional<codec::Atom> Names::name_of(const ProcessSlot& slot) const {
  std::shared_lock lock(registry_mutex_);
  return slot.name;
}

std::string Names::describe(const ProcessSlot& slot) const {
  const std::string pid = codec::to_string(codec::Term(slot.process->self()));
  const auto name = name_of(slot);
  return name ? std::string(name->name()) + " " + pid : pid;
}

codec::Reference Names::make_ref() {
  const std::uint64_t c = ref_counter_.fetch_add(1, std::memory_order_relaxed) + 1;
  codec::Reference r;
  r.node = node_;
  r.creation = creation_.load(std::memory_order_relaxed);
  r.length = 3;
  r.ids[0] = static_cast<std::uint32_t>(c & 0x3ffffU);
  r.ids[1] = static_cast<std::uint32_t>(c >> 18);
  r.ids[2] = static_cast<std::uint32_t>(c >> 50) ^ ref_salt_;
  return r;
}

codec::Reference Names::make_alias(const SlotPtr& owner) {
  auto ref = make_ref();
  if (!owner) {
    return ref;
  }
  std::lock_guard lock(alias_mutex_);
  // The exit clears `alive` before `forget` drops the aliases under this lock: checked here,
  // an alias made while the owner exits is either dropped there or never registered.
  if (!owner->alive.load()) {
    return ref;
  }
  if (!owner->aliases) {
    owner->aliases = std::make_unique<std::unordered_set<codec::Reference, RefHash>>();
  }
  owner->aliases->insert(ref);
  aliases_.emplace(ref, AliasEntry{owner->process->self(), owner.get()});
  return ref;
}

void Names::remove_alias(const codec::Reference& alias) {
  std::lock_guard lock(alias_mutex_);
  auto it = aliases_.find(alias);
  if (it == aliases_.end()) {
    return;
  }
  // The slot is alive while its aliases are registered: `forget` drops them under this lock.
  it->second.slot->aliases->erase(alias);
  aliases_.erase(it);
}

std::optional<codec::Pid> Names::alias_owner(const codec::Reference& alias) const {
  std::lock_guard lock(alias_mutex_);
  if (auto it = aliases_.find(alias); it != aliases_.end()) {
    return it->second.owner;
  }
  return std::nullopt;
}

void Names::forget(ProcessSlot& slot) {
  {
    std::unique_lock lock(registry_mutex_);
    if (slot.name) {
      registry_.erase(*slot.name);
      slot.name.reset();
    }
  }
  std::lock_guard lock(alias_mutex_);
  if (slot.aliases) {
    for (const auto& alias : *slot.aliases) {
      aliases_.erase(alias);
    }
    slot.aliases.reset();
  }
}

void Names::clear() {
  std::unique_lock lock(registry_mutex_);
  registry_.clear();
}

}  // namespace cppnode::cnode
