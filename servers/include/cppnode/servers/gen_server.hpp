// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "cppnode/codec/term.hpp"
#include "cppnode/servers/dest.hpp"
#include "cppnode/servers/errors.hpp"
#include "cppnode/servers/from.hpp"
#include "cppnode/servers/results.hpp"

namespace cppnode::cnode {
class Node;
}

namespace cppnode::servers {

namespace detail {
class ServerProcess;
}

/// A timer made by `GenServer::send_after`.
struct TimerRef {
  std::uint64_t id = 0;
  friend bool operator==(const TimerRef&, const TimerRef&) = default;
};

/// How a call out ended: `ok` with the reply in `value`, or not `ok` with the reason the caller
/// would exit with in `value`: `timeout`, `noproc`, `calling_self`, `{nodedown, Node}`, or the
/// callee's exit reason.
struct CallOutcome {
  bool ok = false;
  codec::Term value;
};

/// Runs on the server's strand when a call out ends; returns like `handle_info`.
using CallContinuation = std::function<InfoResult(CallOutcome)>;

/// Base class of a C++ GenServer. Derive, keep the state in members, override the callbacks you
/// need (all have OTP/Elixir defaults), and start it with `servers::start`. The framework calls
/// one callback at a time, on the server's strand; different servers run in parallel.
///
/// Defaults: `init` → ok; `handle_call` → the server exits `{bad_call, Request}`;
/// `handle_cast` → exits `{bad_cast, Message}`; `handle_info` → logged and ignored.
/// An exception escaping a callback ends the server (see `ErlangError`, `ExitError`; any other
/// `std::exception` gives `{{cpp_exception, <<What>>}, [{Module, Callback, [Args..., State],
/// []}]}`), so links get EXIT and monitors DOWN with that reason and waiting callers exit at once.
class GenServer {
 public:
  GenServer() = default;
  virtual ~GenServer() = default;
  GenServer(const GenServer&) = delete;
  GenServer& operator=(const GenServer&) = delete;

  /// The state as an Erlang term: what `:sys.get_state/1` returns. Default: the module atom.
  [[nodiscard]] virtual codec::Term state_term() const;
  /// The module named in exit reasons and `:sys.get_status/1`. Default: the C++ class name.
  [[nodiscard]] virtual codec::Atom module() const;

 protected:
  /// Runs before the server is reachable by name; `start` returns what it decides.
  virtual InitResult init();
  /// A `GenServer.call`: `request` and the caller; answer with `reply(...)`, or `noreply()` and
  /// `from.reply(...)` later.
  virtual CallResult handle_call(const codec::Term& request, const From& from);
  /// A `GenServer.cast`.
  virtual InfoResult handle_cast(const codec::Term& message);
  /// Any other message: plain sends, timers, `{'DOWN', Ref, process, Pid, Reason}`,
  /// `{'EXIT', Pid, Reason}` when trapping exits, `timeout` after a reply/noreply timeout.
  virtual InfoResult handle_info(const codec::Term& message);
  /// Runs when the server stops (a stop result, a crash, a parent's exit when trapping exits);
  /// not when it is killed by an exit signal it does not trap.
  virtual void terminate(const codec::Term& reason);

  // ---- Results (shorthands for the result classes) ----
  static CallResult reply(codec::Term r, Timeout t = std::nullopt) {
    return CallResult::reply(std::move(r), t);
  }
  static InfoResult noreply(Timeout t = std::nullopt) { return InfoResult::noreply(t); }
  static InfoResult stop(codec::Term reason) { return InfoResult::stop(std::move(reason)); }
  static CallResult stop(codec::Term reason, codec::Term r) {
    return CallResult::stop(std::move(reason), std::move(r));
  }
  static InfoResult no_match() { return InfoResult::no_match(); }
  static InitResult ok(Timeout t = std::nullopt) { return InitResult::ok(t); }

  // ---- Helpers, for use inside callbacks (on the server's strand) ----
  // Calling them on a server that was never started throws std::logic_error.

  /// This server's pid.
  [[nodiscard]] const codec::Pid& self() const;
  /// The node hosting this server.
  [[nodiscard]] cnode::Node& node() const;
  /// `Dest ! Message`. A `{global, Name}` is resolved first (asynchronously); dropped if unknown.
  void send(const Dest& dest, codec::Term message);
  /// `GenServer.cast(Dest, Message)`.
  void cast(const Dest& dest, codec::Term message);
  /// `GenServer.call(Dest, Request, Timeout)` without blocking: `k` runs later on this strand
  /// with the reply or the reason the call failed. Other messages are handled meanwhile.
  void call(const Dest& dest, codec::Term request, std::chrono::milliseconds timeout,
            CallContinuation k);
  /// `Process.send_after(self(), message, delay)`: `handle_info(message)` after `delay`.
  TimerRef send_after(std::chrono::milliseconds delay, codec::Term message);
  /// Cancels a timer; false if it already fired or was cancelled.
  bool cancel_timer(TimerRef timer);
  /// `Process.monitor(pid)`: `{'DOWN', Ref, process, Pid, Reason}` comes to `handle_info`.
  codec::Reference monitor(const codec::Pid& pid);
  void demonitor(const codec::Reference& ref);
  /// `Process.link(pid)` / `Process.unlink(pid)`.
  void link(const codec::Pid& pid);
  void unlink(const codec::Pid& pid);
  /// `Process.flag(:trap_exit, on)`: exit signals become `{'EXIT', From, Reason}` messages.
  void trap_exit(bool on);

 private:
  friend class detail::ServerProcess;
  [[nodiscard]] detail::ServerProcess& process() const;
  detail::ServerProcess* process_ = nullptr;
};

}  // namespace cppnode::servers
