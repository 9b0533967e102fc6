// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/pg.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <optional>
#include <stdexcept>
#include <utility>

#include "cppnode/cnode/node.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Atom;
using codec::Pid;
using codec::Term;

namespace {

// Erlang's `From -- Remove`: one occurrence of each removed element goes.
void subtract(std::vector<Pid>& from, const std::vector<Pid>& remove) {
  for (const Pid& p : remove) {
    if (auto it = std::find(from.begin(), from.end(), p); it != from.end()) from.erase(it);
  }
}

std::vector<Pid> difference(std::vector<Pid> from, const std::vector<Pid>& remove) {
  subtract(from, remove);
  return from;
}

Term pid_list(const std::vector<Pid>& pids) {
  std::vector<Term> elements(pids.begin(), pids.end());
  return codec::list_of(std::move(elements));
}

// A pid or a proper list of pids, as `join` and `leave` carry them.
std::optional<std::vector<Pid>> pids_of(const Term& t) {
  if (const auto* p = t.get_if<Pid>()) return std::vector<Pid>{*p};
  const auto* l = t.get_if<codec::List>();
  if (l == nullptr || !l->proper) return std::nullopt;
  std::vector<Pid> out;
  out.reserve(l->elements.size());
  for (const Term& e : l->elements) {
    const auto* p = e.get_if<Pid>();
    if (p == nullptr) return std::nullopt;
    out.push_back(*p);
  }
  return out;
}

// A proper list (groups may be small integers, whose lists come as strings).
std::optional<std::vector<Term>> proper_list(const Term& t) {
  const auto* l = t.get_if<codec::List>();
  if ((l != nullptr && l->proper) || t.is<codec::String>()) return t.list_elements();
  return std::nullopt;
}

}  // namespace

struct PgScope::State {
  struct Group {
    std::vector<Pid> all;    // every member, local ones included (the ETS table's second field)
    std::vector<Pid> local;  // this node's members
  };
  struct LocalMember {
    codec::Reference mref;
    std::vector<Term> groups;  // once per join
  };
  struct Peer {
    codec::Reference mref;  // our monitor of the peer's scope process
    std::map<Term, std::vector<Pid>> groups;
  };
  struct Subscriber {
    Pid pid;
    std::optional<Term> group;  // nullopt: the whole scope
    codec::Reference watch;     // our monitor of the subscriber
  };
  std::map<Term, Group> groups;
  std::map<Term, LocalMember> local;       // by pid
  std::map<Term, Peer> peers;              // by the peer scope's pid
  std::map<Term, Subscriber> subscribers;  // by the reference their notifications carry
  bool running = true;

  void add(const Term& group, const std::vector<Pid>& pids, bool is_local) {
    auto& g = groups[group];
    g.all.insert(g.all.begin(), pids.begin(), pids.end());
    if (is_local) g.local.insert(g.local.begin(), pids.begin(), pids.end());
  }
  void remove(const Term& group, const std::vector<Pid>& pids, bool is_local) {
    auto it = groups.find(group);
    if (it == groups.end()) return;
    subtract(it->second.all, pids);
    if (is_local) subtract(it->second.local, pids);
    if (it->second.all.empty()) groups.erase(it);
  }
};

std::shared_ptr<PgScope> PgScope::start(cnode::Node& node, Atom scope) {
  auto process = std::make_shared<PgScope>(node, scope);
  const Pid pid = node.spawn(process);
  if (!node.register_name(scope, pid)) {
    node.exit_process(pid, "kill"_a);
    throw std::logic_error("PgScope::start: the name '" + std::string(scope.name()) +
                           "' is registered already");
  }
  return process;
}

PgScope::PgScope(cnode::Node& node, Atom scope)
    : cnode::Process(node), scope_(scope), state_(std::make_unique<State>()) {}

