// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "cppnode/cnode/process.hpp"
#include "cppnode/codec/result.hpp"
#include "cppnode/codec/term.hpp"
#include "cppnode/servers/gen_server.hpp"

namespace cppnode::servers {

class GlobalRegistry;

/// When a child is restarted, as OTP's restart types.
enum class Restart : std::uint8_t {
  permanent,  // always
  transient,  // unless it exits normal, shutdown or {shutdown, _}
  temporary,  // never
};

/// One child: how to make a fresh server (each restart gets a new object, so its initial
/// state) and the names it is registered under, again after every restart.
struct ChildSpec {
  codec::Atom id{};
  std::function<std::unique_ptr<GenServer>()> make{};
  Restart restart = Restart::permanent;
  std::optional<codec::Atom> local_name{};
  std::optional<codec::Term> global_name{};
  /// The child's mailbox bound (`StartOptions::mailbox_limit`), again after every restart.
  std::optional<cnode::MailboxLimit> mailbox_limit{};
};

struct SupervisorOptions {
  /// OTP's intensity: more than `max_restarts` restarts within `period` and the supervisor gives
  /// up (defaults 3 in 5 s, as OTP).
  int max_restarts = 3;
  std::chrono::milliseconds period{5'000};
  /// The supervisor's own local name.
  std::optional<codec::Atom> local_name{};
  /// Registers the children's global names; defaults to `GlobalRegistry::for_node(node)`.
  std::shared_ptr<GlobalRegistry> registry{};
  /// Runs on the supervisor's strand when it gives up (after its children were shut down),
  /// with the reason; the owner typically stops the node.
  std::function<void(const codec::Term& reason)> on_give_up{};
};

/// A one_for_one supervisor: a process that links to its children (started in order) and
/// restarts a child that exits, according to its restart type and the restart intensity. When
/// the intensity is exceeded it logs, shuts the children down (last first), calls `on_give_up`
/// and exits with `shutdown`. Answers `which_children` and `count_children` calls as OTP's
/// supervisor does. All public members are thread-safe.
class Supervisor : public cnode::Process {
 public:
  /// Starts the supervisor and its children. If a child fails to start, the ones already
  /// started are shut down and the error is `{shutdown, {failed_to_start_child, Id, Reason}}`;
  /// if the supervisor's name is taken, `{already_started, Pid}`.
  static codec::Result<std::shared_ptr<Supervisor>, codec::Term> start(
      cnode::Node& node, std::vector<ChildSpec> children, SupervisorOptions options = {});

  /// The current pid of child `id`; nullopt while it is down or if there is no such child.
  [[nodiscard]] std::optional<codec::Pid> child_pid(codec::Atom id) const;
  /// Restarts made so far.
  [[nodiscard]] std::uint64_t restarts() const;

  Supervisor(cnode::Node& node, std::vector<ChildSpec> children, SupervisorOptions options);

 protected:
  void on_start() override;
  void on_signal(cnode::Signal signal) override;

 private:
  struct Child {
    ChildSpec spec;
    codec::Atom module;  // of the last server made, for which_children
    std::optional<codec::Pid> pid;
  };
  codec::Term start_child(Child& child);
  void child_exited(const codec::Pid& pid, const codec::Term& reason);
  void restart(codec::Atom id);
  bool intensity_exceeded();
  void give_up();
  void shut_down_children();
  void handle_call(codec::Tuple& message);
  void publish();

  std::mutex gate_;  // held by start() while the children start; on_start waits for it
  std::optional<codec::Term> start_failure_;
  SupervisorOptions options_;
  std::vector<Child> children_;  // strand-confined once started
  std::vector<std::chrono::steady_clock::time_point> restart_times_;
  bool gave_up_ = false;
  bool node_stopping_ = false;
  mutable std::mutex pids_mutex_;  // guards pids_ and restarts_ for the thread-safe getters
  std::vector<std::pair<codec::Atom, std::optional<codec::Pid>>> pids_;
  std::uint64_t restarts_ = 0;
};

}  // namespace cppnode::servers
