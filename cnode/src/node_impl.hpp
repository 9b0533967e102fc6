// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
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
#include "delivery.hpp"
#include "link_protocol.hpp"
#include "listener.hpp"
#include "names.hpp"
#include "peer.hpp"
#include "process_table.hpp"

namespace cppnode::cnode {

/// Everything behind `Node`: its identity and loop, epmd registration and stop, and
/// the parts it is made of (the process table, `Names`, `Delivery`, `Connections`, `Listener`,
/// `LinkProtocol`); spawning, exit and sends live in processes.cpp, what each control message
/// does in control_handler.cpp. Thread-safe like Node; process-local state changes run on the
/// process's strand, connection state on the peer's strand.
struct NodeImpl : PeerHost, ProcessExits {
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
  Delivery delivery{names, *this};

  // ---- Listening, epmd, stop ----
  // The listener, the epmd socket and the stop sequence are touched only on this strand once
  // the node runs: Asio's I/O objects are not safe to use from two threads at once.
  boost::asio::strand<boost::asio::io_context::executor_type> control{io.get_executor()};
  boost::asio::ip::tcp::socket epmd_socket;  // open while registered
  std::array<std::uint8_t, 16> epmd_read_buf{};
  boost::asio::steady_timer stop_timer;
  std::mutex spawn_mutex;
  Node::SpawnHandler spawn_handler;
  Connections connections{io, config, name, creation, *this};
  Listener listener{io, control, connections};
  LinkProtocol links{
      {procs, names, connections, delivery, *this}, name, creation, !config.remote_monitors};

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
  void run_paced();
  void stop();
  void wait_for_exits(std::chrono::steady_clock::time_point deadline);
  void finish_stop();
  void wait_for_peers(std::chrono::steady_clock::time_point deadline);
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
  void exit_process(const codec::Pid& pid, const codec::Term& reason);
  void do_exit(const SlotPtr& slot, const codec::Term& reason) override;

  // ---- Sending (processes.cpp) ----
  void send(const codec::Pid& from, const codec::Pid& to, codec::Term message);
  void send_named(const codec::Pid& from, codec::Atom to_name, codec::Atom node,
                  codec::Term message);
  void send_alias(const codec::Pid& from, const codec::Reference& alias, const codec::Pid& fallback,
                  codec::Term message);
  void reply(const codec::Pid& server, const codec::Pid& caller, codec::Term tag,
             codec::Term reply);

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
  void resume(const SlotPtr& slot) override { delivery.resume(slot); }
};

}  // namespace cppnode::cnode
