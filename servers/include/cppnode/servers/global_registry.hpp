// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "cppnode/cnode/process.hpp"
#include "cppnode/codec/term.hpp"

namespace cppnode::cnode {
class Node;
struct NodeEvent;
}  // namespace cppnode::cnode

namespace cppnode::servers {

/// Keeps `{global, Name}` registrations of local pids alive in the cluster. A hidden C node is
/// outside `global`'s node set, so each name is registered through a connected BEAM node with
/// an RPC to `global:register_name_external(Name, Pid)`, whose `global_name_server` links to
/// and monitors the pid: the name goes away when the pid dies or the connection to this node
/// drops. The registry registers each name as soon as a visible BEAM node is connected (one
/// from `--connect` or any that connects in), checks it with `global:whereis_name/1` on every
/// BEAM node that comes up, registers it again after a restart, and again through another node
/// when the registering node goes away. On each BEAM node that comes up it also asks for
/// `erlang:nodes()` and connects to the rest of the cluster, so another node is at hand.
/// The link global makes from the registering node is removed again (UNLINK), so that node's
/// death does not kill the server. A process of its own; all members are thread-safe.
class GlobalRegistry : public cnode::Process {
 public:
  struct Options {
    /// Limit for each RPC to a BEAM node.
    std::chrono::milliseconds rpc_timeout{5'000};
    /// First wait before retrying a failed registration; doubles up to `max_retry_delay`.
    std::chrono::milliseconds retry_delay{100};
    std::chrono::milliseconds max_retry_delay{5'000};
  };

  /// Spawns a registry on `node`.
  static std::shared_ptr<GlobalRegistry> start(cnode::Node& node, Options options);
  /// The node's shared registry, started on first use.
  static std::shared_ptr<GlobalRegistry> for_node(cnode::Node& node);

  /// Wants `name` registered for `pid` (replacing any earlier pid for that name).
  void set(const codec::Term& name, const codec::Pid& pid);
  /// Drops `name` if it is still wanted for `pid` (the pid exited; global forgets it by itself).
  void forget(const codec::Term& name, const codec::Pid& pid);

  /// A name's state, for operators and tests.
  struct NameInfo {
    codec::Term name;
    codec::Pid pid;
    /// The BEAM node the registration was made or confirmed through; nullopt while pending.
    std::optional<codec::Atom> via;
  };
  [[nodiscard]] std::vector<NameInfo> names() const;
  /// A connected visible BEAM node (the oldest), to resolve or register names through.
  [[nodiscard]] std::optional<codec::Atom> beam_node() const;
  /// Whether `pid` is the `global_name_server` of a node registered through. Its link to a
  /// registered server is global's bookkeeping (global also monitors), so servers ignore its
  /// exit signals: a dropped connection to that node must not kill them. Thread-safe.
  [[nodiscard]] bool is_name_server(const codec::Pid& pid) const;

  GlobalRegistry(cnode::Node& node, Options options);

 protected:
  void on_start() override;
  void on_signal(cnode::Signal signal) override;
  void on_exit(const codec::Term& reason) override;

 private:
  struct State;
  void on_node_event(const cnode::NodeEvent& event);
  void add_beam_node(codec::Atom peer);
  void ensure(const codec::Term& name, std::optional<codec::Atom> through);
  void check_done(const codec::Term& name, std::uint64_t generation, codec::Atom through,
                  const codec::Term& where);
  void register_done(const codec::Term& name, std::uint64_t generation, codec::Atom through,
                     const codec::Term& answer);
  /// `name` is registered as it should be: publishes it, and checks again if asked meanwhile.
  void settled(const codec::Term& name);
  void retry_later(const codec::Term& name, std::uint64_t generation);
  void drop_link(codec::Atom through, const codec::Pid& pid);
  void fetch_name_server(codec::Atom peer, std::optional<codec::Pid> unlink_pid);
  void learn_name_server(codec::Atom peer, const codec::Pid& server);
  void publish();
  template <class F>
  void on_strand(F&& f);

  Options options_;
  std::unique_ptr<State> state_;  // strand-confined
  mutable std::mutex snapshot_mutex_;
  std::vector<NameInfo> snapshot_;  // copies for names() and beam_node(), under snapshot_mutex_
  std::vector<codec::Atom> beam_nodes_snapshot_;
  // Every global_name_server seen, never erased: a server may handle the exit from a name server
  // after its node has gone down here.
  mutable std::mutex name_server_pids_mutex_;
  std::vector<codec::Pid> name_server_pids_;
};

}  // namespace cppnode::servers