void PgScope::on_start() {
  std::weak_ptr<PgScope> weak = std::static_pointer_cast<PgScope>(shared_from_this());
  node().on_node_event([weak](const cnode::NodeEvent& event) {
    if (auto self = weak.lock()) {
      boost::asio::post(self->strand(), [self, event] {
        if (self->alive()) self->on_node_event(event);
      });
    }
  });
  for (const auto& event : node().connected_nodes()) on_node_event(event);
  rediscover_timer_ = std::make_unique<boost::asio::steady_timer>(strand());
  rediscover_later();
}

// A BEAM scope that starts after the connection came up does not tell a hidden node (its
// discovery goes to nodes() only), so nodes whose scope has not answered are asked again.
void PgScope::rediscover_later() {
  rediscover_timer_->expires_after(std::chrono::seconds(2));
  rediscover_timer_->async_wait(
      [self = std::static_pointer_cast<PgScope>(shared_from_this())](boost::system::error_code ec) {
        if (ec || !self->alive()) return;
        for (const auto& event : self->node().connected_nodes()) {
          bool answered = false;
          {
            std::lock_guard lock(self->mutex_);
            for (const auto& [peer, unused] : self->state_->peers) {
              answered = answered || peer.as<Pid>().node == event.node;
            }
          }
          if (!answered) self->on_node_event(event);
        }
        self->rediscover_later();
      });
}

// Only visible nodes, as `pg` discovers only `nodes()`: a hidden peer (another C node, erl_call)
// may have no such scope and may drop a connection that sends it what it did not ask for.
void PgScope::on_node_event(const cnode::NodeEvent& event) {
  if (!event.up || event.hidden) return;
  node().send(self(), scope_, event.node, codec::tuple("discover"_a, self()));
}

void PgScope::on_exit(const Term& reason) {
  (void)reason;
  if (rediscover_timer_) rediscover_timer_->cancel();  // its handler holds this process
  std::lock_guard lock(mutex_);
  *state_ = State{};
  state_->running = false;
}

void PgScope::on_signal(cnode::Signal signal) {
  if (auto* m = std::get_if<cnode::MessageSignal>(&signal)) {
    on_message(m->message);
  } else if (auto* d = std::get_if<cnode::DownSignal>(&signal)) {
    on_down(*d);
  }
}

// ---- Changes, with mutex_ held ----

void PgScope::send_to_peers(const Term& message) {
  for (const auto& [peer, unused] : state_->peers) node().send(self(), peer.as<Pid>(), message);
}

void PgScope::notify(const Term& group, bool joined, const std::vector<Pid>& pids) {
  if (pids.empty()) return;
  for (const auto& [ref, s] : state_->subscribers) {
    if (s.group && *s.group != group) continue;
    node().send(self(), s.pid,
                codec::tuple(ref, joined ? "join"_a : "leave"_a, group, pid_list(pids)));
  }
}

void PgScope::change(const Term& group, const std::vector<Pid>& add, const std::vector<Pid>& remove,
                     bool is_local) {
  state_->remove(group, remove, is_local);
  if (!add.empty()) state_->add(group, add, is_local);
  notify(group, true, add);
  notify(group, false, remove);
}

// ---- The API ----

void PgScope::join(const Term& group, const std::vector<Pid>& pids) {
  for (const Pid& p : pids) {
    if (p.node != node().name()) {
      throw std::invalid_argument("PgScope::join: expected pids of this node, got " +
                                  codec::to_string(Term(p)) + " ({nolocal, Pid})");
    }
  }
  if (pids.empty()) return;
  std::lock_guard lock(mutex_);
  if (!state_->running) return;
  for (const Pid& p : pids) {
    auto [it, added] = state_->local.try_emplace(Term(p));
    if (added) it->second.mref = node().monitor(self(), p, node().name());
    it->second.groups.push_back(group);
  }
  change(group, pids, {}, true);
  send_to_peers(codec::tuple("join"_a, self(), group,
                             pids.size() == 1 ? Term(pids.front()) : pid_list(pids)));
}

void PgScope::join(const Term& group, const Pid& pid) { join(group, std::vector<Pid>{pid}); }

bool PgScope::leave(const Term& group, const Pid& pid) {
  return leave(group, std::vector<Pid>{pid});
}

