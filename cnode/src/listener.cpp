// SPDX-License-Identifier: Apache-2.0
#include "listener.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <cerrno>
#include <utility>

namespace cppnode::cnode {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
void set_cloexec(int fd) { ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC); }

// Errors accept(2) reports about the one connection it was taking (a peer that reset it, the
// network errors Linux passes on): the listener itself is fine.
bool is_connection_error(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) {
    return false;
  }
  switch (ec.value()) {
    case ECONNABORTED:
    case EPROTO:
    case ENOPROTOOPT:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case ENONET:
    case EOPNOTSUPP:
    case EAGAIN:
    case EINTR:
      return true;
    default:
      return false;
  }
}
}  // namespace

Listener::Listener(boost::asio::io_context& io, Strand& strand, Connections& connections)
    : strand_(strand), connections_(connections), acceptor_(io), retry_timer_(io) {}

codec::Result<void, Failure> Listener::open(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    return failed(std::make_error_code(std::errc::invalid_argument),
                  "listen address '" + address + "' is not an IP address");
  }
  const tcp::endpoint endpoint(ip, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    set_cloexec(acceptor_.native_handle());
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return failed(ec,
                  "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  return {};
}

void Listener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
}

void Listener::accept_next() {
  acceptor_.async_accept(
      asio::bind_executor(strand_, [this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
          return;
        }
        if (ec && !is_connection_error(ec)) {
          accept_failed(ec);
          return;
        }
        if (ec) {
          // Only that one pending connection failed; the next one may be fine.
          spdlog::debug("accept failed for one connection: {}", ec.message());
        } else {
          accept_succeeded();
          set_cloexec(socket.native_handle());
          connections_.accept(std::move(socket));
        }
        accept_next();
      }));
}

// A failed accept leaves the pending connection in the backlog, so trying again at once fails
// again at once: at the descriptor limit that spun a core and wrote a log line per try while
// any peer kept connecting. Instead the node pauses, 10 ms doubling to 1 s, and says so once;
// the connections it has keep being served meanwhile.
void Listener::accept_failed(const boost::system::error_code& ec) {
  constexpr std::chrono::milliseconds first_pause{10};
  constexpr std::chrono::milliseconds longest_pause{1000};
  ++failures_;
  if (backoff_.count() == 0) {
    backoff_ = first_pause;
    failing_since_ = std::chrono::steady_clock::now();
    rlimit limit{};
    const bool known = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY;
    const std::size_t nodes = connections_.node_count();
    const std::size_t pending = connections_.handshake_count();
    spdlog::warn(
        "cannot accept connections: {} (descriptor limit {}; {} connections open: {} nodes, {} "
        "handshakes); retrying every {} ms at most, and saying so once more when it works again",
        ec.message(), known ? std::to_string(limit.rlim_cur) : std::string("unlimited"),
        nodes + pending, nodes, pending, longest_pause.count());
  } else {
    backoff_ = std::min(backoff_ * 2, longest_pause);
  }
  retry_timer_.expires_after(backoff_);
  retry_timer_.async_wait(asio::bind_executor(strand_, [this](const boost::system::error_code& e) {
    if (!e && acceptor_.is_open()) {
      accept_next();
    }
  }));
}

void Listener::accept_succeeded() {
  if (backoff_.count() == 0) {
    return;
  }
  const std::chrono::duration<double> failing = std::chrono::steady_clock::now() - failing_since_;
  spdlog::info("accepting connections again, after {} failed accepts over {:.1f} s", failures_,
               failing.count());
  backoff_ = std::chrono::milliseconds(0);
  failures_ = 0;
}

}  // namespace cppnode::cnode
