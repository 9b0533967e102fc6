// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "connections.hpp"
#include "delivery.hpp"
#include "names.hpp"
#include "process_table.hpp"

namespace cppnode::cnode {

class Peer;

/// The Ref of a gen call's tag `[alias | Ref]` (OTP 24+ callers), or null.
const codec::Reference* gen_call_alias(const codec::Term& tag);

/// The link and monitor protocols of the ERTS "Distribution Protocol" document, applied alike
/// to local and remote peers: what a process's link, unlink, monitor and demonitor send, how a
/// process reacts on its strand to the signals that reach it, what its exit owes the others,
/// and the calls the node watches for peers whose monitors do not cross the connection
/// (call_monitors.cpp). Thread-safe; a process's tables change only on its strand.
class LinkProtocol {
 public:
  struct Parts {
    const ProcessTable& procs;
    Names& names;
    Connections& connections;
    Delivery& delivery;
    ProcessExits& exits;
  };
  /// `node` and `creation` are the node's own; `watch_calls`: NodeConfig::remote_monitors off.
  LinkProtocol(Parts parts, codec::Atom node, const std::atomic<std::uint32_t>& creation,
               bool watch_calls);

  // ---- What a process does (Node::link and the rest) ----
  void link(const codec::Pid& from, const codec::Pid& to);
  void unlink(const codec::Pid& from, const codec::Pid& to);
  void exit_signal(const codec::Pid& from, const codec::Pid& to, const codec::Term& reason);
  codec::Reference monitor(const codec::Pid& watcher, const codec::Term& target,
                           codec::Atom target_node);
  void demonitor(const codec::Pid& watcher, const codec::Reference& ref);
  /// Sends what an exit owes the links and monitors of `self` (EXIT, DOWN, demonitor).
  void tell_exit(const codec::Pid& self, const SignalEntries& signals, const codec::Term& reason);
  /// The connection `peer_id` went down: every process with entries across it hears so.
  void connection_lost(std::uint64_t peer_id);

  // ---- How a process reacts, on its strand (`peer` is where the signal came from) ----
  void receive_link(const SlotPtr& slot, const codec::Pid& from, const std::shared_ptr<Peer>& peer);
  /// An UNLINK from a peer that does not know UNLINK_ID: the link goes without an ack.
  static void receive_old_unlink(const SlotPtr& slot, const codec::Pid& from);
  void receive_exit(const SlotPtr& slot, const codec::Pid& from, const codec::Term& reason,
                    bool is_link);
  void receive_unlink_id(const SlotPtr& slot, std::uint64_t id, const codec::Pid& from,
                         const std::shared_ptr<Peer>& peer);
  static void receive_unlink_ack(const SlotPtr& slot, std::uint64_t id, const codec::Pid& from);
  void receive_monitor(const SlotPtr& slot, Watcher watcher);
  static void receive_demonitor(const SlotPtr& slot, const codec::Reference& ref);
  void receive_down(const SlotPtr& slot, const codec::Reference& ref, const codec::Term& reason);

  // ---- Calls from peers that do not monitor across the connection (call_monitors.cpp) ----
  /// Whether the node watches calls from peers itself: NodeConfig::remote_monitors off, so no
  /// BEAM caller's monitor crosses the connection. (A peer that never offers DIST_MONITOR, ei or
  /// JInterface, makes no alias calls: nothing to watch there in full mode.)
  [[nodiscard]] bool watches_calls() const noexcept { return watch_calls_; }
  /// If `message` is a `gen` call with an alias (`{'$gen_call', {Pid, [alias | Mref]}, _}`),
  /// keeps a watcher for it on `slot`, so that the caller hears at once if `slot` exits first.
  void watch_call(const std::shared_ptr<Peer>& peer, const SlotPtr& slot, const codec::Term& target,
                  const codec::Term& message);
  /// The same call to `target`, which does not exist: the caller gets its noproc DOWN now.
  void answer_call_to_missing(const std::shared_ptr<Peer>& peer, const codec::Term& target,
                              const codec::Term& message);
  /// `server` answered the call whose alias is `alias`: its watcher goes.
  void forget_call(const codec::Pid& server, const codec::Reference& alias);

 private:
  [[nodiscard]] bool is_local(const codec::Pid& pid) const noexcept { return pid.node == node_; }
  [[nodiscard]] SlotPtr find_slot(const codec::Pid& pid) const { return procs_.find(pid); }
  void receive_nodedown(const SlotPtr& slot, std::uint64_t peer_id);
  /// A link exit or noproc for `from`, which is gone: to a local slot or over `peer`.
  void send_link_exit(const codec::Pid& from, const codec::Pid& to, const codec::Term& reason,
                      const std::shared_ptr<Peer>& peer);
  /// Sends the DOWN of `w` (local, over its peer, or to its call's alias).
  void send_down(const Watcher& w, const codec::Term& reason);
  /// `{'DOWN', Mref, process, Object, Reason}` to the call's alias, as the caller's own monitor
  /// would have delivered it.
  void send_call_down(const Watcher& w, const codec::Term& reason);

  const ProcessTable& procs_;
  Names& names_;
  Connections& connections_;
  Delivery& delivery_;
  ProcessExits& exits_;
  const codec::Atom node_;
  const std::atomic<std::uint32_t>& creation_;
  const bool watch_calls_;
  std::atomic<std::uint64_t> unlink_counter_{0};
};

}  // namespace cppnode::cnode
