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

#include "cppnode/cnode/detail/control.hpp"
#include "cppnode/cnode/detail/dist_flags.hpp"
#include "cppnode/cnode/node.hpp"
#include "peer.hpp"
#include "process_table.hpp"

namespace boost::asio::ssl {
class context;
}

namespace cppnode::cnode {
class Handshake;
}

namespace cppnode::cnode {

struct AtomHash {
  std::size_t operator()(codec::Atom a) const noexcept { return a.hash(); }
};

/// What the acceptor answers a node that asks to connect (dist_util's mark_pending).
enum class PendingDecision { ok, ok_simultaneous, nok, alive, reject };

/// Everything behind `Node`. Thread-safe like Node; process-local state changes run on the
/// process's strand, connection state on the peer's strand.
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
  mutable std::shared_mutex registry_mutex;
  std::unordered_map<codec::Atom, SlotPtr, AtomHash> registry;
  std::mutex alias_mutex;
  struct AliasEntry {
    codec::Pid owner;
    ProcessSlot* slot;  // registered only while the owner lives (do_exit drops its aliases)
  };
  std::unordered_map<codec::Reference, AliasEntry, RefHash> aliases;
  std::atomic<std::uint64_t> ref_counter{0};
  std::atomic<std::uint64_t> unlink_counter{0};
  std::uint32_t ref_salt = 0;

  // ---- Connections ----
  // The acceptor, the epmd socket and the stop sequence are touched only on this strand once
  // the node runs: Asio's I/O objects are not safe to use from two threads at once.
  boost::asio::strand<boost::asio::io_context::executor_type> control{io.get_executor()};
  boost::asio::ip::tcp::acceptor acceptor;
  std::uint16_t listen_port = 0;
  // TLS distribution: the contexts of accepted and of opened connections (null: plain TCP).
  std::unique_ptr<boost::asio::ssl::context> tls_server;
  std::unique_ptr<boost::asio::ssl::context> tls_client;
  boost::asio::ip::tcp::socket epmd_socket;  // open while registered
  std::array<std::uint8_t, 16> epmd_read_buf{};
  boost::asio::steady_timer stop_timer;
  // An episode of failed accepts (the descriptor limit, say): the pause before the next try,
  // zero outside an episode, and what the recovery line reports. Touched only on `control`.
  boost::asio::steady_timer accept_timer;
  std::chrono::milliseconds accept_backoff{0};
  std::uint64_t accept_failures = 0;
  std::chrono::steady_clock::time_point accept_failing_since;
  mutable std::shared_mutex peers_mutex;
  std::unordered_map<codec::Atom, std::shared_ptr<Peer>, AtomHash> peers;
  std::atomic<std::uint64_t> next_peer_id{1};
  std::mutex handshakes_mutex;
  std::vector<std::weak_ptr<Handshake>> handshakes;  // to abort them at stop
  std::mutex events_mutex;
  std::vector<std::function<void(const NodeEvent&)>> event_handlers;
  std::mutex spawn_mutex;
  Node::SpawnHandler spawn_handler;
  struct KeepConnected {
    std::chrono::milliseconds backoff{0};
    std::shared_ptr<boost::asio::steady_timer> timer;
  };
  std::mutex keep_mutex;
  std::unordered_map<codec::Atom, KeepConnected, AtomHash> keep_connected;

  // ---- Counters ----
  std::atomic<std::uint64_t> messages_in{0};
  std::atomic<std::uint64_t> messages_out{0};
  std::atomic<std::uint64_t> messages_refused{0};
  std::atomic<std::uint64_t> connections_total{0};

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

  // ---- Local processes (routing.cpp) ----
  /// `prepare` runs once the pid is set, before the process is visible or started.
  codec::Pid spawn(const std::shared_ptr<Process>& process,
                   const std::function<void(const SlotPtr&)>& prepare = {});
  [[nodiscard]] bool is_local(const codec::Pid& pid) const noexcept { return pid.node == name; }
  [[nodiscard]] SlotPtr find_slot(const codec::Pid& pid) const { return procs.find(pid); }
  [[nodiscard]] SlotPtr find_name(codec::Atom n) const;
  /// Who an alias of this node reaches: its owner while it lives, else nobody.
  [[nodiscard]] std::optional<codec::Pid> alias_owner_pid(const codec::Reference& alias);
  [[nodiscard]] SlotPtr alias_owner(const codec::Reference& alias);
  codec::Reference make_ref();
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
  /// Queues a message on the process's strand, unless its mailbox bound refuses it.
  void deliver(const SlotPtr& slot, MessageSignal message);
  /// Like `deliver`, for a message just read from a connection: runs it right here, on the
  /// reading thread, when the process is idle and its callbacks are quick (see routing.cpp).
  void deliver_from_peer(const SlotPtr& slot, MessageSignal message);
  /// Counts a message into the process's mailbox; false (and the overflow policy applied) if
  /// its bound refuses it.
  bool enqueue(const SlotPtr& slot, const codec::Term& message);
  bool enqueue_bounded(const SlotPtr& slot, std::size_t max, const codec::Term& message);
  /// A message was refused: warns once per episode, and starts the exit for policy `exit`.
  void overflowed(const SlotPtr& slot, std::size_t max);
  /// Counts a message out of the mailbox as its handling starts.
  void dequeue(const SlotPtr& slot) const;
  /// The registered name (if any) and pid, for logs.
  [[nodiscard]] std::string describe(const SlotPtr& slot) const;
  /// Called by a peer whose queue a send left busy: the process whose callback is running on
  /// this thread, if any, is suspended once the callback returns.
  static void met_busy_peer(const std::shared_ptr<Peer>& peer);
  /// The busy connection `slot` waited for has drained or gone: it handles its signals again.
  void resume(const SlotPtr& slot) override;
  void exit_process(const codec::Pid& pid, const codec::Term& reason);
  void do_exit(const SlotPtr& slot, const codec::Term& reason);
  /// Sends what an exit owes the links and monitors of `self` (EXIT, DOWN, demonitor).
  void tell_exit(const codec::Pid& self, const SignalEntries& signals, const codec::Term& reason);

