// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cppnode/codec/term.hpp"
#include "dist_socket.hpp"

namespace boost::asio::ssl {
class context;
}

namespace cppnode::cnode {

class Handshake;
class Peer;
struct NodeConfig;

/// What the acceptor answers a node that asks to connect (dist_util's mark_pending).
enum class PendingDecision { ok, ok_simultaneous, nok, alive, reject };

/// What a handshake asks of its node: who the node is, and the rules of dist_util and
/// net_kernel for set-ups that race (the node's Connections answers).
class HandshakeHost {
 public:
  [[nodiscard]] virtual boost::asio::io_context& io() noexcept = 0;
  [[nodiscard]] virtual const NodeConfig& config() const noexcept = 0;
  [[nodiscard]] virtual codec::Atom node_name() const noexcept = 0;
  [[nodiscard]] virtual std::uint32_t creation() const noexcept = 0;
  /// The distribution flags this node offers.
  [[nodiscard]] virtual std::uint64_t offered_flags() const noexcept = 0;
  /// The TLS context of accepted (`server`) or opened connections; null for plain TCP.
  [[nodiscard]] virtual boost::asio::ssl::context* tls_context(bool server) const noexcept = 0;

  /// The acceptor's answer to `node_name`; on ok/ok_simultaneous `peer_out` is the peer the
  /// handshake now sets up.
  virtual PendingDecision mark_pending(const std::string& node_name,
                                       const std::shared_ptr<Handshake>& handshake,
                                       std::shared_ptr<Peer>& peer_out) = 0;
  /// After `alive` and a proven cookie: the old connection goes, a new peer comes.
  virtual std::shared_ptr<Peer> replace_stale(const std::string& node_name,
                                              const std::shared_ptr<Handshake>& handshake) = 0;
  /// The other side answered `nok` (it keeps its own attempt).
  virtual void handshake_nok(const std::shared_ptr<Peer>& peer,
                             const std::shared_ptr<Handshake>& handshake) = 0;
  /// Whether `handshake` still owns the set-up of `peer` (dist_util's is_pending).
  [[nodiscard]] virtual bool is_pending(const std::shared_ptr<Peer>& peer,
                                        const std::shared_ptr<Handshake>& handshake) = 0;
  virtual void handshake_failed(const std::shared_ptr<Peer>& peer,
                                const std::shared_ptr<Handshake>& handshake,
                                const std::string& reason) = 0;
  virtual void handshake_succeeded(const std::shared_ptr<Peer>& peer,
                                   const std::shared_ptr<Handshake>& handshake, DistSocket socket,
                                   std::uint64_t peer_flags, std::uint32_t peer_creation) = 0;

 protected:
  HandshakeHost() = default;
  ~HandshakeHost() = default;
  HandshakeHost(const HandshakeHost&) = default;
  HandshakeHost& operator=(const HandshakeHost&) = default;
};

/// One connection set-up, either direction: epmd lookup and TCP connect (outgoing), the TLS
/// handshake when the node runs TLS distribution, then the OTP 23+ handshake of dist_util.erl
/// (inside TLS), on its own strand with a deadline of
/// `handshake_timeout` — a silent or garbage-sending peer costs nothing but its own socket.
class Handshake : public std::enable_shared_from_this<Handshake> {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  /// Connects to `peer->name()` on behalf of `peer` (which must list us as its owner).
  static std::shared_ptr<Handshake> start_outgoing(HandshakeHost& node,
                                                   const std::shared_ptr<Peer>& peer);
  /// Runs the acceptor side on a freshly accepted socket.
  static void start_incoming(HandshakeHost& node, boost::asio::ip::tcp::socket socket);

  Handshake(HandshakeHost& node, boost::asio::ip::tcp::socket socket, bool outgoing);
  /// Abandons the set-up (any thread): closes the socket; the peer is not told.
  void abort(std::string reason);

 private:
  using Next = std::function<void(std::span<const std::uint8_t>)>;

  void arm_deadline();
  void resolve();
  void ask_epmd(const boost::asio::ip::tcp::resolver::results_type& endpoints);
  void connect_to(const boost::asio::ip::tcp::endpoint& endpoint);
  void start_tls(bool server, std::function<void()> next);
  void send_name();
  void on_status(std::span<const std::uint8_t> body);
  void on_challenge(std::span<const std::uint8_t> body);
  void on_challenge_ack(std::span<const std::uint8_t> body);

  void on_name(std::span<const std::uint8_t> body);
  void continue_accept(const std::string& status);
  void send_challenge();
  void on_challenge_reply(std::span<const std::uint8_t> body);

  void read_message(Next next);
  void write(std::string bytes, std::function<void()> next);
  void fail(const std::string& reason, bool quiet = false);
  void succeed();

  HandshakeHost& node_;
  Strand strand_;
  DistSocket socket_;
  boost::asio::ip::tcp::socket epmd_socket_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer timer_;
  std::array<std::uint8_t, 4> header_{};
  std::vector<std::uint8_t> body_;
  std::vector<std::uint8_t> epmd_reply_;
  std::string write_buf_;
  bool outgoing_;
  bool name_me_ = false;  // the peer asked to be named
  bool done_ = false;
  bool aborted_ = false;
  bool timed_out_ = false;
  bool replaces_stale_ =
      false;  // answered `alive`: the old connection goes once the cookie is proven
  std::string abort_reason_;
  std::shared_ptr<Peer> peer_;
  std::string peer_name_;  // full node name; empty until known (incoming)
  std::string peer_host_;
  std::uint64_t peer_flags_ = 0;
  std::uint32_t peer_creation_ = 0;
  std::uint32_t our_challenge_ = 0;
};

}  // namespace cppnode::cnode
