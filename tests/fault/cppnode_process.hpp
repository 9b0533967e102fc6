// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cppnode/test_support/child_process.hpp"
#include "cppnode/test_support/epmd.hpp"

namespace cppnode::fault_testing {

/// The real `cppnode` executable as a child process on 127.0.0.1 (::1 in the IPv6 runs),
/// registered with the fixture's epmd. Killed (SIGKILL) and reaped by PID in the destructor.
class CppNodeProcess {
 public:
  using Clock = std::chrono::steady_clock;
  using Env = std::vector<std::pair<std::string, std::string>>;

  /// Starts `cppnode <test_support::cppnode_dist_args(sname)> <args...>` and waits until it
  /// logs "is running". The name can stay taken in epmd for a moment after the previous holder
  /// was killed, so a refused start is retried. Throws std::runtime_error (with the node's
  /// stderr) if it does not come up.
  CppNodeProcess(const test_support::Epmd& epmd, std::string sname, std::vector<std::string> args,
                 Env env = {});
  ~CppNodeProcess();
  CppNodeProcess(const CppNodeProcess&) = delete;
  CppNodeProcess& operator=(const CppNodeProcess&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return process_->pid(); }
  /// `sname@host` (`sname@::1` in the IPv6 runs).
  [[nodiscard]] const std::string& node_name() const noexcept { return node_name_; }
  /// The node name as a quoted Erlang atom literal.
  [[nodiscard]] std::string atom() const { return "'" + node_name_ + "'"; }
  /// The distribution port the node logged at start.
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  /// VmRSS from /proc/<pid>/status, in KiB (0 if the process is gone).
  [[nodiscard]] long rss_kib() const;
  /// Number of open descriptors (/proc/<pid>/fd entries; -1 if the process is gone).
  [[nodiscard]] int open_fds() const;
  /// Number of threads (/proc/<pid>/status Threads).
  [[nodiscard]] int threads() const;

  /// Everything the node wrote so far.
  [[nodiscard]] std::string stderr_text() { return process_->stderr_text(); }
  [[nodiscard]] std::string stdout_text() { return process_->stdout_text(); }
  /// Waits until stderr holds `text` at least `count` times; false at `timeout`.
  bool wait_log(const std::string& text, std::chrono::milliseconds timeout, std::size_t count = 1);
  /// How often `text` occurs in stderr so far.
  [[nodiscard]] std::size_t log_count(const std::string& text);

  [[nodiscard]] bool running() { return process_->running(); }
  /// Sends `signal`; for SIGKILL also waits until the node is reaped.
  void kill(int signal);
  /// SIGTERM, then waits for a clean exit; returns the exit code (-1 on a signal or timeout).
  int terminate(std::chrono::milliseconds timeout);

 private:
  [[nodiscard]] std::string proc_status_field(const std::string& key) const;

  std::unique_ptr<test_support::ChildProcess> process_;
  std::string node_name_;
  std::uint16_t port_ = 0;
};

/// Counts occurrences of `needle` in `haystack`.
std::size_t count_of(const std::string& haystack, const std::string& needle);

/// Records a measured figure for the README: a GoogleTest property (in the XML report) and a
/// "[figure] name = value unit" stdout line (shown by `ctest -V`).
void record_figure(const std::string& name, double value, const std::string& unit);

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
template <class F>
bool wait_until(F condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace cppnode::fault_testing
