// SPDX-License-Identifier: Apache-2.0
// Local processes: spawning, delivering messages within the mailbox bound, suspension while a
// connection is busy, exit; and sending, to a local process or over a connection.
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
  slot->slow.store(std::chrono::steady_clock::now() - start > slow_callback,
                   std::memory_order_relaxed);
  auto& suspension = slot->suspension;
  if (suspension && suspension->busy_peer) {
    suspension->suspended =
        std::exchange(suspension->busy_peer, nullptr)->suspend_until_not_busy(slot);
  }
}

}  // namespace

void NodeImpl::run_or_park(const SlotPtr& slot, Signal signal) {
  // A process exiting on mailbox overflow skips what is still queued, so that it exits as soon
  // as its current callback returns.
  if (!slot->alive.load(std::memory_order_relaxed) ||
      slot->overflow.load(std::memory_order_relaxed) == ProcessSlot::Overflow::exiting) {
    return;
  }
  if (auto& suspension = slot->suspension;
      suspension && (suspension->suspended || !suspension->parked.empty())) {
    // Still in the mailbox: it counts against the mailbox bound until it is handled.
    if (std::holds_alternative<MessageSignal>(signal)) {
      slot->queued.fetch_add(1, std::memory_order_relaxed);
    }
    suspension->parked.push_back(std::move(signal));
    return;
  }
  run_signal(*this, slot, std::move(signal));
}

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
    boost::asio::post(s->process->strand(), [this, s] {
      Process& p = *s->process;
      if (!s->alive.load()) {
        return;
      }
      guarded(*this, s, "on_start", [&] { ProcessTable::start(p); });
    });
  });
  return slot->process->self();
}

void NodeImpl::deliver(const SlotPtr& slot, MessageSignal message) {
  if (!enqueue(slot, message.message)) {
    return;
  }
  // defer, not post: the signal runs on this thread once the current handler returns, instead
  // of waking another thread for every message (other threads still take strands when idle).
  boost::asio::defer(slot->process->strand(), [this, slot, m = std::move(message)]() mutable {
    dequeue(slot);
    run_or_park(slot, std::move(m));
  });
}

// Running the callback on the reading thread saves two hand-offs per message (reader -> process
// strand -> writer), each of which costs an event-loop round and often a thread wake-up; the
// reply then leaves in the same write as the other replies to that read. A process whose strand
// is busy elsewhere still gets the signal queued behind the others, so order is kept.
void NodeImpl::deliver_from_peer(const SlotPtr& slot, MessageSignal message) {
  Process& p = *slot->process;
  if (slot->slow.load(std::memory_order_relaxed)) {
    deliver(slot, std::move(message));
    return;
  }
  if (!enqueue(slot, message.message)) {
    return;
  }
  boost::asio::dispatch(p.strand(), [this, slot, m = std::move(message)]() mutable {
    dequeue(slot);
    run_or_park(slot, std::move(m));
  });
}

// ---- Mailbox bound ----

bool NodeImpl::enqueue(const SlotPtr& slot, const codec::Term& message) {
  const auto limit = slot->process->mailbox_limit();
  if (!limit) {
    slot->queued.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return enqueue_bounded(slot, *limit, message);
}

// Compare-and-swap, so that senders on several threads never fill the mailbox past the bound.
bool NodeImpl::enqueue_bounded(const SlotPtr& slot, const MailboxLimit& limit,
                               const codec::Term& message) {
  auto& queued = slot->queued;
  if (slot->overflow.load(std::memory_order_relaxed) != ProcessSlot::Overflow::exiting) {
    std::size_t n = queued.load(std::memory_order_relaxed);
    while (n < limit.max_queued) {
      if (queued.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
        return true;
      }
    }
    if (slot->process->exempt_from_limit(message)) {
      queued.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  slot->dropped.fetch_add(1, std::memory_order_relaxed);
  overflowed(slot, limit);
  return false;
}

void NodeImpl::overflowed(const SlotPtr& slot, const MailboxLimit& limit) {
  using Overflow = ProcessSlot::Overflow;
  const bool exit = limit.policy == OverflowPolicy::exit;
  const Overflow next = exit ? Overflow::exiting : Overflow::dropping;
  auto& state = slot->overflow;
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
        names.describe(*slot), limit.max_queued);
    return;
  }
  Term reason = codec::tuple("mailbox_overflow"_a, static_cast<std::uint64_t>(limit.max_queued));
  spdlog::warn(
      "process {} has {} messages waiting, its mailbox limit (policy exit): it exits with {} "
      "once its current callback returns",
      names.describe(*slot), limit.max_queued, codec::to_string(reason));
  on_strand(slot, [this, reason = std::move(reason)](const SlotPtr& s) { do_exit(s, reason); });
}

void NodeImpl::dequeue(const SlotPtr& slot) const {
  if (slot->queued.fetch_sub(1, std::memory_order_relaxed) != 1) {
    return;
  }
  // Emptied: an episode of dropping ends (the next overflow warns again).
  auto now = ProcessSlot::Overflow::dropping;
  if (slot->overflow.compare_exchange_strong(now, ProcessSlot::Overflow::none,
                                             std::memory_order_relaxed)) {
    spdlog::info("process {} caught up with its mailbox; {} messages dropped since it started",
                 names.describe(*slot), slot->dropped.load(std::memory_order_relaxed));
  }
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
      if (s->alive.load(std::memory_order_relaxed) &&
          s->overflow.load(std::memory_order_relaxed) != ProcessSlot::Overflow::exiting) {
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
  if (!slot->alive.exchange(false)) {
    return;
  }
  const Pid self = p.self();
  procs.erase(self);
  names.forget(*slot);
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
  if (connections.send_to(to.node, OutSend{to, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
  }
}

void NodeImpl::send_named(const codec::Pid& from, codec::Atom to_name, codec::Atom node,
                          codec::Term message) {
  if (node == name) {
    if (auto slot = names.whereis(to_name)) {
      deliver(slot, MessageSignal{std::move(message)});
    }
    return;
  }
  if (connections.send_to(node, OutRegSend{from, to_name, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
  }
}

void NodeImpl::send_alias(const codec::Pid& from, const codec::Reference& alias,
                          const codec::Pid& fallback, codec::Term message) {
  if (alias.node == name) {
    if (auto target = names.alias_owner(alias)) {
      send(from, *target, std::move(message));
    }
    return;
  }
  if (connections.send_to(alias.node, OutAliasSend{from, alias, fallback, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
    if (watches_calls()) {
      forget_call(from, alias);
    }
  }
}

}  // namespace cppnode::cnode
