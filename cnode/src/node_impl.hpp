// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <boost/asio/defer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "connections.hpp"
#include "cppnode/cnode/detail/control.hpp"
#include "cppnode/cnode/detail/dist_flags.hpp"
#include "cppnode/cnode/node.hpp"
#include "names.hpp"
#include "peer.hpp"
#include "process_table.hpp"

namespace cppnode::cnode {

/// Everything behind `Node`: its identity and loop, the listener and epmd registration, and
/// the parts it is made of (the process table, `Names`, `Connections`); the processing of
/// signals lives in processes.cpp, link_protocol.cpp and control_handler.cpp. Thread-safe like
/// Node; process-local state changes run on the process's strand, connection state on the
/// peer's strand.
struct NodeImpl : PeerHost {
  NodeImpl(Node& owner_node, NodeConfig cfg);
  ~NodeImpl();

  // ---- Identity and loop ----
  Node& owner;
  boost::asio::io_context io;
  NodeConfig config;
  codec::Atom name;
  std::string alive;  // the part before '@'
  std::string host;   // the part after '@'
  std::atomic<std::uint32_t> creation{0};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};

  // ---- Processes ----
  ProcessTable procs;
  Names names{name, creation};
  std::atomic<std::uint64_t> unlink_counter{0};

  // ---- Listening, epmd, stop ----
  // The acceptor, the epmd socket and the stop sequence are touched only on this strand once
  // the node runs: Asio's I/O objects are not safe to use from two threads at once.
  boost::asio::strand<boost::asio::io_context::executor_type> control{io.get_executor()};
  boost::asio::ip::tcp::acceptor acceptor;
  std::uint16_t listen_port = 0;
  boost::asio::ip::tcp::socket epmd_socket;  // open while registered
  std::array<std::uint8_t, 16> epmd_read_buf{};
  boost::asio::steady_timer stop_timer;
  // An episode of failed accepts (the descriptor limit, say): the pause before the next try,
  // zero outside an episode, and what the recovery line reports. Touched only on `control`.
  boost::asio::steady_timer accept_timer;
  std::chrono::milliseconds accept_backoff{0};
  std::uint64_t accept_failures = 0;
  std::chrono::steady_clock::time_point accept_failing_since;
  std::mutex spawn_mutex;
  Node::SpawnHandler spawn_handler;
  Connections connections{io, config, name, creation, *this};

  // ---- Counters ----
  std::atomic<std::uint64_t> messages_in{0};
  std::atomic<std::uint64_t> messages_out{0};
  std::atomic<std::uint64_t> messages_refused{0};

  // ---- Lifecycle (node.cpp) ----
  codec::Result<void, Failure> start();
  codec::Result<void, Failure> register_with_epmd();
  void run();
  /// Switches the calling thread to SCHED_BATCH (NodeConfig::batch_scheduling).
  static void use_batch_scheduling();
  void stop();
  void wait_for_exits(std::chrono::steady_clock::time_point deadline);
  void finish_stop();
  void wait_for_peers(std::chrono::steady_clock::time_point deadline);
  void accept_next();
  void accept_failed(const boost::system::error_code& ec);
  void accept_succeeded();
  void watch_epmd();

  // ---- Local processes (processes.cpp) ----
  /// `prepare` runs once the pid is set, before the process is visible or started.
  codec::Pid spawn(const std::shared_ptr<Process>& process,
                   const std::function<void(const SlotPtr&)>& prepare = {});
  [[nodiscard]] bool is_local(const codec::Pid& pid) const noexcept { return pid.node == name; }
  [[nodiscard]] SlotPtr find_slot(const codec::Pid& pid) const { return procs.find(pid); }
  /// The live process an alias of this node reaches, or null.
  [[nodiscard]] SlotPtr alias_target(const codec::Reference& alias) const {
    auto owner_pid = names.alias_owner(alias);
    return owner_pid ? find_slot(*owner_pid) : nullptr;
  }
  /// Posts `fn(slot)` to the slot's strand; with `inline_ok`, runs it right here if the strand
  /// is idle or already ours and the process's callbacks are quick.
  template <class F>
  void on_strand(const SlotPtr& slot, F&& fn, bool inline_ok = false);
  /// `on_strand` with `inline_ok` for work read from a connection: runs on the reading thread
  /// when the process is idle; the strand keeps it in order with whatever is already queued.
  template <class F>
  void on_strand_from_peer(const SlotPtr& slot, F&& fn) {
    on_strand(slot, std::forward<F>(fn), true);
  }
  /// Runs `signal` on the process now (on its strand), or parks it while the process waits
  /// for a busy connection.
  void run_or_park(const SlotPtr& slot, Signal signal);
  /// Queues a message on the process's strand, unless its mailbox bound refuses it.
  void deliver(const SlotPtr& slot, MessageSignal message);
  /// Like `deliver`, for a message just read from a connection: runs it right here, on the
  /// reading thread, when the process is idle and its callbacks are quick (see processes.cpp).
  void deliver_from_peer(const SlotPtr& slot, MessageSignal message);
  /// Counts a message into the process's mailbox; false (and the overflow policy applied) if
  /// its bound refuses it.
  bool enqueue(const SlotPtr& slot, const codec::Term& message);
  bool enqueue_bounded(const SlotPtr& slot, const MailboxLimit& limit, const codec::Term& message);
  /// A message was refused: warns once per episode, and starts the exit for policy `exit`.
  void overflowed(const SlotPtr& slot, const MailboxLimit& limit);
  /// Counts a message out of the mailbox as its handling starts.
  void dequeue(const SlotPtr& slot) const;
  /// Called by a peer whose queue a send left busy: the process whose callback is running on
  /// this thread, if any, is suspended once the callback returns.
  static void met_busy_peer(const std::shared_ptr<Peer>& peer);
  /// The busy connection `slot` waited for has drained or gone: it handles its signals again.
  void resume(const SlotPtr& slot) override;
  void exit_process(const codec::Pid& pid, const codec::Term& reason);
  void do_exit(const SlotPtr& slot, const codec::Term& reason);
  /// Sends what an exit owes the links and monitors of `self` (EXIT, DOWN, demonitor).
  void tell_exit(const codec::Pid& self, const SignalEntries& signals, const codec::Term& reason);

