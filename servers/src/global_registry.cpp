// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/global_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <unordered_map>
#include <utility>

#include "cppnode/cnode/node.hpp"
#include "cppnode/servers/rpc.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

struct GlobalRegistry::State {
  struct Entry {
    codec::Pid pid;
    std::optional<Atom> via;
    std::uint64_t generation = 0;
    bool busy = false;   // an RPC chain or a retry wait is under way
    bool again = false;  // check once more when it ends (a node came up meanwhile)
    std::optional<Atom> again_through;
    std::chrono::milliseconds delay{0};
    std::unique_ptr<boost::asio::steady_timer> retry;
  };
  std::map<Term, Entry> names;
  std::vector<Atom> beam_nodes;             // connected visible BEAM nodes, oldest first
  std::map<Atom, codec::Pid> name_servers;  // global_name_server per node
  std::uint64_t next_generation = 0;
};

GlobalRegistry::GlobalRegistry(cnode::Node& node, Options options)
    : cnode::Process(node), options_(options), state_(std::make_unique<State>()) {}

std::shared_ptr<GlobalRegistry> GlobalRegistry::start(cnode::Node& node, Options options) {
  auto registry = std::make_shared<GlobalRegistry>(node, options);
  node.spawn(registry);
  return registry;
}

std::shared_ptr<GlobalRegistry> GlobalRegistry::for_node(cnode::Node& node) {
  static std::mutex mutex;
  static std::unordered_map<cnode::Node*, std::weak_ptr<GlobalRegistry>> registries;
  std::lock_guard lock(mutex);
  std::erase_if(registries, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = registries[&node];
  auto registry = slot.lock();
  if (!registry || !registry->alive()) {
    registry = start(node, Options{});
    slot = registry;
  }
  return registry;
}

template <class F>
void GlobalRegistry::on_strand(F&& f) {
  boost::asio::post(strand(), [self = std::static_pointer_cast<GlobalRegistry>(shared_from_this()),
                               f = std::forward<F>(f)]() mutable {
    if (self->alive()) f(*self);
  });
}

void GlobalRegistry::set(const Term& name, const codec::Pid& pid) {
  on_strand([name, pid](GlobalRegistry& self) {
    auto& e = self.state_->names[name];
    e.pid = pid;
    e.via.reset();
    e.generation = ++self.state_->next_generation;
    e.busy = false;  // results of an earlier generation are ignored when they come
    e.again = false;
    e.delay = self.options_.retry_delay;
    e.retry.reset();
    self.publish();
    self.ensure(name, std::nullopt);
  });
}

void GlobalRegistry::forget(const Term& name, const codec::Pid& pid) {
  on_strand([name, pid](GlobalRegistry& self) {
    auto it = self.state_->names.find(name);
    if (it == self.state_->names.end() || it->second.pid != pid) return;
    self.state_->names.erase(it);
    self.publish();
  });
}

std::vector<GlobalRegistry::NameInfo> GlobalRegistry::names() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

void GlobalRegistry::publish() {
  std::vector<NameInfo> names;
  names.reserve(state_->names.size());
  for (const auto& [name, e] : state_->names) names.push_back({name, e.pid, e.via});
  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(names);
  beam_nodes_snapshot_ = state_->beam_nodes;
}

void GlobalRegistry::on_start() {
  std::weak_ptr<GlobalRegistry> weak = std::static_pointer_cast<GlobalRegistry>(shared_from_this());
  node().on_node_event([weak](const cnode::NodeEvent& event) {
    if (auto self = weak.lock()) {
      self->on_strand([event](GlobalRegistry& s) { s.on_node_event(event); });
    }
  });
  for (const auto& event : node().connected_nodes()) on_node_event(event);
}

void GlobalRegistry::on_signal(cnode::Signal signal) { (void)signal; }

void GlobalRegistry::on_exit(const Term& reason) {
  (void)reason;
  state_->names.clear();  // cancels the retry timers, whose handlers hold this process
  state_->beam_nodes.clear();
  publish();
}

void GlobalRegistry::on_node_event(const cnode::NodeEvent& event) {
  auto& nodes = state_->beam_nodes;
  const auto known = std::find(nodes.begin(), nodes.end(), event.node);
  if (event.up) {
    // What a peer is comes from what it said in the handshake: a node that publishes itself
    // (DFLAG_PUBLISHED) is a visible BEAM node whose global we can register through. A hidden
    // peer (a C node, JInterface, erl_call, erl -hidden) is never asked anything unasked: many
    // of them have no rex and drop a connection that sends them what they did not expect.
    if (!event.hidden && known == nodes.end()) add_beam_node(event.node);
    return;
  }
  if (known == nodes.end()) return;
  nodes.erase(known);
  state_->name_servers.erase(event.node);
  std::vector<Term> lost;
  for (auto& [name, e] : state_->names) {
    if (e.via == event.node) {
      e.via.reset();
      lost.push_back(name);
    }
  }
  publish();
  for (const auto& name : lost) ensure(name, std::nullopt);
}

void GlobalRegistry::add_beam_node(Atom peer) {
  state_->beam_nodes.push_back(peer);
  publish();
  // Known before any registration through this node, so the link global makes is recognised.
  fetch_name_server(peer, std::nullopt);
  // Connect to the rest of the cluster too, so that another node is at hand to register
  // through if this one goes away.
  cnode::Node& n = node();
  rpc(n, peer, "erlang"_a, "nodes"_a, codec::list(), options_.rpc_timeout,
      [&n](const RpcOutcome& r) {
        if (!r.ok || !r.value.is_list()) return;
        for (const auto& other : r.value.list_elements()) {
          if (const auto* a = other.get_if<Atom>(); a != nullptr && *a != n.name()) n.connect(*a);
        }
      });
  std::vector<Term> all;
  for (const auto& [name, e] : state_->names) all.push_back(name);
  for (const auto& name : all) ensure(name, peer);
}

std::optional<Atom> GlobalRegistry::beam_node() const {
  std::lock_guard lock(snapshot_mutex_);
  if (beam_nodes_snapshot_.empty()) return std::nullopt;
  return beam_nodes_snapshot_.front();
}

void GlobalRegistry::ensure(const Term& name, std::optional<Atom> through) {
  auto it = state_->names.find(name);
  if (it == state_->names.end()) return;
  auto& e = it->second;
  if (e.busy) {
    e.again = true;
    if (through) e.again_through = through;
    return;
  }
  const auto& nodes = state_->beam_nodes;
  if (through && std::find(nodes.begin(), nodes.end(), *through) == nodes.end()) through.reset();
  if (!through) {
    if (nodes.empty()) return;  // registered when a BEAM node comes up
    through = nodes.front();
  }
  e.busy = true;
  const std::uint64_t generation = e.generation;
  const Atom via = *through;
  auto weak =
      std::weak_ptr<GlobalRegistry>(std::static_pointer_cast<GlobalRegistry>(shared_from_this()));
  rpc(node(), via, "global"_a, "whereis_name"_a, codec::list(name), options_.rpc_timeout,
      [weak, name, generation, via](RpcOutcome r) {
        if (auto self = weak.lock()) {
          self->on_strand([name, generation, via, r = std::move(r)](GlobalRegistry& s) {
            if (!r.ok) {
              s.retry_later(name, generation);
              return;
            }
            s.check_done(name, generation, via, r.value);
          });
        }
      });
}

void GlobalRegistry::check_done(const Term& name, std::uint64_t generation, Atom through,
                                const Term& where) {
  auto it = state_->names.find(name);
  if (it == state_->names.end() || it->second.generation != generation) return;
  auto& e = it->second;
  if (const auto* pid = where.get_if<codec::Pid>()) {
    if (*pid == e.pid) {
      if (!e.via) e.via = through;
      settled(name);
      return;
    }
    // Still the pid of an earlier incarnation (global has not seen it die yet) or someone
    // else's: wait and look again.
    spdlog::info("global name {} is held by {}, not {}; checking again later",
                 codec::to_string(name), codec::to_string(*pid), codec::to_string(e.pid));
    retry_later(name, generation);
    return;
  }
  if (!where.is_atom("undefined")) {
    spdlog::warn("global:whereis_name({}) on {} answered {}; checking again later",
                 codec::to_string(name), through.name(), codec::to_string(where));
    retry_later(name, generation);
    return;
  }
  const codec::Pid pid = e.pid;
  auto weak =
      std::weak_ptr<GlobalRegistry>(std::static_pointer_cast<GlobalRegistry>(shared_from_this()));
  rpc(node(), through, "global"_a, "register_name_external"_a, codec::list(name, pid),
      options_.rpc_timeout, [weak, name, generation, through](RpcOutcome r) {
        if (auto self = weak.lock()) {
          self->on_strand([name, generation, through, r = std::move(r)](GlobalRegistry& s) {
            // A failed call shows as rpc:call shows it, {badrpc, Reason}, not as an answer.
            s.register_done(name, generation, through,
                            r.ok ? r.value : codec::tuple("badrpc"_a, r.value));
          });
        }
      });
}

void GlobalRegistry::register_done(const Term& name, std::uint64_t generation, Atom through,
                                   const Term& answer) {
  auto it = state_->names.find(name);
  if (it == state_->names.end() || it->second.generation != generation) return;
  auto& e = it->second;
  if (!answer.is_atom("yes")) {
    spdlog::info("registering global name {} through {} answered {}; retrying",
                 codec::to_string(name), through.name(), codec::to_string(answer));
    retry_later(name, generation);
    return;
  }
  spdlog::info("registered global name {} for {} through {}", codec::to_string(name),
               codec::to_string(e.pid), through.name());
  e.via = through;
  drop_link(through, e.pid);
  settled(name);
}

void GlobalRegistry::settled(const Term& name) {
  auto& e = state_->names.at(name);
  e.busy = false;
  e.delay = options_.retry_delay;
  publish();
  if (e.again) {
    e.again = false;
    auto next = std::exchange(e.again_through, std::nullopt);
    ensure(name, next);
  }
}

void GlobalRegistry::retry_later(const Term& name, std::uint64_t generation) {
  auto it = state_->names.find(name);
  if (it == state_->names.end() || it->second.generation != generation) return;
  auto& e = it->second;
  e.busy = true;
  const auto delay = std::max(e.delay, options_.retry_delay);
  e.delay = std::min(delay * 2, options_.max_retry_delay);
  e.retry = std::make_unique<boost::asio::steady_timer>(strand());
  e.retry->expires_after(delay);
  e.retry->async_wait([self = std::static_pointer_cast<GlobalRegistry>(shared_from_this()), name,
                       generation](const boost::system::error_code& ec) {
    if (ec || !self->alive()) return;
    auto it2 = self->state_->names.find(name);
    if (it2 == self->state_->names.end() || it2->second.generation != generation) return;
    it2->second.busy = false;
    it2->second.again = false;
    self->ensure(name, std::exchange(it2->second.again_through, std::nullopt));
  });
}

void GlobalRegistry::drop_link(Atom through, const codec::Pid& pid) {
  // global_name_server on the registering node linked to the pid; that link would kill the
  // server when that node dies. global cleans up through its monitors, so the link can go.
  if (auto it = state_->name_servers.find(through); it != state_->name_servers.end()) {
    node().unlink(pid, it->second);
    return;
  }
  fetch_name_server(through, pid);
}

void GlobalRegistry::fetch_name_server(Atom peer, std::optional<codec::Pid> unlink_pid) {
  auto weak =
      std::weak_ptr<GlobalRegistry>(std::static_pointer_cast<GlobalRegistry>(shared_from_this()));
  rpc(node(), peer, "erlang"_a, "whereis"_a, codec::list("global_name_server"_a),
      options_.rpc_timeout, [weak, peer, unlink_pid](RpcOutcome r) {
        const auto* server = r.value.get_if<codec::Pid>();
        if (!r.ok || server == nullptr) return;
        if (auto self = weak.lock()) {
          self->on_strand([peer, unlink_pid, server = *server](GlobalRegistry& s) {
            s.learn_name_server(peer, server);
            if (unlink_pid) s.node().unlink(*unlink_pid, server);
          });
        }
      });
}

void GlobalRegistry::learn_name_server(Atom peer, const codec::Pid& server) {
  state_->name_servers[peer] = server;
  std::lock_guard lock(name_server_pids_mutex_);
  if (std::find(name_server_pids_.begin(), name_server_pids_.end(), server) ==
      name_server_pids_.end()) {
    name_server_pids_.push_back(server);
  }
}

bool GlobalRegistry::is_name_server(const codec::Pid& pid) const {
  std::lock_guard lock(name_server_pids_mutex_);
  return std::find(name_server_pids_.begin(), name_server_pids_.end(), pid) !=
         name_server_pids_.end();
}

}  // namespace cppnode::servers
