// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "cppnode/codec/term.hpp"
#include "process_table.hpp"

namespace cppnode::cnode {

struct AtomHash {
  std::size_t operator()(codec::Atom a) const noexcept { return a.hash(); }
};

/// What reaches a local process other than its pid: registered names, aliases, and the
/// references they are made of. Thread-safe; a process's names and aliases go with it
/// (`forget`), so that neither ever reaches a dead process.
class Names {
 public:
  /// References are made for `node`, with the creation the node has when each is made.
  Names(codec::Atom node, const std::atomic<std::uint32_t>& creation);

  /// Registers `name` for `slot`; false if the name is taken, the process has a name already
  /// or has exited (erlang:register/2's badarg cases).
  bool register_name(codec::Atom name, const SlotPtr& slot);
  void unregister_name(codec::Atom name);
  /// The process registered as `name`, or null.
  [[nodiscard]] SlotPtr whereis(codec::Atom name) const;
  /// The registered name (if any) and pid, for logs.
  [[nodiscard]] std::string describe(const ProcessSlot& slot) const;
  /// The registered name of `slot`, read under the registry lock.
  [[nodiscard]] std::optional<codec::Atom> name_of(const ProcessSlot& slot) const;

  /// A reference unique on this node (and, with the random salt, across its restarts).
  codec::Reference make_ref();
  /// A new alias of `owner` (null: the owner is gone, and the alias reaches nobody, as it
  /// would in ERTS).
  codec::Reference make_alias(const SlotPtr& owner);
  void remove_alias(const codec::Reference& alias);
  /// Who an alias of this node reaches: its owner while it lives, else nobody.
  [[nodiscard]] std::optional<codec::Pid> alias_owner(const codec::Reference& alias) const;

  /// Drops the name and the aliases of `slot`, which has exited.
  void forget(ProcessSlot& slot);
  /// Drops every name (at the node's end, to break slot → process → slot cycles).
  void clear();

 private:
  codec::Atom node_;
  const std::atomic<std::uint32_t>& creation_;
  std::uint32_t ref_salt_;
  std::atomic<std::uint64_t> ref_counter_{0};

  mutable std::shared_mutex registry_mutex_;
  std::unordered_map<codec::Atom, SlotPtr, AtomHash> registry_;

  struct AliasEntry {
    codec::Pid owner;
    ProcessSlot* slot;  // registered only while the owner lives (forget drops its aliases)
  };
  mutable std::mutex alias_mutex_;
  std::unordered_map<codec::Reference, AliasEntry, RefHash> aliases_;
};

}  // namespace cppnode::cnode
