// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cppnode/cnode/process.hpp"
#include "cppnode/servers/gen_server.hpp"
#include "cppnode/servers/start.hpp"

namespace cppnode::servers::detail {

/// The process behind a GenServer: decodes the gen_server protocol (`$gen_call`, `$gen_cast`,
/// `system`), runs the callbacks on its strand, and owns the timers, the idle timeout, the
/// calls out and the exit logic. Node-level trap_exit is always on, so that the Erlang rules
/// for exit signals (parent, trapping or not, `kill`) are applied here.
class ServerProcess final : public cnode::Process {
 public:
  ServerProcess(cnode::Node& node, std::unique_ptr<GenServer> server, StartOptions options);
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// See servers::start.
  codec::Result<codec::Pid, codec::Term> start();

  void send(const Dest& dest, codec::Term message);
  void call(const Dest& dest, codec::Term request, std::chrono::milliseconds timeout,
            CallContinuation k);
  TimerRef send_after(std::chrono::milliseconds delay, codec::Term message);
  bool cancel_timer(TimerRef timer);
  void set_user_trap_exit(bool on) noexcept { user_trap_exit_ = on; }

  /// `sys` requests get through a full mailbox, so an overloaded server can be inspected.
  [[nodiscard]] bool exempt_from_limit(const codec::Term& message) const override;

 protected:
  void on_start() override;
  void on_signal(cnode::Signal signal) override;
  void on_exit(const codec::Term& reason) override;

 private:
  struct Timer {
    explicit Timer(const Strand& strand) : timer(strand) {}
    boost::asio::steady_timer timer;
    codec::Term message;
  };
  struct OutCall {
    CallContinuation k;
    std::optional<codec::Reference> mref;
    std::unique_ptr<boost::asio::steady_timer> timer;
    codec::Atom target_node;
  };

  std::shared_ptr<ServerProcess> shared_self();
  /// Runs `f` on the strand if the server is still running then.
  template <class F>
  void post_self(F&& f);
  [[nodiscard]] bool running() const noexcept { return running_ && !exiting_; }

  // Dispatch
  void handle_signal(cnode::Signal& signal);
  void deliver(codec::Term message);
  void handle_gen_call(codec::Term& message, codec::Tuple& call);
  void handle_system(codec::Tuple& message);
  /// Whether the sys caller whose gen:call tag is `tag` wants get_state's answer as
  /// {ok, State} (OTP 26.1+) rather than bare (OTP 25 and older).
  static bool expects_ok_state(const codec::Term& tag);
  void handle_exit_signal(cnode::ExitSignal& exit);
  void handle_down(cnode::DownSignal& down);
  void run_info(codec::Atom callback, const codec::Term& message,
                const std::function<InfoResult()>& invoke);
  void apply_info(detail::Outcome& outcome, codec::Atom callback, const codec::Term& message);
  void apply_call(detail::Outcome& outcome, From& from, const codec::Term& request);

  // Ending
  codec::Term state_or_undefined() const;
  codec::Term run_terminate(codec::Term reason);
  void exit_with(const codec::Term& reason, const codec::Term* last_message);
  void stop_with(codec::Term reason, const codec::Term* last_message);
  void crash(codec::Atom callback, std::vector<codec::Term> args, const codec::Term& last);
  void die(const codec::Term& reason);

  // Timeouts
  void arm_idle(const Timeout& timeout);
  void cancel_idle() {
    if (idle_armed_) {
      idle_armed_ = false;
      idle_timer_->cancel();
    }
  }
  void fire_timer(std::uint64_t id);

  // Calls out
  void start_out_call(std::uint64_t id, const codec::Term& target, codec::Atom target_node,
                      codec::Term request);
  void complete_call(std::uint64_t id, bool ok, codec::Term value);
  bool take_call_reply(codec::Tuple& message);

  // System messages
  codec::Term status_term() const;
  std::string display_name() const;

  std::unique_ptr<GenServer> server_;
  StartOptions options_;
  // start() runs init and sets these, then opens the gate; on_start waits for it. A flag and a
  // pointer rather than a mutex and an optional Term: a million idle servers pay for them.
  std::atomic<bool> init_done_{false};
  std::unique_ptr<codec::Term> init_exit_;  // set when init did not end in a running server
  Timeout init_timeout_;
  bool running_ = false;
  bool exiting_ = false;
  bool user_trap_exit_ = false;
  bool suspended_ = false;
  bool global_registered_ = false;
  // Vectors, not deques: an idle server should cost little memory.
  std::vector<std::function<void()>> deferred_;  // non-system work while suspended

  std::unique_ptr<boost::asio::steady_timer> idle_timer_;
  std::uint64_t idle_generation_ = 0;
  bool idle_armed_ = false;
  Timeout last_timeout_;  // of the last callback result, restarted after system messages

  std::unordered_map<std::uint64_t, std::unique_ptr<Timer>> timers_;
  std::uint64_t next_timer_ = 0;

  std::unordered_map<std::uint64_t, OutCall> out_calls_;
  std::vector<std::pair<codec::Reference, std::uint64_t>> out_refs_;
  std::vector<codec::Reference> stale_refs_;  // timed-out calls whose late replies are dropped
  std::uint64_t next_call_ = 0;
};

}  // namespace cppnode::servers::detail
