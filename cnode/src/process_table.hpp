// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cppnode/cnode/process.hpp"
#include "cppnode/codec/term.hpp"

namespace cppnode::cnode {

class Peer;

struct PidHash {
  std::size_t operator()(const codec::Pid& p) const noexcept {
    return p.node.hash() ^ ((std::size_t{p.id} << 32 | p.serial) * 0x9e3779b97f4a7c15U) ^
           p.creation;
  }
};
struct RefHash {
  std::size_t operator()(const codec::Reference& r) const noexcept {
    std::size_t h = r.node.hash() ^ r.creation;
    for (std::size_t i = 0; i < r.length; ++i) {
      h = h * 1000003U ^ r.ids[i];
    }
    return h;
  }
};

/// A link as the process-local link protocol of the ERTS "Distribution Protocol" describes it.
struct LinkInfo {
  codec::Pid pid;
  bool active = true;
  std::uint64_t unlink_id = 0;
  std::shared_ptr<Peer> peer;  // the connection it crosses; null for a local link
};

/// A monitor this process holds.
struct HeldMonitor {
  codec::Reference ref;
  codec::Term object;  // what the DOWN reports: the Pid, or {Name, Node}
  codec::Term target;  // what DEMONITOR_P names: the Pid or the name atom
  std::optional<codec::Pid> local_target;
  std::shared_ptr<Peer> peer;
};

/// A monitor some process holds on this one.
struct Watcher {
  codec::Reference ref;
  codec::Pid watcher;
  codec::Term from_proc;  // MONITOR_P_EXIT names the Pid, or the name it was monitored by
  std::shared_ptr<Peer> peer;
  /// Not a monitor the peer asked for: a call in progress from a peer that does not monitor
  /// across the connection (NodeConfig::remote_monitors). Its DOWN goes to the call's alias
  /// (`ref`) as a message, and the reply ends it.
  bool call = false;
};

/// A process that sent to a busy connection: it handles no signal until the connection drains
/// (or goes), and what reaches it meanwhile waits here in order. Allocated only while needed.
struct Suspension {
  std::shared_ptr<Peer> busy_peer;  // met during the current callback
  bool suspended = false;
  std::deque<Signal> parked;
};

/// A process's links and monitors, keyed so that each signal finds its entry in O(1): a process
/// may hold hundreds of thousands (every caller of a server monitors it).
struct SignalEntries {
  std::unordered_map<codec::Pid, LinkInfo, PidHash> links;              // by the linked pid
  std::unordered_map<codec::Reference, HeldMonitor, RefHash> monitors;  // by reference
  std::unordered_map<codec::Reference, Watcher, RefHash> watchers;      // by reference
  [[nodiscard]] bool empty() const noexcept {
    return links.empty() && monitors.empty() && watchers.empty();
  }
};

/// The node's record of one process. `signals` is touched only on the process's strand;
/// `name` only under the registry lock, `aliases` only under the alias lock.
struct ProcessSlot {
  explicit ProcessSlot(std::shared_ptr<Process> p) : process(std::move(p)) {}
  std::shared_ptr<Process> process;
  /// False once the process has exited; later signals are dropped.
  std::atomic<bool> alive{true};
  /// The last callback ran long: the next signals from a connection do not run on the
  /// reader's thread.
  std::atomic<bool> slow{false};
  /// Messages posted to the strand and not yet handled: the mailbox length.
  std::atomic<std::size_t> queued{0};
  /// Messages its mailbox bound refused.
  std::atomic<std::uint64_t> dropped{0};
  enum class Overflow : std::uint8_t {
    none,
    dropping,  // since the mailbox filled (warned once); back to none when it empties
    exiting,   // on overflow: the messages still queued are skipped
  };
  std::atomic<Overflow> overflow{Overflow::none};
  /// Null until the process first links or monitors or is monitored: most processes never do,
  /// and an idle process should cost a pointer for them, not three tables.
  std::unique_ptr<SignalEntries> signals;
  /// The aliases this process made (null if none), so that its exit drops them without a scan
  /// of every alias on the node.
  std::unique_ptr<std::unordered_set<codec::Reference, RefHash>> aliases;
  std::optional<codec::Atom> name;
  std::unique_ptr<Suspension> suspension;  // strand-only
  /// Links and monitors that cross a connection, so a nodedown scan can skip this process.
  std::atomic<std::uint32_t> remote_entries{0};
  std::uint64_t next_unlink_id = 1;
};
using SlotPtr = std::shared_ptr<ProcessSlot>;

/// The slot's link and monitor tables, made on first use; on the process's strand.
inline SignalEntries& signals_of(ProcessSlot& slot) {
  if (!slot.signals) {
    slot.signals = std::make_unique<SignalEntries>();
  }
  return *slot.signals;
}

/// The local process table: pid → slot, sharded so lookups from many threads rarely contend.
/// Pids use 15-bit ids and 13-bit serials like erl_interface, which every peer accepts.
/// Also the one place that calls Process's callbacks and sets its pid (it is Process's friend).
class ProcessTable {
 public:
  /// Allocates a pid for `node`/`creation`, inserts the slot and returns it. `before_visible`
  /// runs with the pid set, before any other thread can find the slot.
  template <class F>
  SlotPtr insert(std::shared_ptr<Process> process, codec::Atom node, std::uint32_t creation,
                 F&& before_visible);
  /// The slot of a live local process with exactly this pid, or null.
  [[nodiscard]] SlotPtr find(const codec::Pid& pid) const;
  void erase(const codec::Pid& pid);
  [[nodiscard]] std::size_t size() const;
  /// All slots (a snapshot).
  [[nodiscard]] std::vector<SlotPtr> snapshot() const;