bool PgScope::leave(const Term& group, const std::vector<Pid>& pids) {
  std::lock_guard lock(mutex_);
  std::vector<Pid> left;
  for (const Pid& p : pids) {
    auto it = state_->local.find(Term(p));
    if (it == state_->local.end()) continue;
    auto& groups = it->second.groups;
    auto g = std::find(groups.begin(), groups.end(), group);
    if (g == groups.end()) continue;
    groups.erase(g);
    left.push_back(p);
    if (groups.empty()) {
      node().demonitor(self(), it->second.mref);
      state_->local.erase(it);
    }
  }
  if (left.empty()) return false;
  change(group, {}, left, true);
  send_to_peers(codec::tuple("leave"_a, self(), pid_list(left), codec::list(group)));
  return true;
}

std::vector<Pid> PgScope::members(const Term& group) const {
  std::lock_guard lock(mutex_);
  auto it = state_->groups.find(group);
  return it == state_->groups.end() ? std::vector<Pid>{} : it->second.all;
}

std::vector<Pid> PgScope::local_members(const Term& group) const {
  std::lock_guard lock(mutex_);
  auto it = state_->groups.find(group);
  return it == state_->groups.end() ? std::vector<Pid>{} : it->second.local;
}

std::vector<Term> PgScope::which_groups() const {
  std::lock_guard lock(mutex_);
  std::vector<Term> out;
  out.reserve(state_->groups.size());
  for (const auto& [group, unused] : state_->groups) out.push_back(group);
  return out;
}

PgScope::Monitor PgScope::monitor_scope(const Pid& subscriber) {
  std::lock_guard lock(mutex_);
  Monitor m{node().make_ref(), {}};
  if (!state_->running) return m;
  for (const auto& [group, g] : state_->groups) m.groups.emplace(group, g.all);
  state_->subscribers.emplace(Term(m.ref),
                              State::Subscriber{subscriber, std::nullopt,
                                                node().monitor(self(), subscriber, node().name())});
  return m;
}

PgScope::Monitor PgScope::monitor(const Pid& subscriber, const Term& group) {
  std::lock_guard lock(mutex_);
  Monitor m{node().make_ref(), {}};
  if (!state_->running) return m;
  if (auto it = state_->groups.find(group); it != state_->groups.end()) {
    m.groups.emplace(group, it->second.all);
  }
  state_->subscribers.emplace(
      Term(m.ref),
      State::Subscriber{subscriber, group, node().monitor(self(), subscriber, node().name())});
  return m;
}

bool PgScope::demonitor(const codec::Reference& ref) {
  std::lock_guard lock(mutex_);
  auto it = state_->subscribers.find(Term(ref));
  if (it == state_->subscribers.end()) return false;
  node().demonitor(self(), it->second.watch);
  state_->subscribers.erase(it);
  return true;
}

// ---- The protocol, on the strand ----

void PgScope::on_message(const Term& message) {
  Pid peer;
  Term x;
  Term y;
  Term sync;
  if (codec::match(message, "discover"_a, &peer) ||
      codec::match(message, "discover"_a, &peer, codec::Wildcard{})) {
    // OTP 29's scopes send {discover, Pid, Version}; a peer that discovered us with the
    // two-element form is kept at version 0, so it talks to us in the messages below.
    std::lock_guard lock(mutex_);
    std::vector<Term> local;
    for (const auto& [group, g] : state_->groups) {
      if (!g.local.empty()) local.push_back(codec::tuple(group, pid_list(g.local)));
    }
    node().send(self(), peer,
                codec::tuple("$gen_cast"_a,
                             codec::tuple("sync"_a, self(), codec::list_of(std::move(local)))));
    if (!state_->peers.contains(Term(peer))) {
      state_->peers.emplace(Term(peer), State::Peer{node().monitor(self(), peer, peer.node), {}});
      node().send(self(), peer, codec::tuple("discover"_a, self()));
    }
  } else if (codec::match(message, "$gen_cast"_a, &sync) &&
             codec::match(sync, "sync"_a, &peer, &x)) {
    on_sync(peer, x);
  } else if (codec::match(message, "join"_a, &peer, &x, &y)) {
    on_remote_change(peer, x, y, true);
  } else if (codec::match(message, "leave"_a, &peer, &y, &x)) {
    on_remote_change(peer, x, y, false);
  } else {
    spdlog::warn("pg scope {}: expected discover, sync, join or leave, got {}", scope_.name(),
                 codec::to_string(message));
  }
}

