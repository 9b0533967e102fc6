// SPDX-License-Identifier: Apache-2.0
#include "cppnode/test_support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace cppnode::test_support {
namespace {

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2 failed: ") + std::strerror(errno));
  }
}

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
  }
  fd = -1;
}

int remaining_ms(ChildProcess::Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - ChildProcess::Clock::now());
  if (left.count() <= 0) {
    return 0;
  }
  return static_cast<int>(std::min<long long>(left.count(), 1'000'000));
}

// Runs in the forked child: only async-signal-safe calls until execve.
[[noreturn]] void exec_child(const char* path, char* const* argv, char* const* envp, int in,
                             int out, int err, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {
    ::_exit(127);
  }
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  // Sockets of the code under test (Asio does not open them close-on-exec) must not stay open
  // in the child, or a connection the test closes would stay half-alive.
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    for (int fd = 3; fd < 65536; ++fd) {
      ::close(fd);
    }
  }
  ::signal(SIGPIPE, SIG_DFL);
  ::execve(path, argv, envp);
  ::_exit(127);
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv,
                           const std::vector<std::pair<std::string, std::string>>& env) {
  if (argv.empty()) {
    throw std::invalid_argument("ChildProcess: empty argv");
  }
  // Writing to a child that died must be an error code, not a process-killing signal.
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [key, value] : env) {
      if (entry.size() > key.size() && entry.substr(0, key.size()) == key &&
          entry[key.size()] == '=') {
        overridden = true;
      }
    }
    if (!overridden) {
      env_strings.emplace_back(entry);
    }
  }
  for (const auto& [key, value] : env) {
    env_strings.push_back(key + "=" + value);
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) {
    envp.push_back(s.data());
  }
  envp.push_back(nullptr);
  std::vector<char*> argp;
  for (auto& s : argv) {
    argp.push_back(s.data());
  }
  argp.push_back(nullptr);

  int in[2];
  int out[2];
  int err[2];
  int wake[2];
  make_pipe(in);
  make_pipe(out);
  make_pipe(err);
  make_pipe(wake);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1], wake[0], wake[1]}) {
      ::close(fd);
    }
    throw std::runtime_error("fork for " + argv[0] + " failed: " + std::strerror(e));
  }
  if (pid == 0) {
    exec_child(argp[0], argp.data(), envp.data(), in[0], out[1], err[1], parent);
  }

  pid_ = pid;
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  stderr_fd_ = err[0];
  wake_read_ = wake[0];
  wake_write_ = wake[1];
  ::fcntl(stdin_fd_, F_SETFL, ::fcntl(stdin_fd_, F_GETFL) | O_NONBLOCK);
  reader_ = std::thread([this] { drain(); });
}

ChildProcess::~ChildProcess() {
  kill_and_reap();
  if (wake_write_ >= 0) {
    const char c = 'x';
    [[maybe_unused]] auto n = ::write(wake_write_, &c, 1);
  }
  if (reader_.joinable()) {
    reader_.join();
  }
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
  close_fd(wake_read_);
  close_fd(wake_write_);
}

void ChildProcess::drain() {
  std::array<char, 16384> buf{};
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    std::array<pollfd, 3> fds{{{out_open ? stdout_fd_ : -1, POLLIN, 0},
                               {err_open ? stderr_fd_ : -1, POLLIN, 0},
                               {wake_read_, POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (fds[2].revents != 0) {
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      const ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      std::lock_guard lock(mutex_);
      if (n <= 0) {
        (i == 0 ? out_open : err_open) = false;
      } else {
        (i == 0 ? out_ : err_).append(buf.data(), static_cast<std::size_t>(n));
      }
      changed_.notify_all();
    }
  }
  std::lock_guard lock(mutex_);
  outputs_closed_ = true;
  changed_.notify_all();
}

void ChildProcess::reap_locked(bool block) {
  if (status_ || pid_ <= 0) {
    return;
  }
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = status;
  }
  if (r < 0 && errno == ECHILD) {
    status_ = -1;  // reaped elsewhere: treat as gone
  }
}

bool ChildProcess::running() {
  std::lock_guard lock(mutex_);
  reap_locked(false);
  return !status_.has_value();
}

std::optional<int> ChildProcess::exit_status() {
  std::lock_guard lock(mutex_);
  reap_locked(false);
  return status_;
}

void ChildProcess::kill(int signal) {
  std::lock_guard lock(mutex_);
  reap_locked(false);
  if (!status_) {
    ::kill(pid_, signal);
  }
}

bool ChildProcess::wait_exit(Clock::time_point deadline) {
  // No SIGCHLD plumbing in a test library: poll waitpid with short naps until the deadline.
  while (running()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Let the reader take in everything the child wrote before it exited.
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, deadline, [this] { return outputs_closed_; });
  return true;
}

void ChildProcess::kill_and_reap() {
  std::lock_guard lock(mutex_);
  reap_locked(false);
  if (status_) {
    return;
  }
  ::kill(pid_, SIGKILL);
  reap_locked(true);
}

bool ChildProcess::write_stdin(std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    if (stdin_fd_ < 0) {
      return false;
    }
    const ssize_t n = ::write(stdin_fd_, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      pollfd p{stdin_fd_, POLLOUT, 0};
      const int ms = remaining_ms(deadline);
      if (ms == 0) {
        return false;
      }
      ::poll(&p, 1, ms);
      continue;
    }
    return false;
  }
  return true;
}

void ChildProcess::close_stdin() { close_fd(stdin_fd_); }

bool ChildProcess::wait_stdout(const std::function<bool(const std::string&)>& pred,
                               Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  while (true) {
    if (pred(out_)) {
      return true;
    }
    if (outputs_closed_ || Clock::now() >= deadline) {
      return false;
    }
    changed_.wait_until(lock, deadline);
  }
}

bool ChildProcess::wait_stderr(const std::function<bool(const std::string&)>& pred,
                               Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  while (true) {
    if (pred(err_)) {
      return true;
    }
    if (outputs_closed_ || Clock::now() >= deadline) {
      return false;
    }
    changed_.wait_until(lock, deadline);
  }
}

std::string ChildProcess::stdout_text() {
  std::lock_guard lock(mutex_);
  return out_;
}

std::string ChildProcess::stderr_text() {
  std::lock_guard lock(mutex_);
  return err_;
}

}  // namespace cppnode::test_support