  // The process callbacks, which only the node calls.
  static void start(Process& p) { p.on_start(); }
  static void signal(Process& p, Signal s) { p.on_signal(std::move(s)); }
  static void exited(Process& p, const codec::Term& reason) { p.on_exit(reason); }

 private:
  static constexpr std::size_t shard_count = 32;
  static constexpr std::uint32_t pid_space = 1U << 28;  // 15-bit id + 13-bit serial
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::uint32_t, SlotPtr> slots;
  };
  static std::uint32_t key_of(const codec::Pid& pid) noexcept {
    return (pid.id & 0x7fffU) | ((pid.serial & 0x1fffU) << 15);
  }
  Shard& shard(std::uint32_t key) const noexcept { return shards_[key % shard_count]; }

  static void set_self(Process& p, const codec::Pid& pid) noexcept { p.self_ = pid; }
  [[noreturn]] static void throw_full();

  mutable std::array<Shard, shard_count> shards_;
  std::atomic<std::uint32_t> next_{1};
  std::atomic<std::size_t> size_{0};
};

template <class F>
SlotPtr ProcessTable::insert(std::shared_ptr<Process> process, codec::Atom node,
                             std::uint32_t creation, F&& before_visible) {
  auto slot = std::make_shared<ProcessSlot>(std::move(process));
  // After 2^28 spawns the numbers wrap; skip the ones still in use, as the BEAM does.
  for (std::uint32_t attempt = 0; attempt < pid_space; ++attempt) {
    const std::uint32_t key = next_.fetch_add(1, std::memory_order_relaxed) % pid_space;
    Shard& s = shard(key);
    std::unique_lock lock(s.mutex);
    if (s.slots.contains(key)) {
      continue;
    }
    set_self(*slot->process, codec::Pid{node, key & 0x7fffU, key >> 15, creation});
    before_visible(slot);
    s.slots.emplace(key, slot);
    size_.fetch_add(1, std::memory_order_relaxed);
    return slot;
  }
  throw_full();
}

}  // namespace cppnode::cnode
