// SPDX-License-Identifier: Apache-2.0
// Local processes and signal routing: the link and monitor protocols of the ERTS "Distribution
// Protocol" document, applied alike to local and remote peers.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>

#include "node_impl.hpp"

namespace cppnode::cnode {
namespace {

using codec::Atom;
using codec::Pid;
using codec::Term;

const Atom& atom_normal() {
  static const Atom a("normal");
  return a;
}
const Term& noproc() {
  static const Term t{Atom("noproc")};
  return t;
}
const Term& noconnection() {
  static const Term t{Atom("noconnection")};
  return t;
}
bool is_atom(const Term& t, const Atom& a) {
  const auto* p = t.get_if<Atom>();
  return p != nullptr && *p == a;
}

void count_remote(ProcessSlot& slot, const std::shared_ptr<Peer>& peer, int delta) {
  if (!peer) {
    return;
  }
  if (delta > 0) {
    slot.remote_entries.fetch_add(1, std::memory_order_seq_cst);
  } else {
    slot.remote_entries.fetch_sub(1, std::memory_order_relaxed);
  }
}

template <class V, class Pred>
auto find_in(V& v, Pred pred) {
  return std::find_if(v.begin(), v.end(), pred);
}

// Runs a callback of the process on its strand; an escaping exception ends the process, as an
// uncaught error ends an Erlang process.
template <class F>
void guarded(NodeImpl& node, const SlotPtr& slot, const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    spdlog::error("process {} crashed in {}: {}", codec::to_string(Term(slot->process->self())),
                  what, e.what());
    node.do_exit(slot, codec::tuple(Atom("cpp_exception"), codec::binary(e.what())));
  } catch (...) {
    spdlog::error("process {} crashed in {} with a non-standard exception",
                  codec::to_string(Term(slot->process->self())), what);
    node.do_exit(slot, codec::tuple(Atom("cpp_exception"), codec::binary("unknown")));
  }
}

// A callback that runs longer than this is slow: the process's next signals from a connection
// wait in its queue instead of holding up the reader (see deliver_from_peer).
constexpr auto slow_callback = std::chrono::microseconds(200);

void invoke_signal(NodeImpl& node, const SlotPtr& slot, Signal signal) {
  Process& p = *slot->process;
  // A process exiting on mailbox overflow skips what is still queued, so that it exits as soon
  // as its current callback returns.
  if (!ProcessTable::alive(p).load(std::memory_order_relaxed) ||
      ProcessTable::overflow(p).load(std::memory_order_relaxed) ==
          ProcessTable::Overflow::exiting) {
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  guarded(node, slot, "on_signal", [&] { ProcessTable::signal(p, std::move(signal)); });
  ProcessTable::slow(p).store(std::chrono::steady_clock::now() - start > slow_callback,
                              std::memory_order_relaxed);
}

}  // namespace

// ---- Processes ----

codec::Pid NodeImpl::spawn(const std::shared_ptr<Process>& process,
                           const std::function<void(const SlotPtr&)>& prepare) {
  if (!process) {
    throw std::invalid_argument("Node::spawn: null process");
  }
  if (&process->node() != &owner) {
    throw std::invalid_argument("Node::spawn: the process was made for another node");
  }
  if (!(process->self().node == Atom())) {
    throw std::logic_error("Node::spawn: process " + codec::to_string(Term(process->self())) +
                           " was already spawned");
  }
  if (stopping.load()) {
    throw std::logic_error("Node::spawn: the node is stopping");
  }
  auto slot = procs.insert(process, name, creation.load(), [this, &prepare](const SlotPtr& s) {
    if (prepare) {
      prepare(s);
    }
    boost::asio::post(ProcessTable::strand(*s->process), [this, s] {
      Process& p = *s->process;
      if (!ProcessTable::alive(p).load()) {
        return;
      }
      guarded(*this, s, "on_start", [&] { ProcessTable::start(p); });
    });
  });
  return slot->process->self();
}

SlotPtr NodeImpl::find_name(codec::Atom n) const {
  std::shared_lock lock(registry_mutex);
  auto it = registry.find(n);
  return it == registry.end() ? nullptr : it->second;
}

codec::Reference NodeImpl::make_ref() {
  const std::uint64_t c = ref_counter.fetch_add(1, std::memory_order_relaxed) + 1;
  codec::Reference r;
  r.node = name;
  r.creation = creation.load(std::memory_order_relaxed);
  r.length = 3;
  r.ids[0] = static_cast<std::uint32_t>(c & 0x3ffffU);
  r.ids[1] = static_cast<std::uint32_t>(c >> 18);
  r.ids[2] = static_cast<std::uint32_t>(c >> 50) ^ ref_salt;
  return r;
}

void NodeImpl::deliver(const SlotPtr& slot, MessageSignal message) {
  if (!enqueue(slot, message.message)) {
    return;
  }
  // defer, not post: the signal runs on this thread once the current handler returns, instead
  // of waking another thread for every message (other threads still take strands when idle).
  boost::asio::defer(ProcessTable::strand(*slot->process),
                     [this, slot, m = std::move(message)]() mutable {
                       dequeue(slot);
                       invoke_signal(*this, slot, std::move(m));
                     });
}

// Running the callback on the reading thread saves two hand-offs per message (reader -> process
// strand -> writer), each of which costs an event-loop round and often a thread wake-up; the
// reply then leaves in the same write as the other replies to that read. A process whose strand
// is busy elsewhere still gets the signal queued behind the others, so order is kept.
void NodeImpl::deliver_from_peer(const SlotPtr& slot, MessageSignal message) {
  Process& p = *slot->process;
  if (ProcessTable::slow(p).load(std::memory_order_relaxed)) {
    deliver(slot, std::move(message));
    return;
  }
  if (!enqueue(slot, message.message)) {
    return;
  }
  boost::asio::dispatch(ProcessTable::strand(p), [this, slot, m = std::move(message)]() mutable {
    dequeue(slot);
    invoke_signal(*this, slot, std::move(m));
  });
}

// ---- Mailbox bound ----

bool NodeImpl::enqueue(const SlotPtr& slot, const codec::Term& message) {
  Process& p = *slot->process;
  const std::size_t max = ProcessTable::max_queued(p).load(std::memory_order_relaxed);
  if (max == 0) {
    ProcessTable::queued(p).fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return enqueue_bounded(slot, max, message);
}

// Compare-and-swap, so that senders on several threads never fill the mailbox past the bound.
bool NodeImpl::enqueue_bounded(const SlotPtr& slot, std::size_t max, const codec::Term& message) {
  Process& p = *slot->process;
  auto& queued = ProcessTable::queued(p);
  if (ProcessTable::overflow(p).load(std::memory_order_relaxed) !=
      ProcessTable::Overflow::exiting) {
    std::size_t n = queued.load(std::memory_order_relaxed);
    while (n < max) {
      if (queued.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
        return true;
      }
    }
    if (p.exempt_from_limit(message)) {
      queued.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  ProcessTable::dropped(p).fetch_add(1, std::memory_order_relaxed);
  overflowed(slot, max);
  return false;
}

void NodeImpl::overflowed(const SlotPtr& slot, std::size_t max) {
  using Overflow = ProcessTable::Overflow;
  Process& p = *slot->process;
  const bool exit = ProcessTable::overflow_policy(p) == OverflowPolicy::exit;
  const Overflow next = exit ? Overflow::exiting : Overflow::dropping;
  auto& state = ProcessTable::overflow(p);
  Overflow now = state.load(std::memory_order_relaxed);
  do {
    if (now == next || now == Overflow::exiting) {
      return;  // this episode was reported
    }
  } while (!state.compare_exchange_weak(now, next, std::memory_order_relaxed));
  if (!exit) {
    spdlog::warn(
        "process {} has {} messages waiting, its mailbox limit (policy drop): dropping further "
        "messages until it catches up",
        describe(slot), max);
    return;
  }
  Term reason = codec::tuple(Atom("mailbox_overflow"), static_cast<std::uint64_t>(max));
  spdlog::warn(
      "process {} has {} messages waiting, its mailbox limit (policy exit): it exits with {} "
      "once its current callback returns",
      describe(slot), max, codec::to_string(reason));
  on_strand(slot, [this, reason = std::move(reason)](const SlotPtr& s) { do_exit(s, reason); });
}

void NodeImpl::dequeue(const SlotPtr& slot) const {
  Process& p = *slot->process;
  if (ProcessTable::queued(p).fetch_sub(1, std::memory_order_relaxed) != 1) {
    return;
  }
  // Emptied: an episode of dropping ends (the next overflow warns again).
  auto now = ProcessTable::Overflow::dropping;
  if (ProcessTable::overflow(p).compare_exchange_strong(now, ProcessTable::Overflow::none,
                                                        std::memory_order_relaxed)) {
    spdlog::info("process {} caught up with its mailbox; {} messages dropped since it started",
                 describe(slot), ProcessTable::dropped(p).load(std::memory_order_relaxed));
  }
}

std::string NodeImpl::describe(const SlotPtr& slot) const {
  const std::string pid = codec::to_string(Term(slot->process->self()));
  std::shared_lock lock(registry_mutex);
  return slot->name ? std::string(slot->name->name()) + " " + pid : pid;
}

void NodeImpl::exit_process(const codec::Pid& pid, const codec::Term& reason) {
  if (auto slot = find_slot(pid)) {
    on_strand(
        slot, [this, reason](const SlotPtr& s) { do_exit(s, reason); }, true);
  }
}

void NodeImpl::do_exit(const SlotPtr& slot, const codec::Term& reason) {
  Process& p = *slot->process;
  if (!ProcessTable::alive(p).exchange(false)) {
    return;
  }
  const Pid self = p.self();
  procs.erase(self);
  {
    std::unique_lock lock(registry_mutex);
    if (slot->name) {
      registry.erase(*slot->name);
      slot->name.reset();
    }
  }
  {
    std::lock_guard lock(alias_mutex);
    std::erase_if(aliases, [&](const auto& kv) { return kv.second == self; });
  }
  auto links = std::exchange(slot->links, {});
  auto watchers = std::exchange(slot->watchers, {});
  auto monitors = std::exchange(slot->monitors, {});
  slot->remote_entries.store(0);
  for (const auto& l : links) {
    if (l.active) {
      send_link_exit(self, l.pid, reason, l.peer);
    }
  }
  for (const auto& w : watchers) {
    send_down(w.watcher, w.from_proc, w.ref, reason, w.peer);
  }
  for (const auto& m : monitors) {
    if (m.local_target) {
      if (auto t = find_slot(*m.local_target)) {
        on_strand(t, [ref = m.ref](const SlotPtr& ts) { receive_demonitor(ts, ref); });
      }
    } else if (m.peer) {
      m.peer->send(OutMonitor{true, self, m.target, m.ref});
    }
  }
  try {
    ProcessTable::exited(p, reason);
  } catch (const std::exception& e) {
    spdlog::error("process {} threw from on_exit: {}", codec::to_string(Term(self)), e.what());
  } catch (...) {
    spdlog::error("process {} threw from on_exit", codec::to_string(Term(self)));
  }
}

// ---- Outgoing signals ----

void NodeImpl::send(const codec::Pid& from, const codec::Pid& to, codec::Term message) {
  (void)from;
  if (is_local(to)) {
    if (auto slot = find_slot(to)) {
      deliver(slot, MessageSignal{std::move(message)});
    }
    return;
  }
  if (send_to_node(to.node, OutSend{to, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
  }
}

void NodeImpl::send_named(const codec::Pid& from, codec::Atom to_name, codec::Atom node,
                          codec::Term message) {
  if (node == name) {
    if (auto slot = find_name(to_name)) {
      deliver(slot, MessageSignal{std::move(message)});
    }
    return;
  }
  if (send_to_node(node, OutRegSend{from, to_name, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
  }
}

void NodeImpl::send_alias(const codec::Pid& from, const codec::Reference& alias,
                          const codec::Pid& fallback, codec::Term message) {
  if (alias.node == name) {
    std::optional<Pid> target;
    {
      std::lock_guard lock(alias_mutex);
      if (auto it = aliases.find(alias); it != aliases.end()) {
        target = it->second;
      }
    }
    if (target) {
      send(from, *target, std::move(message));
    }
    return;
  }
  if (send_to_node(alias.node, OutAliasSend{from, alias, fallback, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
  }
}

codec::Reference NodeImpl::make_alias(const codec::Pid& owner_pid) {
  auto ref = make_ref();
  std::lock_guard lock(alias_mutex);
  aliases.emplace(ref, owner_pid);
  return ref;
}

void NodeImpl::remove_alias(const codec::Reference& alias) {
  std::lock_guard lock(alias_mutex);
  aliases.erase(alias);
}

// link, unlink and monitor change the caller's state on its strand, but send their signal to
// the other side right away from the calling thread: then a later signal from the same thread
// (say, exit_process on the target) cannot overtake it, even when the caller is not running on
// the process's strand. On the strand (the usual case) everything happens before they return.

void NodeImpl::link(const codec::Pid& from, const codec::Pid& to) {
  auto slot = find_slot(from);
  if (!slot || from == to) {
    return;
  }
  const bool on_own_strand = ProcessTable::strand(*slot->process).running_in_this_thread();
  if (on_own_strand) {
    auto it = find_in(slot->links, [&](const LinkInfo& l) { return l.pid == to; });
    if (it != slot->links.end() && it->active) {
      return;  // linked already: no LINK, as in ERTS
    }
  }
  std::shared_ptr<Peer> peer;
  SlotPtr target;
  if (is_local(to)) {
    target = find_slot(to);
  } else {
    peer = peer_for(to.node);
  }
  on_strand(
      slot,
      [this, to, peer](const SlotPtr& s) {
        if (!ProcessTable::alive(*s->process).load()) {
          return;
        }
        auto it = find_in(s->links, [&](const LinkInfo& l) { return l.pid == to; });
        if (it != s->links.end()) {
          count_remote(*s, it->peer, -1);
          it->active = true;
          it->unlink_id = 0;
          it->peer = peer;
        } else {
          s->links.push_back(LinkInfo{to, true, 0, peer});
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

void NodeImpl::unlink(const codec::Pid& from, const codec::Pid& to) {
  auto slot = find_slot(from);
  if (!slot || from == to) {
    return;
  }
  if (ProcessTable::strand(*slot->process).running_in_this_thread()) {
    auto it = find_in(slot->links, [&](const LinkInfo& l) { return l.pid == to; });
    if (it == slot->links.end() || !it->active) {
      return;  // not linked: nothing to send
    }
  }
  const std::uint64_t id = unlink_counter.fetch_add(1, std::memory_order_relaxed) + 1;
  on_strand(
      slot,
      [id, to](const SlotPtr& s) {
        auto it = find_in(s->links, [&](const LinkInfo& l) { return l.pid == to; });
        if (it == s->links.end() || !it->active) {
          return;
        }
        it->active = false;
        it->unlink_id = id;
      },
      true);
  bool sent = false;
  if (is_local(to)) {
    if (auto t = find_slot(to)) {
      on_strand(t,
                [this, id, from](const SlotPtr& ts) { receive_unlink_id(ts, id, from, nullptr); });
      sent = true;
    }
  } else if (auto peer = peer_for(to.node)) {
    sent = peer->send(OutUnlink{id, from, to});
  }
  if (!sent) {
    // Nobody will acknowledge: forget the link now.
    on_strand(slot, [id, to](const SlotPtr& s) { receive_unlink_ack(s, id, to); });
  }
}

void NodeImpl::exit_signal(const codec::Pid& from, const codec::Pid& to,
                           const codec::Term& reason) {
  if (is_local(to)) {
    if (auto t = find_slot(to)) {
      on_strand(t,
                [this, from, reason](const SlotPtr& ts) { receive_exit(ts, from, reason, false); });
    }
    return;
  }
  send_to_node(to.node, OutExit{false, from, to, reason});
}

codec::Reference NodeImpl::monitor(const codec::Pid& watcher, const codec::Term& target,
                                   codec::Atom target_node) {
  if (!target.is<Pid>() && !target.is<Atom>()) {
    throw std::invalid_argument("Node::monitor: the target must be a pid or a name atom, got " +
                                codec::to_string(target));
  }
  auto ref = make_ref();
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
  if (target_node == name) {
    local = target.is<Pid>() ? find_slot(target.as<Pid>()) : find_name(target.as<Atom>());
    if (local) {
      m.local_target = local->process->self();
    }
  } else {
    m.peer = peer_for(target_node);
    unreachable = !m.peer;
  }
  const bool noproc_now = target_node == name && !local;
  auto peer = m.peer;
  on_strand(
      slot,
      [this, m = std::move(m)](const SlotPtr& s) mutable {
        if (!ProcessTable::alive(*s->process).load()) {
          return;
        }
        auto crossing = m.peer;
        s->monitors.push_back(std::move(m));
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

void NodeImpl::demonitor(const codec::Pid& watcher, const codec::Reference& ref) {
  auto slot = find_slot(watcher);
  if (!slot) {
    return;
  }
  on_strand(
      slot,
      [this, ref](const SlotPtr& s) {
        auto it = find_in(s->monitors, [&](const HeldMonitor& m) { return m.ref == ref; });
        if (it == s->monitors.end()) {
          return;
        }
        HeldMonitor m = std::move(*it);
        s->monitors.erase(it);
        if (m.local_target) {
          if (auto t = find_slot(*m.local_target)) {
            on_strand(t, [ref](const SlotPtr& ts) { receive_demonitor(ts, ref); });
          }
        } else if (m.peer) {
          count_remote(*s, m.peer, -1);
          m.peer->send(OutMonitor{true, s->process->self(), m.target, ref});
        }
      },
      true);
}

// ---- Strand-side reactions ----

void NodeImpl::send_link_exit(const codec::Pid& from, const codec::Pid& to,
                              const codec::Term& reason, const std::shared_ptr<Peer>& peer) {
  if (peer) {
    peer->send(OutExit{true, from, to, reason});
    return;
  }
  if (auto t = find_slot(to)) {
    on_strand(t, [this, from, reason](const SlotPtr& ts) { receive_exit(ts, from, reason, true); });
  }
}

void NodeImpl::send_down(const codec::Pid& watcher, const codec::Term& from_proc,
                         const codec::Reference& ref, const codec::Term& reason,
                         const std::shared_ptr<Peer>& peer) {
  if (peer) {
    peer->send(OutMonitorExit{from_proc, watcher, ref, reason});
    return;
  }
  if (auto w = find_slot(watcher)) {
    on_strand(w, [this, ref, reason](const SlotPtr& ws) { receive_down(ws, ref, reason); });
  }
}

void NodeImpl::receive_link(const SlotPtr& slot, const codec::Pid& from,
                            const std::shared_ptr<Peer>& peer) {
  Process& p = *slot->process;
  if (!ProcessTable::alive(p).load()) {
    send_link_exit(p.self(), from, noproc(), peer);
    return;
  }
  // An existing entry (even one being unlinked) wins: see the link protocol.
  if (find_in(slot->links, [&](const LinkInfo& l) { return l.pid == from; }) != slot->links.end()) {
    return;
  }
  slot->links.push_back(LinkInfo{from, true, 0, peer});
  count_remote(*slot, peer, +1);
  if (peer && peer->is_down()) {
    receive_nodedown(slot, peer->id());
  }
}

void NodeImpl::receive_exit(const SlotPtr& slot, const codec::Pid& from, const codec::Term& reason,
                            bool is_link) {
  Process& p = *slot->process;
  if (!ProcessTable::alive(p).load()) {
    return;
  }
  if (is_link) {
    auto it = find_in(slot->links, [&](const LinkInfo& l) { return l.pid == from; });
    if (it == slot->links.end() || !it->active) {
      return;
    }
    count_remote(*slot, it->peer, -1);
    slot->links.erase(it);
    if (p.trap_exit()) {
      invoke_signal(*this, slot, ExitSignal{Term(from), reason, true});
    } else if (!is_atom(reason, atom_normal())) {
      do_exit(slot, reason);
    }
    return;
  }
  static const Atom kill("kill");
  if (is_atom(reason, kill)) {
    do_exit(slot, Term(Atom("killed")));
  } else if (p.trap_exit()) {
    invoke_signal(*this, slot, ExitSignal{Term(from), reason, false});
  } else if (!is_atom(reason, atom_normal()) || from == p.self()) {
    do_exit(slot, reason);
  }
}

void NodeImpl::receive_unlink_id(const SlotPtr& slot, std::uint64_t id, const codec::Pid& from,
                                 const std::shared_ptr<Peer>& peer) {
  Process& p = *slot->process;
  if (!ProcessTable::alive(p).load()) {
    return;
  }
  auto it = find_in(slot->links, [&](const LinkInfo& l) { return l.pid == from; });
  if (it != slot->links.end() && it->active) {
    count_remote(*slot, it->peer, -1);
    slot->links.erase(it);
  }
  const Pid self = p.self();
  if (peer) {
    peer->send(OutUnlinkAck{id, self, from});
  } else if (auto f = find_slot(from)) {
    on_strand(f, [id, self](const SlotPtr& fs) { receive_unlink_ack(fs, id, self); });
  }
}

void NodeImpl::receive_unlink_ack(const SlotPtr& slot, std::uint64_t id, const codec::Pid& from) {
  auto it = find_in(slot->links, [&](const LinkInfo& l) { return l.pid == from; });
  if (it != slot->links.end() && !it->active && it->unlink_id == id) {
    count_remote(*slot, it->peer, -1);
    slot->links.erase(it);
  }
}

void NodeImpl::receive_monitor(const SlotPtr& slot, Watcher watcher) {
  Process& p = *slot->process;
  if (!ProcessTable::alive(p).load()) {
    send_down(watcher.watcher, watcher.from_proc, watcher.ref, noproc(), watcher.peer);
    return;
  }
  auto peer = watcher.peer;
  slot->watchers.push_back(std::move(watcher));
  count_remote(*slot, peer, +1);
  if (peer && peer->is_down()) {
    receive_nodedown(slot, peer->id());
  }
}

void NodeImpl::receive_demonitor(const SlotPtr& slot, const codec::Reference& ref) {
  auto it = find_in(slot->watchers, [&](const Watcher& w) { return w.ref == ref; });
  if (it == slot->watchers.end()) {
    return;
  }
  count_remote(*slot, it->peer, -1);
  slot->watchers.erase(it);
}

void NodeImpl::receive_down(const SlotPtr& slot, const codec::Reference& ref,
                            const codec::Term& reason) {
  auto it = find_in(slot->monitors, [&](const HeldMonitor& m) { return m.ref == ref; });
  if (it == slot->monitors.end()) {
    return;
  }
  Term object = std::move(it->object);
  count_remote(*slot, it->peer, -1);
  slot->monitors.erase(it);
  invoke_signal(*this, slot, DownSignal{ref, std::move(object), reason});
}

void NodeImpl::receive_nodedown(const SlotPtr& slot, std::uint64_t peer_id) {
  auto crosses = [peer_id](const std::shared_ptr<Peer>& p) { return p && p->id() == peer_id; };
  std::vector<codec::Pid> broken_links;
  std::erase_if(slot->links, [&](const LinkInfo& l) {
    if (!crosses(l.peer)) {
      return false;
    }
    if (l.active) {
      broken_links.push_back(l.pid);
    }
    count_remote(*slot, l.peer, -1);
    return true;
  });
  std::vector<std::pair<codec::Reference, Term>> downs;
  std::erase_if(slot->monitors, [&](const HeldMonitor& m) {
    if (!crosses(m.peer)) {
      return false;
    }
    downs.emplace_back(m.ref, m.object);
    count_remote(*slot, m.peer, -1);
    return true;
  });
  std::erase_if(slot->watchers, [&](const Watcher& w) {
    if (!crosses(w.peer)) {
      return false;
    }
    count_remote(*slot, w.peer, -1);
    return true;
  });
  Process& p = *slot->process;
  for (auto& [ref, object] : downs) {
    invoke_signal(*this, slot, DownSignal{ref, std::move(object), noconnection()});
  }
  for (const auto& from : broken_links) {
    if (!ProcessTable::alive(p).load()) {
      break;
    }
    if (p.trap_exit()) {
      invoke_signal(*this, slot, ExitSignal{Term(from), noconnection(), true});
    } else {
      do_exit(slot, noconnection());
    }
  }
}

// ---- Incoming control messages ----

bool NodeImpl::handle_control(const std::shared_ptr<Peer>& peer, detail::ControlMessage& m,
                              std::string& error) {
  using Kind = detail::ControlMessage::Kind;
  auto local_slot = [&](const Pid& pid) -> SlotPtr {
    return is_local(pid) ? find_slot(pid) : nullptr;
  };
  auto resolve = [&](const Term& target) -> SlotPtr {
    if (const auto* pid = target.get_if<Pid>()) {
      return local_slot(*pid);
    }
    return find_name(target.as<Atom>());
  };
  // A message's payload is decoded once its receiver is known to exist (below), as the BEAM
  // drops a message to a missing process or name undecoded; other payloads (exit reasons,
  // spawn arguments) are decoded here.
  const bool is_message =
      m.kind == Kind::send || m.kind == Kind::reg_send || m.kind == Kind::alias_send;
  if (!is_message && !m.payload_bytes.empty() && !take_payload(*peer, m, error)) {
    return error.empty();
  }
  switch (m.kind) {
    case Kind::send:
      messages_in.fetch_add(1, std::memory_order_relaxed);
      if (auto slot = local_slot(m.to)) {
        if (!take_payload(*peer, m, error)) return error.empty();
        deliver_from_peer(slot, MessageSignal{std::move(m.payload)});
      }
      return true;
    case Kind::reg_send:
      messages_in.fetch_add(1, std::memory_order_relaxed);
      if (auto slot = find_name(m.to_name)) {
        if (!take_payload(*peer, m, error)) return error.empty();
        deliver_from_peer(slot, MessageSignal{std::move(m.payload)});
      }
      return true;
    case Kind::alias_send: {
      messages_in.fetch_add(1, std::memory_order_relaxed);
      std::optional<Pid> target;
      {
        std::lock_guard lock(alias_mutex);
        if (auto it = aliases.find(m.ref); it != aliases.end()) {
          target = it->second;
        }
      }
      if (target) {
        if (auto slot = find_slot(*target)) {
          if (!take_payload(*peer, m, error)) return error.empty();
          deliver_from_peer(slot, MessageSignal{std::move(m.payload)});
        }
      }
      return true;
    }
    case Kind::link:
      if (auto slot = local_slot(m.to)) {
        on_strand_from_peer(
            slot, [this, from = m.from, peer](const SlotPtr& s) { receive_link(s, from, peer); });
      } else {
        peer->send(OutExit{true, m.to, m.from, noproc()});
      }
      return true;
    case Kind::unlink:
      if (auto slot = local_slot(m.to)) {
        on_strand_from_peer(slot, [from = m.from](const SlotPtr& s) {
          auto it = find_in(s->links, [&](const LinkInfo& l) { return l.pid == from; });
          if (it == s->links.end()) {
            return;
          }
          count_remote(*s, it->peer, -1);
          s->links.erase(it);
        });
      }
      return true;
    case Kind::unlink_id:
      if (auto slot = local_slot(m.to)) {
        on_strand_from_peer(slot, [this, id = m.id, from = m.from, peer](const SlotPtr& s) {
          receive_unlink_id(s, id, from, peer);
        });
      }
      return true;
    case Kind::unlink_id_ack:
      if (auto slot = local_slot(m.to)) {
        on_strand_from_peer(slot, [id = m.id, from = m.from](const SlotPtr& s) {
          receive_unlink_ack(s, id, from);
        });
      }
      return true;
    case Kind::exit:
    case Kind::exit2:
      if (auto slot = local_slot(m.to)) {
        on_strand_from_peer(slot, [this, from = m.from, reason = std::move(m.payload),
                                   is_link = m.kind == Kind::exit](const SlotPtr& s) {
          receive_exit(s, from, reason, is_link);
        });
      }
      return true;
    case Kind::monitor:
      if (const auto* pid = m.target.get_if<Pid>(); pid != nullptr && !is_local(*pid)) {
        error = "MONITOR_P for " + codec::to_string(m.target) + ", a pid of another node";
        return false;
      }
      if (auto slot = resolve(m.target)) {
        on_strand_from_peer(slot, [this, w = Watcher{m.ref, m.from, m.target, peer}](
                                      const SlotPtr& s) { receive_monitor(s, w); });
      } else {
        peer->send(OutMonitorExit{m.target, m.from, m.ref, noproc()});
      }
      return true;
    case Kind::demonitor:
      if (auto slot = resolve(m.target)) {
        on_strand_from_peer(slot, [ref = m.ref](const SlotPtr& s) { receive_demonitor(s, ref); });
      }
      return true;
    case Kind::monitor_exit:
      if (auto slot = local_slot(m.to)) {
        on_strand_from_peer(slot, [this, ref = m.ref, reason = std::move(m.payload)](
                                      const SlotPtr& s) { receive_down(s, ref, reason); });
      }
      return true;
    case Kind::spawn_request:
      handle_spawn_request(peer, m);
      return true;
    case Kind::ignored:
      spdlog::debug("ignoring control operation {} from {}", m.op, peer->name().name());
      return true;
  }
  error = "unhandled control message kind";
  return false;
}

}  // namespace cppnode::cnode
