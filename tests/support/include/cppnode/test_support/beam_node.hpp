// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cppnode::test_support {

class ChildProcess;
class Epmd;

/// Which runtime drives the node, and so which language `BeamNode::eval` takes.
enum class BeamKind { erlang, elixir };

struct BeamOptions {
  BeamKind kind = BeamKind::erlang;
  /// The node's short name is `unique_name(name_prefix)`.
  std::string name_prefix = "beam";
  std::string cookie = "cppnode_test_cookie";
  /// Start as a hidden node.
  bool hidden = false;
  /// The distribution's transport: "" as the run says (TLS under CPPNODE_TEST_DIST=tls, see
  /// tls.hpp), "tcp" plain TCP always, or the name of a test certificate to run TLS with
  /// ("node", "wrongca", "expired", "nosan"), trusting the CA `tls_ca`.
  std::string tls_cert{};
  std::string tls_ca = "ca";
  /// Distribution over IPv6 (`-proto_dist inet6_tcp`, or `inet6_tls` with TLS) on ::1, with the
  /// long name `<prefix>@::1`.
  bool ipv6 = false;
  /// Extra `erl` arguments (for elixir nodes they go through `--erl`).
  std::vector<std::string> erl_args{};
  /// How long the node may take to boot and answer its first eval.
  std::chrono::milliseconds start_timeout{30'000};
  /// Default limit for one `eval`.
  std::chrono::milliseconds eval_timeout{10'000};
};

/// The root of the chroot that BeamNode starts `erl`/`elixir` in: $CPPNODE_TEST_OTP_ROOT (a tree
/// made by scripts/otp_chroot, e.g. /var/cache/cppnode-otp/trixie for OTP 27), or "" for the
/// host's release. The chroot shares the host's network, epmd and process ids.
std::string otp_root();

/// A real `erl` (or `elixir`) node with `-sname`, a cookie and the fixture's epmd, listening on
/// 127.0.0.1 only, driven through a control loop on its stdin
/// (erlang_test_harness/cppnode_eval_loop.erl). Killed by PID and reaped in the destructor; it
/// also halts by itself when the test process goes away (stdin EOF). Throws std::runtime_error
/// if the node does not come up (the message includes its stderr).
class BeamNode {
 public:
  BeamNode(const Epmd& epmd, BeamOptions options = {});
  ~BeamNode();
  BeamNode(const BeamNode&) = delete;
  BeamNode& operator=(const BeamNode&) = delete;

  /// `name@host`, as the node's `node()` returns it.
  [[nodiscard]] const std::string& node_name() const noexcept { return node_name_; }
  /// The short name without `@host`.
  [[nodiscard]] const std::string& sname() const noexcept { return sname_; }
  [[nodiscard]] const std::string& cookie() const noexcept { return options_.cookie; }
  [[nodiscard]] pid_t pid() const noexcept;

  /// Evaluates Erlang expressions (erlang nodes; the final `.` is optional) or Elixir code
  /// (elixir nodes) in the node's control process and returns the value printed like `~p` on one
  /// line. Each call starts with fresh variable bindings (keep values with put/get); the control
  /// process and its mailbox stay the same across calls. A raised error comes
  /// back as `{eval_error,Class,Reason,Stack}`. On timeout or if the node is dead, records a
  /// GoogleTest failure (with the node's stderr) and returns "<eval failed: ...>" — never hangs.
  std::string eval(std::string_view code);
  std::string eval(std::string_view code, std::chrono::milliseconds timeout);

  /// Sends `signal` (SIGKILL by default) and, for SIGKILL, waits until the node is reaped.
  void kill(int signal = SIGKILL);
  [[nodiscard]] bool running();
  /// The node's stderr and any stray stdout so far, for failure messages.
  [[nodiscard]] std::string diagnostics();

 private:
  BeamOptions options_;
  std::string sname_;
  std::string node_name_;
  std::unique_ptr<ChildProcess> process_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace cppnode::test_support