  // ---- Signals (processes.cpp: sends; link_protocol.cpp: the rest) ----
  void send(const codec::Pid& from, const codec::Pid& to, codec::Term message);
  void send_named(const codec::Pid& from, codec::Atom to_name, codec::Atom node,
                  codec::Term message);
  void send_alias(const codec::Pid& from, const codec::Reference& alias, const codec::Pid& fallback,
                  codec::Term message);
  void link(const codec::Pid& from, const codec::Pid& to);
  void unlink(const codec::Pid& from, const codec::Pid& to);
  void exit_signal(const codec::Pid& from, const codec::Pid& to, const codec::Term& reason);
  codec::Reference monitor(const codec::Pid& watcher, const codec::Term& target,
                           codec::Atom target_node);
  void demonitor(const codec::Pid& watcher, const codec::Reference& ref);

  /// Strand-side reactions (on the receiving process's strand).
  void receive_link(const SlotPtr& slot, const codec::Pid& from, const std::shared_ptr<Peer>& peer);
  void receive_exit(const SlotPtr& slot, const codec::Pid& from, const codec::Term& reason,
                    bool is_link);
  void receive_unlink_id(const SlotPtr& slot, std::uint64_t id, const codec::Pid& from,
                         const std::shared_ptr<Peer>& peer);
  static void receive_unlink_ack(const SlotPtr& slot, std::uint64_t id, const codec::Pid& from);
  void receive_monitor(const SlotPtr& slot, Watcher watcher);
  static void receive_demonitor(const SlotPtr& slot, const codec::Reference& ref);
  void receive_down(const SlotPtr& slot, const codec::Reference& ref, const codec::Term& reason);
  void receive_nodedown(const SlotPtr& slot, std::uint64_t peer_id);
  /// A link exit or noproc for `from`, which is gone: to a local slot or over `peer`.
  void send_link_exit(const codec::Pid& from, const codec::Pid& to, const codec::Term& reason,
                      const std::shared_ptr<Peer>& peer);
  /// Sends the DOWN of `w` (local, over its peer, or to its call's alias).
  void send_down(const Watcher& w, const codec::Term& reason);

  // ---- Calls from peers that do not monitor across the connection (call_monitors.cpp) ----
  /// Whether the node watches calls from peers itself: NodeConfig::remote_monitors off, so no
  /// BEAM caller's monitor crosses the connection. (A peer that never offers DIST_MONITOR, ei or
  /// JInterface, makes no alias calls: nothing to watch there in full mode.)
  [[nodiscard]] bool watches_calls() const noexcept { return !config.remote_monitors; }
  /// If `message` is a `gen` call with an alias (`{'$gen_call', {Pid, [alias | Mref]}, _}`),
  /// keeps a watcher for it on `slot`, so that the caller hears at once if `slot` exits first.
  void watch_call(const std::shared_ptr<Peer>& peer, const SlotPtr& slot, const codec::Term& target,
                  const codec::Term& message);
  /// The same call to `target`, which does not exist: the caller gets its noproc DOWN now.
  void answer_call_to_missing(const std::shared_ptr<Peer>& peer, const codec::Term& target,
                              const codec::Term& message);
  /// `{'DOWN', Mref, process, Object, Reason}` to the call's alias, as the caller's own monitor
  /// would have delivered it.
  void send_call_down(const Watcher& w, const codec::Term& reason);
  /// `server` answered the call whose alias is `alias`: its watcher goes.
  void forget_call(const codec::Pid& server, const codec::Reference& alias);

  // ---- Incoming control messages (control_handler.cpp), on the peer's strand ----
  /// An error closes the connection (the message was ill-formed for this node).
  Handled handle_control(const std::shared_ptr<Peer>& peer, detail::ControlMessage& m) override;
  /// Decodes `m`'s payload term: true when it decodes. False when it does not: only this
  /// message is refused (logged with its sender and the reason, and counted), since its framing
  /// and control term were fine. An error when the connection must close (a COMPRESSED
  /// payload, which the BEAM treats so).
  codec::Result<bool, std::string> take_payload(const Peer& peer, detail::ControlMessage& m);
  /// SPAWN_REQUEST (spawn_request.cpp): spawns what the spawn handler makes, or refuses.
  void handle_spawn_request(const std::shared_ptr<Peer>& peer,
                            const detail::incoming::SpawnRequest& request, const codec::Term& args);

  // ---- Connections (PeerHost) ----
  void peer_up(const std::shared_ptr<Peer>& peer) override;
  void peer_down(const std::shared_ptr<Peer>& peer, const std::string& reason,
                 bool was_up) override;
};

template <class F>
void NodeImpl::on_strand(const SlotPtr& slot, F&& fn, bool inline_ok) {
  auto& strand = slot->process->strand();
  if (inline_ok && !slot->slow.load(std::memory_order_relaxed)) {
    boost::asio::dispatch(strand, [slot, f = std::forward<F>(fn)]() mutable { f(slot); });
  } else {
    boost::asio::defer(strand, [slot, f = std::forward<F>(fn)]() mutable { f(slot); });
  }
}

}  // namespace cppnode::cnode
