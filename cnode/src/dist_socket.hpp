// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <utility>

namespace cppnode::cnode {

/// A distribution connection's byte stream: plain TCP (`inet_tcp`), or TLS over TCP
/// (`inet_tls`). An Asio AsyncStream either way, so the handshake and the peer read and write
/// it alike; only the peer's direct non-blocking write is for plain TCP alone.
class DistSocket {
 public:
  using Tcp = boost::asio::ip::tcp::socket;
  using TlsStream = boost::asio::ssl::stream<Tcp>;
  using executor_type = Tcp::executor_type;

  /// Not yet connected (plain until wrapped).
  explicit DistSocket(boost::asio::io_context& io) : tcp_(io) {}
  explicit DistSocket(Tcp socket) : tcp_(std::move(socket)) {}
  /// Wraps a connected socket in TLS; the TLS handshake is the caller's next step.
  DistSocket(Tcp socket, boost::asio::ssl::context& context)
      : tcp_(socket.get_executor()),
        tls_(std::make_unique<TlsStream>(std::move(socket), context)) {}

  [[nodiscard]] bool is_tls() const noexcept { return tls_ != nullptr; }
  [[nodiscard]] TlsStream& tls() noexcept { return *tls_; }
  [[nodiscard]] Tcp& tcp() noexcept { return tls_ ? tls_->next_layer() : tcp_; }
  [[nodiscard]] executor_type get_executor() noexcept { return tcp().get_executor(); }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      tcp_.async_read_some(buffers, std::forward<Handler>(handler));
    }
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      tcp_.async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  /// Closes the TCP connection at once (no TLS close_notify: the peer sees the connection end,
  /// as when a node dies).
  void close() noexcept {
    boost::system::error_code ignored;
    tcp().close(ignored);
  }

 private:
  Tcp tcp_;  // the connection when plain; unused (moved into tls_) under TLS
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace cppnode::cnode
