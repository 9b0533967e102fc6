// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "cppnode/cnode/process.hpp"
#include "cppnode/codec/term.hpp"

namespace cppnode::cnode {
class Node;
struct NodeEvent;
}  // namespace cppnode::cnode

namespace cppnode::servers {

/// A scope of OTP's process groups (`pg`) on this node: C++ processes join and leave groups, and
/// the BEAM nodes of the cluster see them in `:pg.get_members/2`, `:pg.which_groups/1` and
/// `:pg.monitor_scope/1` of the scope of the same name, as they see each other's members.
///
/// It speaks `pg`'s own protocol with the scope process of each visible BEAM node (OTP 23 and
/// later, including the versioned discovery of OTP 29's `data_publisher`): on each node that comes
/// up it sends `{discover, Self}` to `{Scope, Node}` (a hidden C node is not in the BEAM's
/// `nodes()`, so the BEAM never discovers it first), and again every 2 s to each visible node
/// whose scope has not answered yet (it may start later than the connection), answers a discovery
/// with a `sync` of its local members, and sends `join`/`leave` as they happen. Each side monitors
/// the other's scope process, so the members of a node that goes away (or whose scope stops) are
/// dropped on every node; a joined local process that exits leaves all its groups. What a BEAM
/// scope sends that does not have the protocol's shape is logged and dropped (a BEAM scope crashes
/// on it).
///
/// All members are thread-safe; reads see every join and leave made before them, as `pg`'s ETS
/// table does. Several scopes may run on one node, each under its own registered name.
class PgScope : public cnode::Process {
 public:
  /// Spawns the scope `scope` on `node` and registers it under that name (`pg` is OTP's default
  /// scope, `'Elixir.Phoenix.PubSub'` Phoenix.PubSub's). Throws std::logic_error when the name
  /// is taken.
  static std::shared_ptr<PgScope> start(cnode::Node& node, codec::Atom scope);

  [[nodiscard]] codec::Atom scope() const noexcept { return scope_; }

  /// `pg:join/3`: `pids`, local processes, join `group`. A process may join a group several
  /// times and then leaves it as many times. Throws std::invalid_argument for a pid of another
  /// node (`pg`'s `{nolocal, Pid}`).
  void join(const codec::Term& group, const std::vector<codec::Pid>& pids);
  void join(const codec::Term& group, const codec::Pid& pid);
  /// `pg:leave/3`: false (`not_joined`) when none of `pids` was in `group`.
  bool leave(const codec::Term& group, const std::vector<codec::Pid>& pids);
  bool leave(const codec::Term& group, const codec::Pid& pid);

  /// `pg:get_members/2`: the group's processes on every node, in no specific order.
  [[nodiscard]] std::vector<codec::Pid> members(const codec::Term& group) const;
  /// `pg:get_local_members/2`: the group's processes on this node.
  [[nodiscard]] std::vector<codec::Pid> local_members(const codec::Term& group) const;
  /// `pg:which_groups/1`: the groups with at least one member anywhere.
  [[nodiscard]] std::vector<codec::Term> which_groups() const;

  /// What `monitor_scope` and `monitor` answer: the reference that tags the notifications and
  /// the members at the time.
  struct Monitor {
    codec::Reference ref;
    std::map<codec::Term, std::vector<codec::Pid>> groups;
  };
  /// `pg:monitor_scope/1` for the local process `subscriber`: it gets `{Ref, join, Group, Pids}`
  /// and `{Ref, leave, Group, Pids}` for every change, until `demonitor` or its exit.
  Monitor monitor_scope(const codec::Pid& subscriber);
  /// `pg:monitor/2`: the same for one group.
  Monitor monitor(const codec::Pid& subscriber, const codec::Term& group);
  /// `pg:demonitor/2`: false when `ref` is not a monitor of this scope.
  bool demonitor(const codec::Reference& ref);

  PgScope(cnode::Node& node, codec::Atom scope);

 protected:
  void on_start() override;
  void on_signal(cnode::Signal signal) override;
  void on_exit(const codec::Term& reason) override;

 private:
  struct State;
  void on_node_event(const cnode::NodeEvent& event);
  void rediscover_later();
  void on_message(const codec::Term& message);
  void on_down(const cnode::DownSignal& down);
  void on_sync(const codec::Pid& peer, const codec::Term& groups);
  void on_remote_change(const codec::Pid& peer, const codec::Term& group_or_groups,
                        const codec::Term& pids, bool joined);
  // These run with mutex_ held.
  void send_to_peers(const codec::Term& message);
  void notify(const codec::Term& group, bool joined, const std::vector<codec::Pid>& pids);
  void change(const codec::Term& group, const std::vector<codec::Pid>& add,
              const std::vector<codec::Pid>& remove, bool is_local);

  const codec::Atom scope_;
  std::unique_ptr<boost::asio::steady_timer> rediscover_timer_;  // strand-confined
  mutable std::mutex mutex_;      // guards state_: joins come from any thread
  std::unique_ptr<State> state_;  // and the strand's handlers send while holding it
};

}  // namespace cppnode::servers
