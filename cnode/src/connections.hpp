// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cppnode/cnode/node.hpp"
#include "handshake.hpp"
#include "names.hpp"
#include "peer.hpp"

namespace cppnode::cnode {

/// The node's connections: one Peer per node, the handshakes that set them up with the rules
/// of dist_util and net_kernel for set-ups that race (simultaneous connects, a node that
/// reconnects while its old connection looks up), connecting on demand, node up/down events
/// and keeping `--connect` nodes connected. Thread-safe.
class Connections final : public HandshakeHost {
 public:
  /// `peers` is whom the peers report to; `creation` is the node's, set once it registers.
  Connections(boost::asio::io_context& io, const NodeConfig& config, codec::Atom node,
              const std::atomic<std::uint32_t>& creation, PeerHost& peers);
  ~Connections();
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  /// Takes the TLS contexts of accepted and of opened connections (TLS distribution).
  void use_tls(std::unique_ptr<boost::asio::ssl::context> server,
               std::unique_ptr<boost::asio::ssl::context> client);
  /// Runs the acceptor side of a handshake on a freshly accepted socket.
  void accept(boost::asio::ip::tcp::socket socket);

  /// The peer for `node`, connecting if there is none; null for our own or an invalid name,
  /// or once the node stops.
  std::shared_ptr<Peer> peer_for(codec::Atom node);
  /// Sends over the current connection to `node`, connecting on demand; false if the node is
  /// unreachable right now (then nothing was queued).
  bool send_to(codec::Atom node, OutSignal signal);
  /// Connects to `node` now and again whenever the connection goes, backing off.
  void keep_connected(codec::Atom node);
  [[nodiscard]] std::vector<NodeEvent> connected() const;
  /// Connections (nodes) and set-ups (handshakes) open right now.
  [[nodiscard]] std::size_t node_count() const;
  [[nodiscard]] std::size_t handshake_count();
  /// Connections made since the node started.
  [[nodiscard]] std::uint64_t total() const noexcept {
    return total_.load(std::memory_order_relaxed);
  }

  void on_event(std::function<void(const NodeEvent&)> handler);
  /// The peer's handshake is done: counts it and tells the event handlers.
  void came_up(const std::shared_ptr<Peer>& peer);
  /// The peer is gone: it leaves the table, the handlers hear of it (if it had come up) and a
  /// kept node is connected again.
  void went_down(const std::shared_ptr<Peer>& peer, const std::string& reason, bool was_up);

  /// The node stops: no new connection from now on, reconnection timers and handshakes end.
  void stop_connecting();
  /// Ends every connection once what is queued on it has been written.
  void close_gracefully();
  [[nodiscard]] bool empty() const;
  /// Drops every peer (at the node's end, to break slot → peer → handler cycles).
  void clear();

  // HandshakeHost
  boost::asio::io_context& io() noexcept override { return io_; }
  [[nodiscard]] const NodeConfig& config() const noexcept override { return config_; }
  [[nodiscard]] codec::Atom node_name() const noexcept override { return node_; }
  [[nodiscard]] std::uint32_t creation() const noexcept override { return creation_.load(); }
  [[nodiscard]] std::uint64_t offered_flags() const noexcept override;
  [[nodiscard]] boost::asio::ssl::context* tls_context(bool server) const noexcept override;
  PendingDecision mark_pending(const std::string& node_name,
                               const std::shared_ptr<Handshake>& handshake,
                               std::shared_ptr<Peer>& peer_out) override;
  std::shared_ptr<Peer> replace_stale(const std::string& node_name,
                                      const std::shared_ptr<Handshake>& handshake) override;
  void handshake_nok(const std::shared_ptr<Peer>& peer,
                     const std::shared_ptr<Handshake>& handshake) override;
  bool is_pending(const std::shared_ptr<Peer>& peer,
                  const std::shared_ptr<Handshake>& handshake) override;
  void handshake_failed(const std::shared_ptr<Peer>& peer,
                        const std::shared_ptr<Handshake>& handshake,
                        const std::string& reason) override;
  void handshake_succeeded(const std::shared_ptr<Peer>& peer,
                           const std::shared_ptr<Handshake>& handshake, DistSocket socket,
                           std::uint64_t peer_flags, std::uint32_t peer_creation) override;

 private:
  std::shared_ptr<Peer> make_peer(codec::Atom node);  // under peers_mutex_
  void track(const std::shared_ptr<Handshake>& handshake);
  void emit(const NodeEvent& event);
  void schedule_reconnect(codec::Atom node);

  boost::asio::io_context& io_;
  const NodeConfig& config_;
  codec::Atom node_;
  const std::atomic<std::uint32_t>& creation_;
  PeerHost& peer_host_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<boost::asio::ssl::context> tls_server_;
  std::unique_ptr<boost::asio::ssl::context> tls_client_;

  mutable std::shared_mutex peers_mutex_;
  std::unordered_map<codec::Atom, std::shared_ptr<Peer>, AtomHash> peers_;
  std::atomic<std::uint64_t> next_peer_id_{1};
  std::atomic<std::uint64_t> total_{0};

  std::mutex handshakes_mutex_;
  std::vector<std::weak_ptr<Handshake>> handshakes_;  // to abort them at stop

  std::mutex events_mutex_;
  std::vector<std::function<void(const NodeEvent&)>> event_handlers_;

  struct Kept {
    std::chrono::milliseconds backoff{0};
    std::shared_ptr<boost::asio::steady_timer> timer;
  };
  std::mutex kept_mutex_;
  std::unordered_map<codec::Atom, Kept, AtomHash> kept_;
};

}  // namespace cppnode::cnode
