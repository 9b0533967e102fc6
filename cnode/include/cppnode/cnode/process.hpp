// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <memory>
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
  /// False once the process has exited; later signals are dropped.
  [[nodiscard]] bool alive() const noexcept { return alive_.load(); }
  /// Signals posted to the strand but not yet handled (what `:sys.get_status` shows).
  [[nodiscard]] std::size_t queued() const noexcept { return queued_.load(); }

 protected:
  /// Called on the strand once, right after spawn, before any signal.
  virtual void on_start() {}
  /// Called on the strand for each signal. An ExitSignal that is not trapped and whose reason is
  /// not `normal` has already ended the process (the node does that) and is not delivered.
  virtual void on_signal(Signal signal) = 0;
  /// Called on the strand once, after the process has exited (links and monitors already fired).
  virtual void on_exit(const codec::Term& reason) { (void)reason; }

 private:
  friend class Node;
  friend class ProcessTable;
  Node& node_;
  Strand strand_;
  codec::Pid self_;
  std::atomic<bool> trap_exit_{false};
  std::atomic<bool> alive_{true};
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> slow_{false};  // the last callback ran long: do not run it on a reader's thread
};

}  // namespace cppnode::cnode
