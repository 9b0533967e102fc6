// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "connections.hpp"
#include "cppnode/cnode/failure.hpp"

namespace cppnode::cnode {

/// The node's listening socket: accepts connections and hands each to `Connections`. Through
/// an episode of failed accepts (the descriptor limit, say) it pauses between tries and says
/// so once. Used only on `strand` once the node runs: Asio's I/O objects are not safe to use
/// from two threads at once.
class Listener {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  Listener(boost::asio::io_context& io, Strand& strand, Connections& connections);

  /// Opens, binds and listens on `address`:`port` (0: any port).
  codec::Result<void, Failure> open(const std::string& address, std::uint16_t port);
  /// The port bound by `open`.
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// Accepts until `close`.
  void start() { accept_next(); }
  void close();

 private:
  void accept_next();
  void accept_failed(const boost::system::error_code& ec);
  void accept_succeeded();

  Strand& strand_;
  Connections& connections_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  // The pause before the next try, zero outside an episode, and what the recovery line reports.
  boost::asio::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_{0};
  std::uint64_t failures_ = 0;
  std::chrono::steady_clock::time_point failing_since_;
};

}  // namespace cppnode::cnode
