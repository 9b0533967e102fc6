// SPDX-License-Identifier: Apache-2.0
// Small steps on a process's link and monitor tables (SignalEntries), shared by the link
// protocol and the handling of incoming control messages. On the process's strand.
#pragma once

#include <atomic>
#include <memory>

#include "process_table.hpp"

namespace cppnode::cnode {

/// The reason a link or monitor fires with when its process does not exist.
inline const codec::Term& noproc() {
  using namespace codec::literals;
  static const codec::Term reason{"noproc"_a};
  return reason;
}
/// The reason a link or monitor fires with when the connection it crossed went down.
inline const codec::Term& noconnection() {
  using namespace codec::literals;
  static const codec::Term reason{"noconnection"_a};
  return reason;
}

inline void count_remote(ProcessSlot& slot, const std::shared_ptr<Peer>& peer, int delta) {
  if (!peer) {
    return;
  }
  if (delta > 0) {
    slot.remote_entries.fetch_add(1, std::memory_order_seq_cst);
  } else {
    slot.remote_entries.fetch_sub(1, std::memory_order_relaxed);
  }
}

inline LinkInfo* find_link(ProcessSlot& slot, const codec::Pid& pid) {
  if (!slot.signals) {
    return nullptr;
  }
  auto it = slot.signals->links.find(pid);
  return it == slot.signals->links.end() ? nullptr : &it->second;
}

// Gives back the tables of a process whose links and monitors are all gone once they have grown:
// a burst of 100,000 monitors should not pin its buckets for the process's life, while a server
// monitored by one caller at a time keeps its small tables instead of remaking them per call.
inline void release_if_empty(ProcessSlot& slot) {
  constexpr std::size_t small_tables = 64;  // buckets, over the three tables
  const auto& t = slot.signals;
  if (t && t->empty() &&
      t->links.bucket_count() + t->monitors.bucket_count() + t->watchers.bucket_count() >
          small_tables) {
    slot.signals.reset();
  }
}

inline void erase_link(ProcessSlot& slot, const codec::Pid& pid) {
  slot.signals->links.erase(pid);
  release_if_empty(slot);
}

}  // namespace cppnode::cnode
