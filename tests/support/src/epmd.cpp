// SPDX-License-Identifier: Apache-2.0
#include "cppnode/test_support/epmd.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "cppnode/test_support/child_process.hpp"
#include "cppnode/test_support/names.hpp"

namespace cppnode::test_support {
namespace {

constexpr auto start_timeout = std::chrono::seconds(10);
constexpr int attempts = 5;

// One NAMES_REQ round trip (epmd closes the connection after the answer).
std::string query_names(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return {};
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  const std::array<char, 3> req{0, 1, 'n'};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
    std::array<char, 4096> buf{};
    while (true) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) {
        break;
      }
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n <= 0) {
        break;
      }
      reply.append(buf.data(), static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  // The answer starts with epmd's own port (4 bytes).
  return reply.size() >= 4 ? reply.substr(4) : std::string();
}

}  // namespace

Epmd::Epmd() {
  std::string failures;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const std::uint16_t port = free_tcp_port();
    auto child = std::make_unique<ChildProcess>(
        // IPv6 loopback too, for the IPv6 distribution tests (epmd takes a list).
        std::vector<std::string>{CPPNODE_TEST_EPMD, "-port", std::to_string(port), "-address",
                                 "127.0.0.1,::1"},
        std::vector<std::pair<std::string, std::string>>{{"ERL_EPMD_PORT", std::to_string(port)}});
    const auto deadline = ChildProcess::Clock::now() + start_timeout;
    while (child->running() && ChildProcess::Clock::now() < deadline) {
      if (accepts_on(port)) {
        process_ = std::move(child);
        port_ = port;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Another process took the port between our probe and epmd's bind: try another one.
    failures += "port " + std::to_string(port) + ": " + child->stderr_text() + "; ";
  }
  throw std::runtime_error("could not start " CPPNODE_TEST_EPMD ": " + failures);
}

Epmd::~Epmd() = default;

pid_t Epmd::pid() const noexcept { return process_->pid(); }

std::string Epmd::names() const { return query_names(port_); }

std::uint16_t Epmd::port_of(const std::string& alive) const {
  const std::string text = names();
  const std::string key = "name " + alive + " at port ";
  std::size_t pos = 0;
  while ((pos = text.find(key, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      return static_cast<std::uint16_t>(std::stoul(text.substr(pos + key.size())));
    }
    pos += key.size();
  }
  return 0;
}

}  // namespace cppnode::test_support
