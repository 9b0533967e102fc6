// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>

#include "cppnode/codec/term.hpp"

namespace cppnode::cnode {

class Node;

/// A plain message: `Pid ! Message`.
struct MessageSignal {
  codec::Term message;
};
/// An exit signal from a linked process (`EXIT`) or from `exit(Pid, Reason)` (`EXIT2`,
/// `is_link == false`).
struct ExitSignal {
  codec::Term from;  // a Pid, or the atom of a node for noconnection
  codec::Term reason;
  bool is_link = true;
};
/// A monitor this process holds has fired: becomes `{'DOWN', Ref, process, Object, Reason}`.
struct DownSignal {
  codec::Reference ref;
  codec::Term object;  // the monitored Pid, or {Name, Node} when monitored by name
  codec::Term reason;
};
using Signal = std::variant<MessageSignal, ExitSignal, DownSignal>;

/// What happens to a process whose mailbox is full.
enum class OverflowPolicy : std::uint8_t {
  drop,  // further messages are dropped (and counted) until it catches up
  exit,  // the process exits with `{mailbox_overflow, MaxQueued}`, as a BEAM process that
         // exceeds max_heap_size is killed; links, monitors and its supervisor see it at once
};

/// A bound on the messages waiting for a process. Only plain messages (`MessageSignal`) count
/// and are refused; exit, DOWN and link signals always get through.
struct MailboxLimit {
  std::size_t max_queued = 0;  // at least 1
  OverflowPolicy policy = OverflowPolicy::drop;
  friend bool operator==(const MailboxLimit&, const MailboxLimit&) = default;
};

/// A process hosted by this node. Signals reach it one at a time, in the order each sender sent
/// them, on the process's own strand; different processes run in parallel on the node's threads.
/// Create with `Node::spawn`; a process ends by calling `Node::exit_process` (from its strand).
class Process : public std::enable_shared_from_this<Process> {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  explicit Process(Node& node);
  virtual ~Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] const codec::Pid& self() const noexcept { return self_; }
  [[nodiscard]] Node& node() const noexcept { return node_; }
  [[nodiscard]] Strand& strand() noexcept { return strand_; }
  /// Whether EXIT signals become `{'EXIT', From, Reason}` messages instead of ending the process.
  [[nodiscard]] bool trap_exit() const noexcept { return trap_exit_.load(); }
  void set_trap_exit(bool on) noexcept { trap_exit_.store(on); }
  /// Whether the process runs: spawned and not yet exited. Thread-safe.
  [[nodiscard]] bool alive() const;
  /// Messages waiting for this process (posted to its strand, not yet handled): its mailbox
  /// length, as `:sys.get_status` shows it; 0 once it has exited.
  [[nodiscard]] std::size_t queued() const;

  /// Bounds the mailbox (nullopt: unbounded, the default, as on the BEAM). A message that finds
  /// `max_queued` messages waiting is refused and `limit->policy` applies. Thread-safe; set it
  /// before `Node::spawn` to bound the process from its first message. Throws
  /// std::invalid_argument for `max_queued == 0`.
  void set_mailbox_limit(std::optional<MailboxLimit> limit);
  /// The bound set by `set_mailbox_limit` (read on every delivery, so inline and relaxed).
  [[nodiscard]] std::optional<MailboxLimit> mailbox_limit() const noexcept {
    const std::size_t max = max_queued_.load(std::memory_order_relaxed);
    if (max == 0) {
      return std::nullopt;
    }
    return MailboxLimit{max, overflow_policy_.load(std::memory_order_relaxed)};
  }
  /// Messages refused because the mailbox was full, since the process started; 0 once it has
  /// exited.
  [[nodiscard]] std::uint64_t dropped() const;

  /// Whether `message` is queued even when the mailbox is full (and then does not overflow it).
  /// Called from the sending thread, only when the mailbox is full. Default: never.
  [[nodiscard]] virtual bool exempt_from_limit(const codec::Term& message) const {
    (void)message;
    return false;
  }

 protected:
  /// Called on the strand once, right after spawn, before any signal.
  virtual void on_start() {}
  /// Called on the strand for each signal. An ExitSignal that is not trapped and whose reason is
  /// not `normal` has already ended the process (the node does that) and is not delivered.
  virtual void on_signal(Signal signal) = 0;
  /// Called on the strand once, after the process has exited (links and monitors already fired).
  virtual void on_exit(const codec::Term& reason) { (void)reason; }

 private:
  friend class ProcessTable;
  Node& node_;
  Strand strand_;
  codec::Pid self_;
  std::atomic<bool> trap_exit_{false};
  // The mailbox bound (0: none), read on every delivery; the policy only when it is set.
  std::atomic<std::size_t> max_queued_{0};
  std::atomic<OverflowPolicy> overflow_policy_{OverflowPolicy::drop};
};

}  // namespace cppnode::cnode
