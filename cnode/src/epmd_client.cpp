// SPDX-License-Identifier: Apache-2.0
#include "epmd_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "cppnode/cnode/detail/epmd_protocol.hpp"
#include "cppnode/cnode/epmd.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace cppnode::cnode {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

// A connected non-blocking socket to 127.0.0.1:port, or -1 with errno set.
int connect_local(std::uint16_t port, Clock::time_point deadline) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    return fd;
  }
  if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) {
        return fd;
      }
      errno = err;
    } else {
      errno = ETIMEDOUT;
    }
  }
  const int e = errno;
  ::close(fd);
  errno = e;
  return -1;
}

bool write_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) != 1) {
        return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

// Reads exactly `n` bytes; false on EOF, error or deadline.
bool read_exact(int fd, std::uint8_t* out, std::size_t n, Clock::time_point deadline) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, out, n, 0);
    if (r > 0) {
      out += r;
      n -= static_cast<std::size_t>(r);
    } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) != 1) {
        return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

std::string find_epmd() {
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::filesystem::path dir(std::string(rest.substr(0, colon)));
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
      const auto candidate = dir / "epmd";
      if (::access(candidate.c_str(), X_OK) == 0) {
        return candidate.string();
      }
    }
  }
  for (const char* p : {"/usr/lib/erlang/bin/epmd", "/usr/local/lib/erlang/bin/epmd"}) {
    if (::access(p, X_OK) == 0) {
      return p;
    }
  }
  return {};
}

}  // namespace

bool epmd_running(std::uint16_t port, std::chrono::milliseconds timeout) {
  // A real NAMES_REQ: epmd answers with its port number first (and logs no partial packet).
  const auto deadline = Clock::now() + timeout;
  const int fd = connect_local(port, deadline);
  if (fd < 0) {
    return false;
  }
  std::array<std::uint8_t, 4> reply{};
  const bool ok = write_all(fd, std::string_view("\0\001n", 3), deadline) &&
                  read_exact(fd, reply.data(), reply.size(), deadline);
  ::close(fd);
  return ok;
}

codec::Result<std::uint16_t, Failure> epmd_port_from_env() {
  const char* env = std::getenv("ERL_EPMD_PORT");
  if (env == nullptr || *env == '\0') {
    return std::uint16_t{4369};
  }
  char* end = nullptr;
  errno = 0;
  const unsigned long v = std::strtoul(env, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0 || v > 65535) {
    return failed(std::make_error_code(std::errc::invalid_argument),
                  std::string("ERL_EPMD_PORT must be a port number 1..65535, got '") + env + "'");
  }
  return static_cast<std::uint16_t>(v);
}

codec::Result<void, Failure> ensure_epmd(std::uint16_t port) {
  if (epmd_running(port, std::chrono::milliseconds(500))) {
    return {};
  }
  const std::string epmd = find_epmd();
  if (epmd.empty()) {
    return failed(std::make_error_code(std::errc::no_such_file_or_directory),
                  "no epmd is running and no epmd executable was found");
  }
  const std::string port_text = std::to_string(port);
  std::vector<std::string> args{epmd, "-daemon", "-port", port_text};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The daemon must not inherit our sockets.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, epmd.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return failed({rc, std::generic_category()}, "cannot start " + epmd + ": " + std::strerror(rc));
  }
  // `epmd -daemon` forks and its first process exits at once.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    if (epmd_running(port, std::chrono::milliseconds(200))) {
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return failed(std::make_error_code(std::errc::connection_refused),
                "started " + epmd + " -daemon -port " + port_text + " but it does not accept");
}

namespace detail {

codec::Result<EpmdRegistration, Failure> register_with_epmd(std::uint16_t epmd_port,
                                                            std::string_view alive,
                                                            std::uint16_t port,
                                                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const int fd = connect_local(epmd_port, deadline);
  if (fd < 0) {
    const std::error_code ec(errno, std::generic_category());
    return failed(ec, "cannot reach epmd on 127.0.0.1:" + std::to_string(epmd_port) + " (" +
                          ec.message() + "); start it with `epmd -daemon` or let cppnode start it");
  }
  auto assigned = [&]() -> codec::Result<std::uint32_t, std::string> {
    std::array<std::uint8_t, 6> reply{};
    if (!write_all(fd, encode_alive2_req(port, alive), deadline) ||
        !read_exact(fd, reply.data(), 1, deadline)) {
      return codec::unexpected("epmd did not answer the registration");
    }
    if (const std::size_t need = alive2_response_size(reply[0]);
        need != 0 && !read_exact(fd, reply.data() + 1, need - 1, deadline)) {
      return codec::unexpected("epmd's answer to the registration is truncated");
    }
    return parse_alive2_response(std::span<const std::uint8_t>(reply.data(), reply.size()));
  }();
  if (!assigned) {
    ::close(fd);
    return failed(std::make_error_code(std::errc::address_in_use),
                  "registering '" + std::string(alive) + "' with epmd failed: " + assigned.error());
  }
  return EpmdRegistration{fd, *assigned};
}

}  // namespace detail
}  // namespace cppnode::cnode
