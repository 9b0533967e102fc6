// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace cppnode::test_support {

/// A child process with piped stdin/stdout/stderr. A background thread drains stdout and stderr
/// into buffers so the child never blocks on a full pipe. The child gets SIGKILL if the thread
/// that started it exits (PR_SET_PDEATHSIG), and inherits no descriptor beyond 0..2.
/// The destructor kills (SIGKILL) and reaps it if it still runs.
class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  /// Starts `argv[0]` (a path) with the environment plus `env` overrides. Throws
  /// std::runtime_error naming the program if it cannot be started.
  ChildProcess(std::vector<std::string> argv,
               const std::vector<std::pair<std::string, std::string>>& env);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// False once the child has exited (it is reaped then).
  [[nodiscard]] bool running();
  /// The wait status once the child has exited.
  [[nodiscard]] std::optional<int> exit_status();
  /// Sends `signal` to the child (if it still runs).
  void kill(int signal);
  /// Waits until the child exits or `deadline`; true if it exited (and was reaped). Its output
  /// up to the exit is then in stdout_text()/stderr_text() (unless a grandchild keeps the pipes
  /// open past the deadline).
  bool wait_exit(Clock::time_point deadline);
  /// SIGKILL if it still runs, then reap. Idempotent.
  void kill_and_reap();

  /// Writes all of `data` to the child's stdin; false if the child stopped reading or closed
  /// stdin before `deadline`.
  bool write_stdin(std::string_view data, Clock::time_point deadline);
  void close_stdin();

  /// Waits until `pred(stdout_so_far)` holds, the output ends, or `deadline`; returns `pred`'s
  /// last answer. `pred` runs under the buffer lock: keep it short.
  bool wait_stdout(const std::function<bool(const std::string&)>& pred, Clock::time_point deadline);
  /// Same for stderr.
  bool wait_stderr(const std::function<bool(const std::string&)>& pred, Clock::time_point deadline);
  [[nodiscard]] std::string stdout_text();
  [[nodiscard]] std::string stderr_text();

 private:
  void drain();
  void reap_locked(bool block);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string out_;
  std::string err_;
  bool outputs_closed_ = false;
  std::optional<int> status_;
  std::thread reader_;
};

}  // namespace cppnode::test_support
