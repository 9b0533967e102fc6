// SPDX-License-Identifier: Apache-2.0
#include "link_protocol.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

#include "peer.hpp"
#include "signal_entries.hpp"

namespace cppnode::cnode {

using namespace codec::literals;
namespace {

using codec::Atom;
using codec::Pid;
using codec::Reference;
using codec::Term;

bool is_atom(const Term& t, const Atom& a) {
  const auto* p = t.get_if<Atom>();
  return p != nullptr && *p == a;
}

}  // namespace

LinkProtocol::LinkProtocol(Parts parts, codec::Atom node,
                           const std::atomic<std::uint32_t>& creation, bool watch_calls)
    : procs_(parts.procs),
      names_(parts.names),
      connections_(parts.connections),
      delivery_(parts.delivery),
      exits_(parts.exits),
      node_(node),
      creation_(creation),
      watch_calls_(watch_calls) {}

// link, unlink and monitor change the caller's state on its strand, but send their signal to
// the other side right away from the calling thread: then a later signal from the same thread
// (say, exit_process on the target) cannot overtake it, even when the caller is not running on
// the process's strand. On the strand (the usual case) everything happens before they return.

void LinkProtocol::link(const codec::Pid& from, const codec::Pid& to) {
  auto slot = find_slot(from);
  if (!slot || from == to) {
    return;
  }
  const bool on_own_strand = slot->process->strand().running_in_this_thread();
  if (on_own_strand) {
    if (const LinkInfo* l = find_link(*slot, to); l != nullptr && l->active) {
      return;  // linked already: no LINK, as in ERTS
    }
  }
  std::shared_ptr<Peer> peer;
  SlotPtr target;
  if (is_local(to)) {
    target = find_slot(to);
  } else {
    peer = connections_.peer_for(to.node);
  }
  on_strand(
      slot,
      [this, to, peer](const SlotPtr& s) {
        if (!s->alive.load()) {
          return;
        }
        auto [it, added] = signals_of(*s).links.try_emplace(to, LinkInfo{to, true, 0, peer});
        if (!added) {
          count_remote(*s, it->second.peer, -1);
          it->second.active = true;
          it->second.unlink_id = 0;
          it->second.peer = peer;
        }
        count_remote(*s, peer, +1);
        if (peer && peer->is_down()) {
          receive_nodedown(s, peer->id());
        }
      },
      true);
  if (target) {
    on_strand(target, [this, from](const SlotPtr& ts) { receive_link(ts, from, nullptr); });
  } else if (is_local(to) || !peer) {
    // A dead local pid, or no such node: the link breaks at once.
    const Term& reason = is_local(to) ? noproc() : noconnection();
    on_strand(slot, [this, to, reason](const SlotPtr& s) { receive_exit(s, to, reason, true); });
  } else if (!peer->send(OutLink{from, to})) {
    on_strand(slot, [this, id = peer->id()](const SlotPtr& s) { receive_nodedown(s, id); });
  }
}

void LinkProtocol::unlink(const codec::Pid& from, const codec::Pid& to) {
  auto slot = find_slot(from);
  if (!slot || from == to) {
    return;
  }
  if (slot->process->strand().running_in_this_thread()) {
    if (const LinkInfo* l = find_link(*slot, to); l == nullptr || !l->active) {
      return;  // not linked: nothing to send
    }
  }
  const std::uint64_t id = unlink_counter_.fetch_add(1, std::memory_order_relaxed) + 1;
  on_strand(
      slot,
      [id, to](const SlotPtr& s) {
        LinkInfo* l = find_link(*s, to);
        if (l == nullptr || !l->active) {
          return;
        }
        l->active = false;
        l->unlink_id = id;
      },
      true);
  bool sent = false;
  if (is_local(to)) {
    if (auto t = find_slot(to)) {
      on_strand(t,
                [this, id, from](const SlotPtr& ts) { receive_unlink_id(ts, id, from, nullptr); });
      sent = true;
    }
  } else if (auto peer = connections_.peer_for(to.node)) {
    sent = peer->send(OutUnlink{id, from, to});
  }
  if (!sent) {
    // Nobody will acknowledge: forget the link now.
    on_strand(slot, [id, to](const SlotPtr& s) { receive_unlink_ack(s, id, to); });
  }
}

void LinkProtocol::exit_signal(const codec::Pid& from, const codec::Pid& to,
                               const codec::Term& reason) {
  if (is_local(to)) {
    if (auto t = find_slot(to)) {
      on_strand(t,
                [this, from, reason](const SlotPtr& ts) { receive_exit(ts, from, reason, false); });
    }
    return;
  }
  connections_.send_to(to.node, OutExit{false, from, to, reason});
}

codec::Reference LinkProtocol::monitor(const codec::Pid& watcher, const codec::Term& target,
                                       codec::Atom target_node) {
  if (!target.is<Pid>() && !target.is<Atom>()) {
    throw std::invalid_argument("Node::monitor: the target must be a pid or a name atom, got " +
                                codec::to_string(target));
  }
  auto ref = names_.make_ref();
  auto slot = find_slot(watcher);
  if (!slot) {
    return ref;
  }
  HeldMonitor m;
  m.ref = ref;
  m.target = target;
  m.object = target.is<Pid>() ? target : codec::tuple(target, target_node);
  SlotPtr local;
  bool unreachable = false;
  if (target_node == node_) {
    local = target.is<Pid>() ? find_slot(target.as<Pid>()) : names_.whereis(target.as<Atom>());
    if (local) {
      m.local_target = local->process->self();
    }
  } else {
    m.peer = connections_.peer_for(target_node);
    unreachable = !m.peer;
  }
  const bool noproc_now = target_node == node_ && !local;
  auto peer = m.peer;
  on_strand(
      slot,
      [this, m = std::move(m)](const SlotPtr& s) mutable {
        if (!s->alive.load()) {
          return;
        }
        auto crossing = m.peer;
        const auto key = m.ref;
        signals_of(*s).monitors.emplace(key, std::move(m));
        count_remote(*s, crossing, +1);
        if (crossing && crossing->is_down()) {
          receive_nodedown(s, crossing->id());
        }
      },
      true);
  if (local) {
    on_strand(local, [this, w = Watcher{ref, watcher, target, nullptr}](const SlotPtr& ts) {
      receive_monitor(ts, w);
    });
  } else if (noproc_now || unreachable) {
    const Term& reason = noproc_now ? noproc() : noconnection();
    on_strand(slot, [this, ref, reason](const SlotPtr& s) { receive_down(s, ref, reason); });
  } else if (!peer->send(OutMonitor{false, watcher, target, ref})) {
    on_strand(slot, [this, id = peer->id()](const SlotPtr& s) { receive_nodedown(s, id); });
  }
  return ref;
}

void LinkProtocol::demonitor(const codec::Pid& watcher, const codec::Reference& ref) {
  auto slot = find_slot(watcher);
  if (!slot) {
    return;
  }
  on_strand(
      slot,
      [this, ref](const SlotPtr& s) {
        if (!s->signals) {
          return;
        }
        auto it = s->signals->monitors.find(ref);
        if (it == s->signals->monitors.end()) {
          return;
        }
        HeldMonitor m = std::move(it->second);
        s->signals->monitors.erase(it);
        release_if_empty(*s);
        if (m.local_target) {
          if (auto t = find_slot(*m.local_target)) {
            on_strand(t, [ref = ref](const SlotPtr& ts) { receive_demonitor(ts, ref); });
          }
        } else if (m.peer) {
          count_remote(*s, m.peer, -1);
          m.peer->send(OutMonitor{true, s->process->self(), m.target, ref});
        }
      },
      true);
}

// Links before monitors, so a process both linked and monitoring gets the EXIT before the DOWN.
// The tables are hash maps, so otherwise the signals leave in no particular order: Erlang orders
// signals only per pair of processes, and one watcher's several DOWNs carry distinct references.
void LinkProtocol::tell_exit(const codec::Pid& self, const SignalEntries& signals,
                             const codec::Term& reason) {
  for (const auto& [pid, l] : signals.links) {
    if (l.active) {
      send_link_exit(self, pid, reason, l.peer);
    }
  }
  for (const auto& [ref, w] : signals.watchers) {
    send_down(w, reason);
  }
  for (const auto& [ref, m] : signals.monitors) {
    if (m.local_target) {
      if (auto t = find_slot(*m.local_target)) {
        on_strand(t, [ref = ref](const SlotPtr& ts) { receive_demonitor(ts, ref); });
      }
    } else if (m.peer) {
      m.peer->send(OutMonitor{true, self, m.target, ref});
    }
  }
}

void LinkProtocol::connection_lost(std::uint64_t peer_id) {
  // Links and monitors across this connection fire with noconnection (see receive_nodedown
  // for the race with entries being added right now).
  for (const auto& slot : procs_.snapshot()) {
    if (slot->remote_entries.load(std::memory_order_seq_cst) > 0) {
      on_strand(slot, [this, peer_id](const SlotPtr& s) { receive_nodedown(s, peer_id); });
    }
  }
}

// ---- Strand-side reactions ----

void LinkProtocol::send_link_exit(const codec::Pid& from, const codec::Pid& to,
                                  const codec::Term& reason, const std::shared_ptr<Peer>& peer) {
  if (peer) {
    peer->send(OutExit{true, from, to, reason});
    return;
  }
  if (auto t = find_slot(to)) {
    on_strand(t, [this, from, reason](const SlotPtr& ts) { receive_exit(ts, from, reason, true); });
  }
}

void LinkProtocol::send_down(const Watcher& w, const codec::Term& reason) {
  if (w.call) {
    send_call_down(w, reason);
  } else if (w.peer) {
    w.peer->send(OutMonitorExit{w.from_proc, w.watcher, w.ref, reason});
  } else if (auto ws = find_slot(w.watcher)) {
    on_strand(ws, [this, ref = w.ref, reason](const SlotPtr& s) { receive_down(s, ref, reason); });
  }
}

void LinkProtocol::receive_link(const SlotPtr& slot, const codec::Pid& from,
                                const std::shared_ptr<Peer>& peer) {
  Process& p = *slot->process;
  if (!slot->alive.load()) {
    send_link_exit(p.self(), from, noproc(), peer);
    return;
  }
  // An existing entry (even one being unlinked) wins: see the link protocol.
  if (!signals_of(*slot).links.try_emplace(from, LinkInfo{from, true, 0, peer}).second) {
    return;
  }
  count_remote(*slot, peer, +1);
  if (peer && peer->is_down()) {
    receive_nodedown(slot, peer->id());
  }
}

void LinkProtocol::receive_exit(const SlotPtr& slot, const codec::Pid& from,
                                const codec::Term& reason, bool is_link) {
  Process& p = *slot->process;
  if (!slot->alive.load()) {
    return;
  }
  if (is_link) {
    const LinkInfo* l = find_link(*slot, from);
    if (l == nullptr || !l->active) {
      return;
    }
    count_remote(*slot, l->peer, -1);
    erase_link(*slot, from);
    if (p.trap_exit()) {
      delivery_.run_or_park(slot, ExitSignal{Term(from), reason, true});
    } else if (!is_atom(reason, "normal"_a)) {
      exits_.do_exit(slot, reason);
    }
    return;
  }
  if (is_atom(reason, "kill"_a)) {
    exits_.do_exit(slot, Term("killed"_a));
  } else if (p.trap_exit()) {
    delivery_.run_or_park(slot, ExitSignal{Term(from), reason, false});
  } else if (!is_atom(reason, "normal"_a) || from == p.self()) {
    exits_.do_exit(slot, reason);
  }
}

void LinkProtocol::receive_old_unlink(const SlotPtr& slot, const codec::Pid& from) {
  const LinkInfo* l = find_link(*slot, from);
  if (l == nullptr) {
    return;
  }
  count_remote(*slot, l->peer, -1);
  erase_link(*slot, from);
}

void LinkProtocol::receive_unlink_id(const SlotPtr& slot, std::uint64_t id, const codec::Pid& from,
                                     const std::shared_ptr<Peer>& peer) {
  Process& p = *slot->process;
  if (!slot->alive.load()) {
    return;
  }
  if (const LinkInfo* l = find_link(*slot, from); l != nullptr && l->active) {
    count_remote(*slot, l->peer, -1);
    erase_link(*slot, from);
  }
  const Pid self = p.self();
  if (peer) {
    peer->send(OutUnlinkAck{id, self, from});
  } else if (auto f = find_slot(from)) {
    on_strand(f, [id, self](const SlotPtr& fs) { receive_unlink_ack(fs, id, self); });
  }
}

void LinkProtocol::receive_unlink_ack(const SlotPtr& slot, std::uint64_t id,
                                      const codec::Pid& from) {
  if (const LinkInfo* l = find_link(*slot, from);
      l != nullptr && !l->active && l->unlink_id == id) {
    count_remote(*slot, l->peer, -1);
    erase_link(*slot, from);
  }
}

void LinkProtocol::receive_monitor(const SlotPtr& slot, Watcher watcher) {
  if (!slot->alive.load()) {
    send_down(watcher, noproc());
    return;
  }
  auto peer = watcher.peer;
  const auto ref = watcher.ref;
  if (!signals_of(*slot).watchers.emplace(ref, std::move(watcher)).second) {
    return;  // a peer reusing a reference: the monitor exists already
  }
  count_remote(*slot, peer, +1);
  if (peer && peer->is_down()) {
    receive_nodedown(slot, peer->id());
  }
}

void LinkProtocol::receive_demonitor(const SlotPtr& slot, const codec::Reference& ref) {
  if (!slot->signals) {
    return;
  }
  auto& watchers = slot->signals->watchers;
  auto it = watchers.find(ref);
  if (it == watchers.end()) {
    return;
  }
  count_remote(*slot, it->second.peer, -1);
  watchers.erase(it);
  release_if_empty(*slot);
}

void LinkProtocol::receive_down(const SlotPtr& slot, const codec::Reference& ref,
                                const codec::Term& reason) {
  if (!slot->signals) {
    return;
  }
  auto& monitors = slot->signals->monitors;
  auto it = monitors.find(ref);
  if (it == monitors.end()) {
    return;
  }
  Term object = std::move(it->second.object);
  count_remote(*slot, it->second.peer, -1);
  monitors.erase(it);
  release_if_empty(*slot);
  delivery_.run_or_park(slot, DownSignal{ref, std::move(object), reason});
}

void LinkProtocol::receive_nodedown(const SlotPtr& slot, std::uint64_t peer_id) {
  if (!slot->signals) {
    return;
  }
  // One pass over this process's entries per lost connection: linear in what it holds, once.
  auto crosses = [peer_id](const std::shared_ptr<Peer>& p) { return p && p->id() == peer_id; };
  SignalEntries& signals = *slot->signals;
  std::vector<codec::Pid> broken_links;
  std::erase_if(signals.links, [&](const auto& entry) {
    const LinkInfo& l = entry.second;
    if (!crosses(l.peer)) {
      return false;
    }
    if (l.active) {
      broken_links.push_back(entry.first);
    }
    count_remote(*slot, l.peer, -1);
    return true;
  });
  std::vector<std::pair<codec::Reference, Term>> downs;
  std::erase_if(signals.monitors, [&](const auto& entry) {
    const HeldMonitor& m = entry.second;
    if (!crosses(m.peer)) {
      return false;
    }
    downs.emplace_back(entry.first, m.object);
    count_remote(*slot, m.peer, -1);
    return true;
  });
  std::erase_if(signals.watchers, [&](const auto& entry) {
    if (!crosses(entry.second.peer)) {
      return false;
    }
    count_remote(*slot, entry.second.peer, -1);
    return true;
  });
  release_if_empty(*slot);
  Process& p = *slot->process;
  for (auto& [ref, object] : downs) {
    delivery_.run_or_park(slot, DownSignal{ref, std::move(object), noconnection()});
  }
  for (const auto& from : broken_links) {
    if (!slot->alive.load()) {
      break;
    }
    if (p.trap_exit()) {
      delivery_.run_or_park(slot, ExitSignal{Term(from), noconnection(), true});
    } else {
      exits_.do_exit(slot, noconnection());
    }
  }
}

}  // namespace cppnode::cnode
