// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "cppnode/cnode/detail/framing.hpp"
#include "cppnode/codec/dist_header.hpp"
#include "cppnode/codec/result.hpp"
#include "cppnode/codec/term.hpp"
#include "dist_socket.hpp"

namespace cppnode::cnode {

class Handshake;
class Peer;
struct NodeConfig;
struct ProcessSlot;
namespace detail {
struct ControlMessage;
}

/// What became of a control message: handled (or refused alone), or why the connection must
/// close.
using Handled = codec::Result<void, std::string>;

/// What a connection asks of its node, and no more (as the chat room is to a session in Asio's
/// chat-server example). The node implements it.
class PeerHost {
 public:
  /// The connection carries traffic (the handshake is done).
  virtual void peer_up(const std::shared_ptr<Peer>& peer) = 0;
  /// The connection is gone; `was_up` if it had come up.
  virtual void peer_down(const std::shared_ptr<Peer>& peer, const std::string& reason,
                         bool was_up) = 0;
  /// A control message read from `peer`, on its strand; an error closes the connection.
  virtual Handled handle_control(const std::shared_ptr<Peer>& peer, detail::ControlMessage& m) = 0;
  /// The busy queue `slot` waited for has drained or gone.
  virtual void resume(const std::shared_ptr<ProcessSlot>& slot) = 0;

 protected:
  PeerHost() = default;
  ~PeerHost() = default;
  PeerHost(const PeerHost&) = default;
  PeerHost& operator=(const PeerHost&) = default;
};

// Outgoing signals, kept as values while the connection is being set up (their encoding depends
// on the flags the handshake negotiates).
struct OutSend {
  codec::Pid to;
  codec::Term message;
};
struct OutRegSend {
  codec::Pid from;
  codec::Atom name;
  codec::Term message;
};
struct OutAliasSend {
  codec::Pid from;
  codec::Reference alias;
  codec::Pid fallback;  // used when the peer has no DFLAG_ALIAS
  codec::Term message;
};
struct OutLink {
  codec::Pid from;
  codec::Pid to;
};
struct OutUnlink {
  std::uint64_t id;
  codec::Pid from;
  codec::Pid to;
};
struct OutUnlinkAck {
  std::uint64_t id;
  codec::Pid from;
  codec::Pid to;
};
struct OutExit {
  bool is_link;
  codec::Pid from;
  codec::Pid to;
  codec::Term reason;
};
struct OutMonitor {
  bool demonitor;
  codec::Pid from;
  codec::Term target;  // Pid or name atom
  codec::Reference ref;
};
struct OutMonitorExit {
  codec::Term from_proc;  // Pid or name atom
  codec::Pid to;
  codec::Reference ref;
  codec::Term reason;
};
struct OutSpawnReply {
  codec::Reference ref;
  codec::Pid to;
  std::int64_t flags;
  codec::Term result;  // the new Pid or an error atom
};
using OutSignal = std::variant<OutSend, OutRegSend, OutAliasSend, OutLink, OutUnlink, OutUnlinkAck,
                               OutExit, OutMonitor, OutMonitorExit, OutSpawnReply>;

/// Appends the packet for `signal` as a peer with `flags` expects it; nothing for a signal that
/// such a peer does not take (monitor signals without DIST_MONITOR, UNLINK_ID_ACK without
/// UNLINK_ID). With `cache` (the connection's, when DIST_HDR_ATOM_CACHE is negotiated) the
/// packet has a distribution header.
void encode_out(const OutSignal& signal, std::uint64_t flags, std::string& out,
                codec::AtomCacheOut* cache = nullptr);

/// One remote node: the connection once the handshake is done, the signals queued before that,
/// and the write queue. Senders on any thread encode outside the lock and append under a short
/// lock; one write per batch runs on the peer's strand. Reads, ticks and state changes run on the
/// strand too. A Peer never comes back from `down`: the node makes a new one.
class Peer : public std::enable_shared_from_this<Peer> {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  Peer(PeerHost& host, boost::asio::io_context& io, const NodeConfig& config, codec::Atom name,
       std::uint64_t id);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  [[nodiscard]] codec::Atom name() const noexcept { return name_; }
  /// Unique per connection attempt: tells an old connection's links from a new one's.
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] bool is_up() const noexcept { return up_.load(std::memory_order_acquire); }
  [[nodiscard]] bool is_down() const noexcept { return down_.load(); }
  /// Negotiated flags (valid once up).
  [[nodiscard]] std::uint64_t flags() const noexcept { return flags_; }
  /// Whether the peer does not publish itself (valid once up).
  [[nodiscard]] bool hidden() const noexcept { return hidden_; }
  [[nodiscard]] std::uint32_t creation() const noexcept { return creation_; }

