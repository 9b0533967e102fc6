// SPDX-License-Identifier: Apache-2.0
// Local processes and signal routing: the link and monitor protocols of the ERTS "Distribution
// Protocol" document, applied alike to local and remote peers.
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <stdexcept>
#include <utility>
#include <variant>

#include "node_impl.hpp"

namespace cppnode::cnode {

using namespace codec::literals;
namespace {

using codec::Atom;
using codec::Pid;
using codec::Reference;
using codec::Term;

const Term& noproc() {
  static const Term t{"noproc"_a};
  return t;
}
const Term& noconnection() {
  static const Term t{"noconnection"_a};
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

LinkInfo* find_link(ProcessSlot& slot, const Pid& pid) {
  if (!slot.signals) {
    return nullptr;
  }
  auto it = slot.signals->links.find(pid);
  return it == slot.signals->links.end() ? nullptr : &it->second;
}

// Gives back the tables of a process whose links and monitors are all gone once they have grown:
// a burst of 100,000 monitors should not pin its buckets for the process's life, while a server
// monitored by one caller at a time keeps its small tables instead of remaking them per call.
void release_if_empty(ProcessSlot& slot) {
  constexpr std::size_t small_tables = 64;  // buckets, over the three tables
  const auto& t = slot.signals;
  if (t && t->empty() &&
      t->links.bucket_count() + t->monitors.bucket_count() + t->watchers.bucket_count() >
          small_tables) {
    slot.signals.reset();
  }
}

void erase_link(ProcessSlot& slot, const Pid& pid) {
  slot.signals->links.erase(pid);
  release_if_empty(slot);
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
    node.do_exit(slot, codec::tuple("cpp_exception"_a, codec::binary(e.what())));
  } catch (...) {
    spdlog::error("process {} crashed in {} with a non-standard exception",
                  codec::to_string(Term(slot->process->self())), what);
    node.do_exit(slot, codec::tuple("cpp_exception"_a, codec::binary("unknown")));
  }
}

// A callback that runs longer than this is slow: the process's next signals from a connection
// wait in its queue, for any thread to take, instead of holding up the reader (see
// deliver_from_peer). Well above a quick callback's few microseconds, and low enough that
// servers of ~100 us per call run in parallel under --threads N (at 200 us, 4 servers of
// ~150 us per call all ran on the reading thread: --threads 2 served 1.03x the calls of 1).
constexpr auto slow_callback = std::chrono::microseconds(50);

// The process whose callback runs on this thread, for a send that finds its connection busy.
thread_local ProcessSlot* running_slot = nullptr;

void run_signal(NodeImpl& node, const SlotPtr& slot, Signal signal) {
  Process& p = *slot->process;
  const auto start = std::chrono::steady_clock::now();
  ProcessSlot* const outer = std::exchange(running_slot, slot.get());
  guarded(node, slot, "on_signal", [&] { ProcessTable::signal(p, std::move(signal)); });
  running_slot = outer;
  ProcessTable::slow(p).store(std::chrono::steady_clock::now() - start > slow_callback,
                              std::memory_order_relaxed);
  auto& suspension = slot->suspension;
  if (suspension && suspension->busy_peer) {
    suspension->suspended =
        std::exchange(suspension->busy_peer, nullptr)->suspend_until_not_busy(slot);
  }
}

void invoke_signal(NodeImpl& node, const SlotPtr& slot, Signal signal) {
  Process& p = *slot->process;
  // A process exiting on mailbox overflow skips what is still queued, so that it exits as soon
  // as its current callback returns.
  if (!ProcessTable::alive(p).load(std::memory_order_relaxed) ||
      ProcessTable::overflow(p).load(std::memory_order_relaxed) ==
          ProcessTable::Overflow::exiting) {
    return;
  }
  if (auto& suspension = slot->suspension;
      suspension && (suspension->suspended || !suspension->parked.empty())) {
    // Still in the mailbox: it counts against the mailbox bound until it is handled.
    if (std::holds_alternative<MessageSignal>(signal)) {
      ProcessTable::queued(p).fetch_add(1, std::memory_order_relaxed);
    }
    suspension->parked.push_back(std::move(signal));
    return;
  }
  run_signal(node, slot, std::move(signal));
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
  Term reason = codec::tuple("mailbox_overflow"_a, static_cast<std::uint64_t>(max));
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

// ---- Busy connections ----

void NodeImpl::met_busy_peer(const std::shared_ptr<Peer>& peer) {
  ProcessSlot* const slot = running_slot;
  if (slot == nullptr) {
    return;  // not a process (a timer, the node itself): the BEAM does not suspend those either
  }
  if (!slot->suspension) {
    slot->suspension = std::make_unique<Suspension>();
  }
  slot->suspension->busy_peer = peer;
}

void NodeImpl::resume(const SlotPtr& slot) {
  on_strand(slot, [this](const SlotPtr& s) {
    auto& suspension = s->suspension;
    if (!suspension) {
      return;
    }
    suspension->suspended = false;
    while (suspension && !suspension->suspended && !suspension->parked.empty()) {
      Signal next = std::move(suspension->parked.front());
      suspension->parked.pop_front();
      if (std::holds_alternative<MessageSignal>(next)) {
        dequeue(s);
      }
      Process& p = *s->process;
      if (ProcessTable::alive(p).load(std::memory_order_relaxed) &&
          ProcessTable::overflow(p).load(std::memory_order_relaxed) !=
              ProcessTable::Overflow::exiting) {
        run_signal(*this, s, std::move(next));
      }
    }
    if (suspension && !suspension->suspended && suspension->parked.empty()) {
      suspension.reset();
    }
  });
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
    if (slot->aliases) {
      for (const auto& alias : *slot->aliases) {
        aliases.erase(alias);
      }
      slot->aliases.reset();
    }
  }
  const std::unique_ptr<SignalEntries> signals = std::move(slot->signals);
  slot->remote_entries.store(0);
  slot->suspension.reset();  // what waited for a busy connection dies with the process
  if (signals) {
    tell_exit(self, *signals, reason);
  }
  try {
    ProcessTable::exited(p, reason);
  } catch (const std::exception& e) {
    spdlog::error("process {} threw from on_exit: {}", codec::to_string(Term(self)), e.what());
  } catch (...) {
    spdlog::error("process {} threw from on_exit", codec::to_string(Term(self)));
  }
}

// Links before monitors, so a process both linked and monitoring gets the EXIT before the DOWN.
// The tables are hash maps, so otherwise the signals leave in no particular order: Erlang orders
// signals only per pair of processes, and one watcher's several DOWNs carry distinct references.
void NodeImpl::tell_exit(const codec::Pid& self, const SignalEntries& signals,
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
    if (auto target = alias_owner_pid(alias)) {
      send(from, *target, std::move(message));
    }
    return;
  }
  if (send_to_node(alias.node, OutAliasSend{from, alias, fallback, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
    if (watches_calls()) {
      forget_call(from, alias);
    }
  }
}

std::optional<codec::Pid> NodeImpl::alias_owner_pid(const codec::Reference& alias) {
  std::lock_guard lock(alias_mutex);
  if (auto it = aliases.find(alias); it != aliases.end()) {
    return it->second.owner;
  }
  return std::nullopt;
}

SlotPtr NodeImpl::alias_owner(const codec::Reference& alias) {
  auto owner_pid = alias_owner_pid(alias);
  return owner_pid ? find_slot(*owner_pid) : nullptr;
}

codec::Reference NodeImpl::make_alias(const codec::Pid& owner_pid) {
  auto ref = make_ref();
  auto slot = find_slot(owner_pid);
  if (!slot) {
    return ref;  // the owner is gone: an alias that reaches nobody, as it would be in ERTS
  }
  std::lock_guard lock(alias_mutex);
  // do_exit clears alive before it drops the aliases under this lock: checked here, an alias
  // made while the owner exits is either dropped by do_exit or never registered.
  if (!ProcessTable::alive(*slot->process).load()) {
    return ref;
  }
  if (!slot->aliases) {
    slot->aliases = std::make_unique<std::unordered_set<codec::Reference, RefHash>>();
  }
  slot->aliases->insert(ref);
  aliases.emplace(ref, AliasEntry{owner_pid, slot.get()});
  return ref;
}

void NodeImpl::remove_alias(const codec::Reference& alias) {
  std::lock_guard lock(alias_mutex);
  auto it = aliases.find(alias);
  if (it == aliases.end()) {
    return;
  }
  // The slot is alive while its aliases are registered: do_exit drops them under this lock.
  it->second.slot->aliases->erase(alias);
  aliases.erase(it);
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
    if (const LinkInfo* l = find_link(*slot, to); l != nullptr && l->active) {
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

void NodeImpl::unlink(const codec::Pid& from, const codec::Pid& to) {
  auto slot = find_slot(from);
  if (!slot || from == to) {
    return;
  }
  if (ProcessTable::strand(*slot->process).running_in_this_thread()) {
    if (const LinkInfo* l = find_link(*slot, to); l == nullptr || !l->active) {
      return;  // not linked: nothing to send
    }
  }
  const std::uint64_t id = unlink_counter.fetch_add(1, std::memory_order_relaxed) + 1;
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

void NodeImpl::demonitor(const codec::Pid& watcher, const codec::Reference& ref) {
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

void NodeImpl::send_down(const Watcher& w, const codec::Term& reason) {
  if (w.call) {
    send_call_down(w, reason);
  } else if (w.peer) {
    w.peer->send(OutMonitorExit{w.from_proc, w.watcher, w.ref, reason});
  } else if (auto ws = find_slot(w.watcher)) {
    on_strand(ws, [this, ref = w.ref, reason](const SlotPtr& s) { receive_down(s, ref, reason); });
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
  if (!signals_of(*slot).links.try_emplace(from, LinkInfo{from, true, 0, peer}).second) {
    return;
  }
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
    const LinkInfo* l = find_link(*slot, from);
    if (l == nullptr || !l->active) {
      return;
    }
    count_remote(*slot, l->peer, -1);
    erase_link(*slot, from);
    if (p.trap_exit()) {
      invoke_signal(*this, slot, ExitSignal{Term(from), reason, true});
    } else if (!is_atom(reason, "normal"_a)) {
      do_exit(slot, reason);
    }
    return;
  }
  if (is_atom(reason, "kill"_a)) {
    do_exit(slot, Term("killed"_a));
  } else if (p.trap_exit()) {
    invoke_signal(*this, slot, ExitSignal{Term(from), reason, false});
  } else if (!is_atom(reason, "normal"_a) || from == p.self()) {
    do_exit(slot, reason);
  }
}

void NodeImpl::receive_unlink_id(const SlotPtr& slot, std::uint64_t id, const codec::Pid& from,
                                 const std::shared_ptr<Peer>& peer) {
  Process& p = *slot->process;
  if (!ProcessTable::alive(p).load()) {
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

void NodeImpl::receive_unlink_ack(const SlotPtr& slot, std::uint64_t id, const codec::Pid& from) {
  if (const LinkInfo* l = find_link(*slot, from);
      l != nullptr && !l->active && l->unlink_id == id) {
    count_remote(*slot, l->peer, -1);
    erase_link(*slot, from);
  }
}

void NodeImpl::receive_monitor(const SlotPtr& slot, Watcher watcher) {
  Process& p = *slot->process;
  if (!ProcessTable::alive(p).load()) {
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

void NodeImpl::receive_demonitor(const SlotPtr& slot, const codec::Reference& ref) {
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

void NodeImpl::receive_down(const SlotPtr& slot, const codec::Reference& ref,
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
  invoke_signal(*this, slot, DownSignal{ref, std::move(object), reason});
}

void NodeImpl::receive_nodedown(const SlotPtr& slot, std::uint64_t peer_id) {
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

namespace {

namespace incoming = detail::incoming;

// One incoming control message, by operation, on the peer's strand. False closes the
// connection (with `error` set).
struct ControlHandler {
  NodeImpl& node;
  const std::shared_ptr<Peer>& peer;
  detail::ControlMessage& m;
  std::string& error;

  [[nodiscard]] SlotPtr local_slot(const Pid& pid) const {
    return node.is_local(pid) ? node.find_slot(pid) : nullptr;
  }
  // A pid or a registered name.
  [[nodiscard]] SlotPtr resolve(const Term& target) const {
    if (const auto* pid = target.get_if<Pid>()) return local_slot(*pid);
    return node.find_name(target.as<Atom>());
  }
  // A message: decoded only for a receiver that exists (or a call the node answers itself).
  [[nodiscard]] bool message(const Term& target, const SlotPtr& slot) const {
    node.messages_in.fetch_add(1, std::memory_order_relaxed);
    const bool calls_watched_here = node.watches_calls();
    if (!slot && !calls_watched_here) return true;
    if (!node.take_payload(*peer, m, error)) return error.empty();
    if (!slot) {
      node.answer_call_to_missing(peer, target, m.payload);
      return true;
    }
    if (calls_watched_here) node.watch_call(peer, slot, target, m.payload);
    node.deliver_from_peer(slot, MessageSignal{std::move(m.payload)});
    return true;
  }

  bool operator()(const incoming::Send& op) const {
    return message(Term(op.to), local_slot(op.to));
  }
  bool operator()(const incoming::RegSend& op) const {
    return message(Term(op.to_name), node.find_name(op.to_name));
  }
  bool operator()(const incoming::AliasSend& op) const {
    node.messages_in.fetch_add(1, std::memory_order_relaxed);
    if (auto slot = node.alias_owner(op.alias)) {
      if (!node.take_payload(*peer, m, error)) return error.empty();
      node.deliver_from_peer(slot, MessageSignal{std::move(m.payload)});
    }
    return true;
  }
  bool operator()(const incoming::Link& op) const {
    if (auto slot = local_slot(op.to)) {
      node.on_strand_from_peer(slot, [&n = node, from = op.from, p = peer](const SlotPtr& s) {
        n.receive_link(s, from, p);
      });
    } else {
      peer->send(OutExit{true, op.to, op.from, noproc()});
    }
    return true;
  }
  bool operator()(const incoming::Unlink& op) const {
    if (auto slot = local_slot(op.to)) {
      node.on_strand_from_peer(slot, [from = op.from](const SlotPtr& s) {
        const LinkInfo* l = find_link(*s, from);
        if (l == nullptr) return;
        count_remote(*s, l->peer, -1);
        erase_link(*s, from);
      });
    }
    return true;
  }
  bool operator()(const incoming::UnlinkId& op) const {
    if (auto slot = local_slot(op.to)) {
      node.on_strand_from_peer(slot,
                               [&n = node, id = op.id, from = op.from, p = peer](const SlotPtr& s) {
                                 n.receive_unlink_id(s, id, from, p);
                               });
    }
    return true;
  }
  bool operator()(const incoming::UnlinkIdAck& op) const {
    if (auto slot = local_slot(op.to)) {
      node.on_strand_from_peer(slot, [id = op.id, from = op.from](const SlotPtr& s) {
        NodeImpl::receive_unlink_ack(s, id, from);
      });
    }
    return true;
  }
  [[nodiscard]] bool deliver_exit(const Pid& from, const SlotPtr& slot, bool is_link) const {
    if (slot) {
      node.on_strand_from_peer(
          slot, [&n = node, from, reason = std::move(m.payload), is_link](const SlotPtr& s) {
            n.receive_exit(s, from, reason, is_link);
          });
    }
    return true;
  }
  bool operator()(const incoming::Exit& op) const {
    return deliver_exit(op.from, local_slot(op.to), true);
  }
  bool operator()(const incoming::Exit2& op) const {
    const SlotPtr slot = op.to.is<Atom>()        ? node.find_name(op.to.as<Atom>())
                         : op.to.is<Reference>() ? node.alias_owner(op.to.as<Reference>())
                                                 : local_slot(op.to.as<Pid>());
    return deliver_exit(op.from, slot, false);
  }
  bool operator()(const incoming::Monitor& op) const {
    if (const auto* pid = op.target.get_if<Pid>(); pid != nullptr && !node.is_local(*pid)) {
      error = "MONITOR_P for " + codec::to_string(op.target) + ", a pid of another node";
      return false;
    }
    if (auto slot = resolve(op.target)) {
      node.on_strand_from_peer(slot, [&n = node, w = Watcher{op.ref, op.watcher, op.target, peer}](
                                         const SlotPtr& s) { n.receive_monitor(s, w); });
    } else {
      peer->send(OutMonitorExit{op.target, op.watcher, op.ref, noproc()});
    }
    return true;
  }
  bool operator()(const incoming::Demonitor& op) const {
    if (auto slot = resolve(op.target)) {
      node.on_strand_from_peer(
          slot, [ref = op.ref](const SlotPtr& s) { NodeImpl::receive_demonitor(s, ref); });
    }
    return true;
  }
  bool operator()(const incoming::MonitorExit& op) const {
    if (auto slot = local_slot(op.watcher)) {
      node.on_strand_from_peer(slot, [&n = node, ref = op.ref, reason = std::move(m.payload)](
                                         const SlotPtr& s) { n.receive_down(s, ref, reason); });
    }
    return true;
  }
  bool operator()(const incoming::SpawnRequest& op) const {
    node.handle_spawn_request(peer, op, m.payload);
    return true;
  }
  bool operator()(const incoming::Ignored&) const {
    spdlog::debug("ignoring control operation {} from {}", m.op, peer->name().name());
    return true;
  }
};

}  // namespace

bool NodeImpl::handle_control(const std::shared_ptr<Peer>& peer, detail::ControlMessage& m,
                              std::string& error) {
  // A message's payload is decoded once its receiver is known to exist (ControlHandler), as the
  // BEAM drops a message to a missing process or name undecoded; other payloads (exit reasons,
  // spawn arguments) are decoded here.
  if (!m.is_message() && !m.payload_bytes.empty() && !take_payload(*peer, m, error)) {
    return error.empty();
  }
  return std::visit(ControlHandler{*this, peer, m, error}, m.operation);
}

}  // namespace cppnode::cnode
