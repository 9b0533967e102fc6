// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/defer.hpp>
#include <boost/asio/dispatch.hpp>
#include <memory>
#include <utility>

#include "cppnode/cnode/process.hpp"
#include "names.hpp"
#include "process_table.hpp"

namespace cppnode::cnode {

class Peer;

/// What ends a process (the node's exit sequence): for a callback that throws and for a
/// mailbox that overflows with policy `exit`.
class ProcessExits {
 public:
  /// On the process's strand.
  virtual void do_exit(const SlotPtr& slot, const codec::Term& reason) = 0;

 protected:
  ProcessExits() = default;
  ~ProcessExits() = default;
  ProcessExits(const ProcessExits&) = default;
  ProcessExits& operator=(const ProcessExits&) = default;
};

/// Posts `fn(slot)` to the slot's strand; with `inline_ok`, runs it right here if the strand
/// is idle or already ours and the process's callbacks are quick.
template <class F>
void on_strand(const SlotPtr& slot, F&& fn, bool inline_ok = false) {
  auto& strand = slot->process->strand();
  if (inline_ok && !slot->slow.load(std::memory_order_relaxed)) {
    boost::asio::dispatch(strand, [slot, f = std::forward<F>(fn)]() mutable { f(slot); });
  } else {
    boost::asio::defer(strand, [slot, f = std::forward<F>(fn)]() mutable { f(slot); });
  }
}

/// `on_strand` with `inline_ok` for work read from a connection: runs on the reading thread
/// when the process is idle; the strand keeps it in order with whatever is already queued.
template <class F>
void on_strand_from_peer(const SlotPtr& slot, F&& fn) {
  on_strand(slot, std::forward<F>(fn), true);
}

/// How signals reach a local process and run its callbacks: messages within the mailbox
/// bound, in order on the process's strand, on the reading thread when that is quick, and
/// parked while the process waits for a busy connection. Thread-safe.
class Delivery {
 public:
  Delivery(const Names& names, ProcessExits& exits) : names_(names), exits_(exits) {}

  /// Runs the process's `on_start` on its strand (unless it has exited already).
  void start(const SlotPtr& slot);
  /// Queues a message on the process's strand, unless its mailbox bound refuses it.
  void deliver(const SlotPtr& slot, MessageSignal message);
  /// Like `deliver`, for a message just read from a connection: runs it right here, on the
  /// reading thread, when the process is idle and its callbacks are quick (see delivery.cpp).
  void deliver_from_peer(const SlotPtr& slot, MessageSignal message);
  /// Runs `signal` on the process now (on its strand), or parks it while the process waits
  /// for a busy connection.
  void run_or_park(const SlotPtr& slot, Signal signal);
  /// Called by a peer whose queue a send left busy: the process whose callback is running on
  /// this thread, if any, is suspended once the callback returns.
  static void met_busy_peer(const std::shared_ptr<Peer>& peer);
  /// The busy connection `slot` waited for has drained or gone: it handles its signals again.
  void resume(const SlotPtr& slot);

 private:
  void run_signal(const SlotPtr& slot, Signal signal);
  template <class F>
  void guarded(const SlotPtr& slot, const char* what, F&& f);
  /// Counts a message into the process's mailbox; false (and the overflow policy applied) if
  /// its bound refuses it.
  bool enqueue(const SlotPtr& slot, const codec::Term& message);
  bool enqueue_bounded(const SlotPtr& slot, const MailboxLimit& limit, const codec::Term& message);
  /// A message was refused: warns once per episode, and starts the exit for policy `exit`.
  void overflowed(const SlotPtr& slot, const MailboxLimit& limit);
  /// Counts a message out of the mailbox as its handling starts.
  void dequeue(const SlotPtr& slot) const;

  const Names& names_;
  ProcessExits& exits_;
};

}  // namespace cppnode::cnode