  /// Queues `signal`; false if the connection is down (then `signal` is left untouched and the
  /// caller reports noconnection or retries on a new connection). A signal that leaves the queue
  /// busy (`dist_buf_busy_limit` bytes or more) tells the node, which suspends the sending
  /// process once its callback returns, as the BEAM suspends a sender on a busy connection.
  bool send(OutSignal&& signal);
  /// Keeps `slot` to be resumed (PeerHost::resume) once the queue drains below the busy limit
  /// or the connection goes down; false, and nothing kept, if the queue is not busy now.
  bool suspend_until_not_busy(const std::shared_ptr<ProcessSlot>& slot);

  /// The handshake that currently owns the set-up (guarded by the node's peer-table lock).
  std::weak_ptr<Handshake> owner;
  /// Whether the owner is our outgoing attempt (for simultaneous connects).
  bool owner_outgoing = false;
  /// A handshake succeeded and the socket is on its way to `attach` (peer-table lock).
  bool handshake_done = false;

  /// Takes over a socket whose handshake succeeded (any thread).
  void attach(DistSocket socket, std::uint64_t flags, std::uint32_t creation, bool hidden);
  /// Ends the connection (any thread); queued signals are dropped, links and monitors across it
  /// fire with `noconnection`.
  void fail(std::string reason);
  /// Flushes what is queued, then closes (for node shutdown).
  void close_gracefully();
  /// Fails the peer unless it is up within `timeout` (after our attempt lost a simultaneous
  /// connect and we wait for the other side's).
  void expect_up_within(std::chrono::milliseconds timeout);

 private:
  void do_attach(DistSocket& socket);
  void do_fail(const std::string& reason);
  bool append(std::string_view bytes, bool* busy = nullptr);
  [[nodiscard]] bool busy_locked() const;
  /// The suspended senders, if the queue is no longer busy (or the connection is down).
  std::vector<std::shared_ptr<ProcessSlot>> senders_to_resume_locked();
  void resume(const std::vector<std::shared_ptr<ProcessSlot>>& senders);
  void kick_locked();
  void flush();
  void start_read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  /// Handles every whole packet read so far; false if the connection failed.
  bool handle_packets();
  bool handle_packet(std::span<const std::uint8_t> packet);
  // A quarter of net_ticktime, as dist_util's ticker.
  void arm_tick_timer();
  void on_tick_timer();
  void send_tick();

  PeerHost& host_;
  const NodeConfig& config_;
  codec::Atom name_;
  std::uint64_t id_;
  Strand strand_;
  DistSocket socket_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer deadline_timer_;
  detail::PacketReader<4> reader_;

  // guards state_, pending_, deferred_, write_scheduled_, in_flight_, deferred_bytes_, suspended_
  std::mutex mutex_;
  enum class State { pending, up, down } state_ = State::pending;
  std::string pending_;
  std::vector<OutSignal> deferred_;
  bool write_scheduled_ = false;
  std::size_t in_flight_ = 0;       // bytes of the batch being written
  std::size_t deferred_bytes_ = 0;  // what deferred_ will take once encoded, about
  std::vector<std::shared_ptr<ProcessSlot>> suspended_;  // senders waiting for the queue to drain
  std::atomic<bool> up_{false};
  std::atomic<bool> down_{false};
  std::uint64_t flags_ = 0;
  std::uint32_t creation_ = 0;
  bool hidden_ = true;
  // Set on attach when DIST_HDR_ATOM_CACHE is negotiated, then never replaced: the outgoing half
  // is used under mutex_, the incoming half on the strand.
  std::unique_ptr<codec::AtomCacheOut> atom_cache_out_;
  std::unique_ptr<codec::AtomCacheIn> atom_cache_in_;

  // Strand-only.
  std::string writing_;
  bool closing_ = false;
  bool reading_ = false;  // on_read is handling packets: their replies are flushed at its end
  bool flush_after_read_ = false;
  bool read_since_tick_ = false;
  bool wrote_since_tick_ = false;
  bool ticked_since_timer_ = false;
  int silent_ticks_ = 0;
};

}  // namespace cppnode::cnode
