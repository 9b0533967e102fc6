// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cppnode/codec/term.hpp"

namespace cppnode::cnode {
class Node;
}

namespace cppnode::servers {

class PgScope;

/// This node's part of a Phoenix.PubSub server of the cluster (`{Phoenix.PubSub, name:
/// MyApp.PubSub}` with the default PG2 adapter): local processes subscribe to topics and get what
/// `Phoenix.PubSub.broadcast/3` sends on any node, and C++ broadcasts reach the Elixir
/// subscribers of every node.
///
/// It follows the adapter's conventions (phoenix_pubsub 2.1-2.2): in the `:pg` scope
/// `Phoenix.PubSub` each node has one listener per pool group (`MyApp.PubSub.Adapter`, then
/// `MyApp.PubSub.Adapter_2` ... up to `pool_size`), registered under the group's name and a member
/// of it; a broadcast is `{forward_to_local, Topic, Message, Dispatcher}` sent to the members of
/// one group on the other nodes, each of which passes `Message` to its node's subscribers of
/// `Topic`. Only the default dispatcher's behaviour exists here (the message as it is, to every
/// subscriber but the sender of a `broadcast_from`): a forward naming another dispatcher (an
/// Elixir module) is delivered the same way, and logged once.
///
/// Subscribers are local processes (a GenServer gets the messages in `handle_info`); one that
/// exits is unsubscribed. All members are thread-safe.
class PhoenixPubSub {
 public:
  struct Options {
    /// The PubSub server's name, as Elixir writes it in `name: MyApp.PubSub`.
    codec::Atom name;
    /// The Elixir nodes' `:pool_size` (listener groups); it must be the same on every node.
    unsigned pool_size = 1;
  };

  /// Joins the cluster's `name` PubSub: starts the `Phoenix.PubSub` pg scope on `node` (or uses
  /// the one running) and the listeners. Throws std::invalid_argument for a pool size of 0,
  /// std::logic_error when a listener's name is taken. The listeners end with this object.
  static std::shared_ptr<PhoenixPubSub> start(cnode::Node& node, Options options);
  ~PhoenixPubSub();
  PhoenixPubSub(const PhoenixPubSub&) = delete;
  PhoenixPubSub& operator=(const PhoenixPubSub&) = delete;

  /// `Phoenix.PubSub.subscribe/2` for the local process `subscriber`. A process subscribed
  /// twice gets each message twice, as with Elixir's duplicate-key Registry.
  void subscribe(const codec::Pid& subscriber, const std::string& topic);
  /// `Phoenix.PubSub.unsubscribe/2`: every subscription of `subscriber` to `topic` goes.
  void unsubscribe(const codec::Pid& subscriber, const std::string& topic);
  /// The local subscribers of `topic`.
  [[nodiscard]] std::vector<codec::Pid> subscribers(const std::string& topic) const;

  /// `Phoenix.PubSub.broadcast/3`: `message` to the subscribers of `topic` on every node.
  void broadcast(const std::string& topic, const codec::Term& message);
  /// `Phoenix.PubSub.broadcast_from/4`: the same, but not to `from` on this node.
  void broadcast_from(const codec::Pid& from, const std::string& topic, const codec::Term& message);
  /// `Phoenix.PubSub.local_broadcast/3`: to this node's subscribers only.
  void local_broadcast(const std::string& topic, const codec::Term& message);
  /// `Phoenix.PubSub.direct_broadcast/4`: to the subscribers on `node_name` only.
  void direct_broadcast(codec::Atom node_name, const std::string& topic,
                        const codec::Term& message);

  /// The `:pg` scope the listeners are in (`Phoenix.PubSub`), for operators and tests.
  [[nodiscard]] const std::shared_ptr<PgScope>& scope() const noexcept { return scope_; }
  /// The listener groups, first one (`<Name>.Adapter`) first.
  [[nodiscard]] const std::vector<codec::Atom>& groups() const noexcept { return groups_; }

  class Listener;
  PhoenixPubSub(cnode::Node& node, Options options);

 private:
  void dispatch(const std::string& topic, const codec::Term& message, const codec::Pid* except);
  void forget(const codec::Pid& subscriber);
  void broadcast_to_others(const std::string& topic, const codec::Term& message);
  void warn_dispatcher(codec::Atom dispatcher);

  cnode::Node& node_;
  Options options_;
  std::shared_ptr<PgScope> scope_;
  std::vector<codec::Atom> groups_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<codec::Pid>> topics_;  // under mutex_
  std::map<codec::Term, codec::Reference> watched_;        // subscriber -> our monitor
  bool warned_dispatcher_ = false;
};

}  // namespace cppnode::servers