// A peer's full state: replaces what we knew of it (a peer we did not know is monitored now).
void PgScope::on_sync(const Pid& peer, const Term& groups) {
  std::map<Term, std::vector<Pid>> synced;
  const auto entries = proper_list(groups);
  bool ok = entries.has_value();
  for (std::size_t i = 0; ok && i < entries->size(); ++i) {
    Term group;
    Term pids;
    std::optional<std::vector<Pid>> parsed;
    ok = codec::match((*entries)[i], &group, &pids) && (parsed = pids_of(pids)).has_value();
    if (ok) synced[group] = std::move(*parsed);
  }
  if (!ok) {
    spdlog::warn("pg scope {}: expected a sync of [{{Group, [Pid]}}] from {}, got {}",
                 scope_.name(), codec::to_string(Term(peer)), codec::to_string(groups));
    return;
  }
  std::lock_guard lock(mutex_);
  auto [it, added] = state_->peers.try_emplace(Term(peer));
  if (added) it->second.mref = node().monitor(self(), peer, peer.node);
  auto old = std::move(it->second.groups);
  for (const auto& [group, pids] : synced) {
    auto o = old.find(group);
    const std::vector<Pid> before = o == old.end() ? std::vector<Pid>{} : std::move(o->second);
    if (o != old.end()) old.erase(o);
    change(group, difference(pids, before), difference(before, pids), false);
  }
  for (const auto& [group, pids] : old) change(group, {}, pids, false);
  it->second.groups = std::move(synced);
}

// {join, Peer, Group, PidOrPids} and {leave, Peer, PidOrPids, Groups}; ignored from a scope we
// have not synced with, as `pg` does (a late message of a peer that went down and came back).
void PgScope::on_remote_change(const Pid& peer, const Term& group_or_groups, const Term& pids,
                               bool joined) {
  const auto parsed = pids_of(pids);
  const auto groups =
      joined ? std::optional<std::vector<Term>>({group_or_groups}) : proper_list(group_or_groups);
  if (!parsed || !groups) {
    spdlog::warn("pg scope {}: expected a pid or a list of pids and {} from {}, got {} and {}",
                 scope_.name(), joined ? "a group" : "a list of groups",
                 codec::to_string(Term(peer)), codec::to_string(pids),
                 codec::to_string(group_or_groups));
    return;
  }
  std::lock_guard lock(mutex_);
  auto it = state_->peers.find(Term(peer));
  if (it == state_->peers.end()) return;
  for (const Term& group : *groups) {
    auto& known = it->second.groups[group];
    if (joined) {
      known.insert(known.begin(), parsed->begin(), parsed->end());
      change(group, *parsed, {}, false);
    } else {
      subtract(known, *parsed);
      if (known.empty()) it->second.groups.erase(group);
      change(group, {}, *parsed, false);
    }
  }
}

void PgScope::on_down(const cnode::DownSignal& down) {
  std::lock_guard lock(mutex_);
  if (auto it = state_->local.find(down.object);
      it != state_->local.end() && it->second.mref == down.ref) {
    const Pid pid = down.object.as<Pid>();
    const auto groups = std::move(it->second.groups);
    state_->local.erase(it);
    for (const Term& group : groups) change(group, {}, {pid}, true);
    send_to_peers(codec::tuple("leave"_a, self(), pid, codec::list_of(groups)));
    return;
  }
  if (auto it = state_->peers.find(down.object);
      it != state_->peers.end() && it->second.mref == down.ref) {
    for (const auto& [group, pids] : it->second.groups) change(group, {}, pids, false);
    state_->peers.erase(it);
    return;
  }
  std::erase_if(state_->subscribers, [&](const auto& s) { return s.second.watch == down.ref; });
}

}  // namespace cppnode::servers