  // ---- Signals (routing.cpp) ----
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
  codec::Reference make_alias(const codec::Pid& owner);
  void remove_alias(const codec::Reference& alias);

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
  /// The flags this node offers: dflag::ours, without the monitor flags unless remote_monitors.
  [[nodiscard]] std::uint64_t offered_flags() const noexcept {
    constexpr std::uint64_t monitors =
        detail::dflag::dist_monitor | detail::dflag::dist_monitor_name;
    return config.remote_monitors ? detail::dflag::ours : detail::dflag::ours & ~monitors;
  }
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

  // ---- Incoming control messages (routing.cpp), on the peer's strand ----
  /// False closes the connection (the message was ill-formed for this node).
  bool handle_control(const std::shared_ptr<Peer>& peer, detail::ControlMessage& m,
                      std::string& error) override;
  /// Decodes `m`'s payload term (node.cpp). False when it does not decode: with `error` empty
  /// only this message is refused (logged with its sender and the reason, and counted), since
  /// its framing and control term were fine; with `error` set the connection must close (a
  /// COMPRESSED payload, which the BEAM treats so).
  bool take_payload(const Peer& peer, detail::ControlMessage& m, std::string& error);
  /// SPAWN_REQUEST (spawn_request.cpp): spawns what the spawn handler makes, or refuses.
  void handle_spawn_request(const std::shared_ptr<Peer>& peer,
                            const detail::incoming::SpawnRequest& request, const codec::Term& args);

  // ---- Connections (connections.cpp) ----
  /// The peer for `node`, connecting if there is none; null for our own or an invalid name.
  std::shared_ptr<Peer> peer_for(codec::Atom node);
  /// Sends over the current connection to `node`, connecting on demand; false if the node is
  /// unreachable right now (then nothing was queued).
  bool send_to_node(codec::Atom node, OutSignal signal);
  void track(const std::shared_ptr<Handshake>& hs);
  PendingDecision mark_pending(const std::string& node_name,
                               const std::shared_ptr<Handshake>& handshake,
                               std::shared_ptr<Peer>& peer_out);
  std::shared_ptr<Peer> replace_stale(const std::string& node_name,
                                      const std::shared_ptr<Handshake>& handshake);
  void handshake_nok(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Handshake>& hs);
  /// Whether `hs` still owns the set-up of `peer` (dist_util's is_pending, asked on `alive`).
  bool is_pending(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Handshake>& hs);
  void handshake_failed(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Handshake>& hs,
                        const std::string& reason);
  void handshake_succeeded(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Handshake>& hs,
                           DistSocket socket, std::uint64_t peer_flags,
                           std::uint32_t peer_creation);
  void peer_up(const std::shared_ptr<Peer>& peer) override;
  void peer_down(const std::shared_ptr<Peer>& peer, const std::string& reason,
                 bool was_up) override;
  void emit(const NodeEvent& event);
  void keep_node_connected(codec::Atom node);
  void schedule_reconnect(codec::Atom node);
  std::vector<NodeEvent> connected() const;
};

template <class F>
void NodeImpl::on_strand(const SlotPtr& slot, F&& fn, bool inline_ok) {
  Process& p = *slot->process;
  auto& strand = ProcessTable::strand(p);
  if (inline_ok && !ProcessTable::slow(p).load(std::memory_order_relaxed)) {
    boost::asio::dispatch(strand, [slot, f = std::forward<F>(fn)]() mutable { f(slot); });
  } else {
    boost::asio::defer(strand, [slot, f = std::forward<F>(fn)]() mutable { f(slot); });
  }
}

}  // namespace cppnode::cnode
