// SPDX-License-Identifier: Apache-2.0
#include "delivery.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <exception>
#include <utility>
#include <variant>

#include "peer.hpp"

namespace cppnode::cnode {

using namespace codec::literals;
namespace {

using codec::Term;

// A callback that runs longer than this is slow: the process's next signals from a connection
// wait in its queue, for any thread to take, instead of holding up the reader (see
// deliver_from_peer). Well above a quick callback's few microseconds, and low enough that
// servers of ~100 us per call run in parallel under --threads N (at 200 us, 4 servers of
// ~150 us per call all ran on the reading thread: --threads 2 served 1.03x the calls of 1).
constexpr auto slow_callback = std::chrono::microseconds(50);

// The process whose callback runs on this thread, for a send that finds its connection busy.
thread_local ProcessSlot* running_slot = nullptr;

}  // namespace

// Runs a callback of the process on its strand; an escaping exception ends the process, as an
// uncaught error ends an Erlang process.
template <class F>
void Delivery::guarded(const SlotPtr& slot, const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    spdlog::error("process {} crashed in {}: {}", codec::to_string(Term(slot->process->self())),
                  what, e.what());
    exits_.do_exit(slot, codec::tuple("cpp_exception"_a, codec::binary(e.what())));
  } catch (...) {
    spdlog::error("process {} crashed in {} with a non-standard exception",
                  codec::to_string(Term(slot->process->self())), what);
    exits_.do_exit(slot, codec::tuple("cpp_exception"_a, codec::binary("unknown")));
  }
}

void Delivery::start(const SlotPtr& slot) {
  boost::asio::post(slot->process->strand(), [this, slot] {
    if (!slot->alive.load()) {
      return;
    }
    guarded(slot, "on_start", [&] { ProcessTable::start(*slot->process); });
  });
}

void Delivery::run_signal(const SlotPtr& slot, Signal signal) {
  Process& p = *slot->process;
  const auto start = std::chrono::steady_clock::now();
  ProcessSlot* const outer = std::exchange(running_slot, slot.get());
  guarded(slot, "on_signal", [&] { ProcessTable::signal(p, std::move(signal)); });
  running_slot = outer;
  slot->slow.store(std::chrono::steady_clock::now() - start > slow_callback,
                   std::memory_order_relaxed);
  auto& suspension = slot->suspension;
  if (suspension && suspension->busy_peer) {
    suspension->suspended =
        std::exchange(suspension->busy_peer, nullptr)->suspend_until_not_busy(slot);
  }
}

void Delivery::run_or_park(const SlotPtr& slot, Signal signal) {
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
  run_signal(slot, std::move(signal));
}

void Delivery::deliver(const SlotPtr& slot, MessageSignal message) {
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
void Delivery::deliver_from_peer(const SlotPtr& slot, MessageSignal message) {
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

bool Delivery::enqueue(const SlotPtr& slot, const codec::Term& message) {
  const auto limit = slot->process->mailbox_limit();
  if (!limit) {
    slot->queued.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return enqueue_bounded(slot, *limit, message);
}

// Compare-and-swap, so that senders on several threads never fill the mailbox past the bound.
bool Delivery::enqueue_bounded(const SlotPtr& slot, const MailboxLimit& limit,
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

void Delivery::overflowed(const SlotPtr& slot, const MailboxLimit& limit) {
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
        names_.describe(*slot), limit.max_queued);
    return;
  }
  Term reason = codec::tuple("mailbox_overflow"_a, static_cast<std::uint64_t>(limit.max_queued));
  spdlog::warn(
      "process {} has {} messages waiting, its mailbox limit (policy exit): it exits with {} "
      "once its current callback returns",
      names_.describe(*slot), limit.max_queued, codec::to_string(reason));
  on_strand(slot,
            [this, reason = std::move(reason)](const SlotPtr& s) { exits_.do_exit(s, reason); });
}

void Delivery::dequeue(const SlotPtr& slot) const {
  if (slot->queued.fetch_sub(1, std::memory_order_relaxed) != 1) {
    return;
  }
  // Emptied: an episode of dropping ends (the next overflow warns again).
  auto now = ProcessSlot::Overflow::dropping;
  if (slot->overflow.compare_exchange_strong(now, ProcessSlot::Overflow::none,
                                             std::memory_order_relaxed)) {
    spdlog::info("process {} caught up with its mailbox; {} messages dropped since it started",
                 names_.describe(*slot), slot->dropped.load(std::memory_order_relaxed));
  }
}

// ---- Busy connections ----

void Delivery::met_busy_peer(const std::shared_ptr<Peer>& peer) {
  ProcessSlot* const slot = running_slot;
  if (slot == nullptr) {
    return;  // not a process (a timer, the node itself): the BEAM does not suspend those either
  }
  if (!slot->suspension) {
    slot->suspension = std::make_unique<Suspension>();
  }
  slot->suspension->busy_peer = peer;
}

void Delivery::resume(const SlotPtr& slot) {
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
        run_signal(s, std::move(next));
      }
    }
    if (suspension && !suspension->suspended && suspension->parked.empty()) {
      suspension.reset();
    }
  });
}

}  // namespace cppnode::cnode
