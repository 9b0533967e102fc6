// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/phoenix_pubsub.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "cppnode/cnode/node.hpp"
#include "cppnode/cnode/process.hpp"
#include "cppnode/servers/pg.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Atom;
using codec::Pid;
using codec::Term;

namespace {

// The module whose dispatch/3 Elixir nodes run for a plain broadcast.
Atom default_dispatcher() { return "Elixir.Phoenix.PubSub"_a; }

// Elixir's Module.concat(Name, "Adapter") and the adapter's pool group names.
std::vector<Atom> pool_groups(Atom name, unsigned pool_size) {
  std::string base(name.name());
  if (!base.starts_with("Elixir.")) base = "Elixir." + base;
  const std::string adapter = base + ".Adapter";
  std::vector<Atom> groups{Atom(adapter)};
  for (unsigned i = 2; i <= pool_size; ++i) groups.emplace_back(adapter + "_" + std::to_string(i));
  return groups;
}

}  // namespace

/// One listener of the pool: the process the other nodes' broadcasts reach (PG2Worker's part).
/// The first one also watches the subscribers.
class PhoenixPubSub::Listener : public cnode::Process {
 public:
  Listener(cnode::Node& node, std::weak_ptr<PhoenixPubSub> pubsub)
      : cnode::Process(node), pubsub_(std::move(pubsub)) {}

 protected:
  void on_signal(cnode::Signal signal) override {
    auto pubsub = pubsub_.lock();
    if (!pubsub) return;
    if (const auto* d = std::get_if<cnode::DownSignal>(&signal)) {
      if (const auto* pid = d->object.get_if<Pid>()) pubsub->forget(*pid);
      return;
    }
    const auto* m = std::get_if<cnode::MessageSignal>(&signal);
    if (m == nullptr) return;
    codec::Binary topic;
    Term message;
    Atom dispatcher;
    if (!codec::match(m->message, "forward_to_local"_a, &topic, &message, &dispatcher)) {
      return;  // PG2Worker ignores anything else too
    }
    if (dispatcher != default_dispatcher()) pubsub->warn_dispatcher(dispatcher);
    pubsub->dispatch(topic.bytes, message, nullptr);
  }

 private:
  std::weak_ptr<PhoenixPubSub> pubsub_;
};

PhoenixPubSub::PhoenixPubSub(cnode::Node& node, Options options)
    : node_(node), options_(options), groups_(pool_groups(options.name, options.pool_size)) {}

std::shared_ptr<PhoenixPubSub> PhoenixPubSub::start(cnode::Node& node, Options options) {
  if (options.pool_size == 0) {
    throw std::invalid_argument("PhoenixPubSub::start: expected a pool size of at least 1, got 0");
  }
  auto pubsub = std::make_shared<PhoenixPubSub>(node, options);
  const Atom scope_name = default_dispatcher();  // the adapter's scope has the module's name
  if (auto pid = node.whereis(scope_name)) {
    pubsub->scope_ = std::dynamic_pointer_cast<PgScope>(node.find(*pid));
  }
  if (!pubsub->scope_) pubsub->scope_ = PgScope::start(node, scope_name);
  for (const Atom& group : pubsub->groups_) {
    auto listener = std::make_shared<Listener>(node, pubsub);
    const Pid pid = node.spawn(listener);
    pubsub->listeners_.push_back(listener);
    if (!node.register_name(group, pid)) {
      throw std::logic_error("PhoenixPubSub::start: the name '" + std::string(group.name()) +
                             "' is registered already");
    }
    pubsub->scope_->join(group, pid);
  }
  return pubsub;
}

PhoenixPubSub::~PhoenixPubSub() {
  for (const auto& listener : listeners_) {
    node_.exit_process(listener->self(), "shutdown"_a);
  }
}

void PhoenixPubSub::subscribe(const Pid& subscriber, const std::string& topic) {
  std::lock_guard lock(mutex_);
  topics_[topic].push_back(subscriber);
  if (!watched_.contains(subscriber)) {
    watched_.emplace(subscriber,
                     node_.monitor(listeners_.front()->self(), subscriber, subscriber.node));
  }
}

void PhoenixPubSub::unsubscribe(const Pid& subscriber, const std::string& topic) {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return;
  std::erase(it->second, subscriber);
  if (it->second.empty()) topics_.erase(it);
  const bool elsewhere = std::any_of(topics_.begin(), topics_.end(), [&](const auto& t) {
    return std::find(t.second.begin(), t.second.end(), subscriber) != t.second.end();
  });
  if (auto w = watched_.find(subscriber); !elsewhere && w != watched_.end()) {
    node_.demonitor(listeners_.front()->self(), w->second);
    watched_.erase(w);
  }
}

void PhoenixPubSub::forget(const Pid& subscriber) {
  std::lock_guard lock(mutex_);
  watched_.erase(subscriber);
  for (auto it = topics_.begin(); it != topics_.end();) {
    std::erase(it->second, subscriber);
    it = it->second.empty() ? topics_.erase(it) : std::next(it);
  }
}

std::vector<Pid> PhoenixPubSub::subscribers(const std::string& topic) const {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? std::vector<Pid>{} : it->second;
}

void PhoenixPubSub::warn_dispatcher(Atom dispatcher) {
  std::lock_guard lock(mutex_);
  if (std::exchange(warned_dispatcher_, true)) return;
  spdlog::warn(
      "Phoenix.PubSub {}: a broadcast names the dispatcher {}; C++ subscribers get the "
      "message as the default dispatcher (Elixir.Phoenix.PubSub) passes it",
      options_.name.name(), dispatcher.name());
}

void PhoenixPubSub::dispatch(const std::string& topic, const Term& message, const Pid* except) {
  const std::vector<Pid> to = subscribers(topic);
  const Pid& from = listeners_.front()->self();
  for (const Pid& pid : to) {
    if (except == nullptr || pid != *except) node_.send(from, pid, message);
  }
}

void PhoenixPubSub::broadcast(const std::string& topic, const Term& message) {
  broadcast_to_others(topic, message);
  dispatch(topic, message, nullptr);
}

void PhoenixPubSub::broadcast_from(const Pid& from, const std::string& topic, const Term& message) {
  broadcast_to_others(topic, message);
  dispatch(topic, message, &from);
}

// The adapter sends through one group of the pool, whichever; every node has a listener in each.
void PhoenixPubSub::broadcast_to_others(const std::string& topic, const Term& message) {
  const Term forward =
      codec::tuple("forward_to_local"_a, codec::binary(topic), message, default_dispatcher());
  const Pid& from = listeners_.front()->self();
  for (const Pid& member : scope_->members(groups_.front())) {
    if (member.node != node_.name()) node_.send(from, member, forward);
  }
}

void PhoenixPubSub::local_broadcast(const std::string& topic, const Term& message) {
  dispatch(topic, message, nullptr);
}

void PhoenixPubSub::direct_broadcast(Atom node_name, const std::string& topic,
                                     const Term& message) {
  if (node_name == node_.name()) {
    dispatch(topic, message, nullptr);
    return;
  }
  node_.send(
      listeners_.front()->self(), groups_.front(), node_name,
      codec::tuple("forward_to_local"_a, codec::binary(topic), message, default_dispatcher()));
}

}  // namespace cppnode::servers
