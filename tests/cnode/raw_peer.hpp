// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cppnode/cnode/detail/control.hpp"
#include "cppnode/cnode/detail/dist_flags.hpp"
#include "cppnode/cnode/detail/epmd_protocol.hpp"
#include "cppnode/cnode/detail/framing.hpp"
#include "cppnode/cnode/detail/handshake_protocol.hpp"
#include "cppnode/codec/dist_header.hpp"

namespace cppnode::cnode::testing {

/// A hand-driven TCP peer of the C node: it can stay silent, send garbage, or do a real
/// handshake (initiator side) and then misbehave. Blocking, with deadlines.
class RawListener;

class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("RawPeer: cannot connect to port " + std::to_string(port));
    }
  }
  /// Adopts a connected socket (e.g. one accepted by a RawListener).
  struct Adopt {};
  RawPeer(Adopt, int fd) : fd_(fd) {}
  ~RawPeer() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  /// The flags this peer offers in send_name (set before the handshake): a peer without a
  /// capability tests what the node sends to such a peer.
  std::uint64_t flags = detail::dflag::ours;
  /// The flags the node offered in its challenge (set by the handshake).
  std::uint64_t node_flags = 0;
  /// The first byte of the last packet read: 112 (pass-through) or 131 (distribution header).
  std::uint8_t last_packet_start = 0;

  /// Whether both sides offered DIST_HDR_ATOM_CACHE: packets then start with a distribution
  /// header, both ways.
  [[nodiscard]] bool atom_cache() const {
    return (flags & node_flags & detail::dflag::dist_hdr_atom_cache) != 0;
  }
  /// The cache to encode this peer's packets with (detail::encode_*), null without the flag.
  codec::AtomCacheOut* out_cache() { return atom_cache() ? cache_out_.get() : nullptr; }
  /// The cache the node's last header filled (atom_cache() only).
  [[nodiscard]] const codec::AtomCacheIn& in_cache() const { return *cache_in_; }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;  // the node may already have closed us: that is what tests check
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// Runs the initiator handshake as `name` with `cookie`; returns "" on success, else what
  /// went wrong (the status the node sent, or "closed").
  std::string handshake(const std::string& name, const std::string& cookie,
                        const std::string& expected_node) {
    send_name(name);
    const std::string status = read_status();
    if (status != "ok" && status != "ok_simultaneous") return status;
    return finish_handshake(cookie, expected_node);
  }

  void send_name(const std::string& name) { send(detail::encode_send_name(flags, 1, name)); }
  void send_status(const std::string& status) { send(detail::encode_status(status)); }
  /// The next status message's text, or "closed".
  std::string read_status() {
    auto body = read_message();
    if (body.empty()) return "closed";
    auto status = detail::parse_status(body);
    return status ? *status : status.error();
  }
  /// After an ok status: challenge, reply, ack. "" on success.
  std::string finish_handshake(const std::string& cookie, const std::string& expected_node) {
    auto body = read_message();
    auto challenge = detail::parse_challenge(body);
    if (!challenge) return body.empty() ? "closed" : challenge.error();
    if (challenge->name != expected_node) return "unexpected node " + challenge->name;
    node_flags = challenge->flags;
    const std::uint32_t mine = 12345;
    send(detail::encode_challenge_reply(mine,
                                        detail::handshake_digest(challenge->challenge, cookie)));
    body = read_message();
    if (body.empty()) return "closed";
    auto ack = detail::parse_challenge_ack(body);
    if (!ack) return ack.error();
    if (!detail::digest_equal(detail::handshake_digest(mine, cookie), *ack)) return "bad ack";
    return "";
  }

  /// Closes the connection, as a peer that goes away.
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  /// The next distribution packet that is not a tick, parsed; nullopt on close or timeout.
  std::optional<detail::ControlMessage> read_packet() {
    while (true) {
      std::uint8_t header[4];
      if (!read_exact(header, 4)) return std::nullopt;
      std::vector<std::uint8_t> body(detail::get_u32(header));
      if (body.empty()) continue;
      if (!read_exact(body.data(), body.size())) return std::nullopt;
      last_packet_start = body[0];
      auto m = detail::parse_control_full(body, {}, atom_cache() ? cache_in_.get() : nullptr);
      if (!m) throw std::runtime_error("RawPeer: bad packet from the node: " + m.error());
      return std::move(*m);
    }
  }

  /// The packets that are not ticks up to and including the first one `last` accepts; stops
  /// early (without such a packet) on close or after 10 s of silence.
  template <class Pred>
  std::vector<detail::ControlMessage> read_packets_until(Pred last) {
    std::vector<detail::ControlMessage> out;
    while (auto m = read_packet()) {
      out.push_back(std::move(*m));
      if (last(out.back())) break;
    }
    return out;
  }

  /// A handshake message the node sent, raw (for the acceptor-side tests).
  std::vector<std::uint8_t> read_handshake_message() { return read_message(); }

  /// True once the node has closed the connection (reads give EOF or an error), within
  /// `timeout`. Data the node sends meanwhile (ticks) is discarded.
  bool closed_by_node(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<char> buf(4096);
    // Polls at least once, so a zero timeout asks "closed already?" rather than answering no.
    do {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0))) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
      if (n <= 0) return true;
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

 private:
  friend class RawListener;
  std::vector<std::uint8_t> read_message() {
    std::uint8_t header[2];
    if (!read_exact(header, 2)) return {};
    std::vector<std::uint8_t> body(detail::get_u16(header));
    if (body.empty() || !read_exact(body.data(), body.size())) return {};
    return body;
  }
  bool read_exact(std::uint8_t* out, std::size_t n) {
    while (n > 0) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10'000) <= 0) return false;
      const ssize_t r = ::recv(fd_, out, n, 0);
      if (r <= 0) return false;
      out += r;
      n -= static_cast<std::size_t>(r);
    }
    return true;
  }

  int fd_ = -1;
  std::unique_ptr<codec::AtomCacheIn> cache_in_ = std::make_unique<codec::AtomCacheIn>();
  std::unique_ptr<codec::AtomCacheOut> cache_out_ = std::make_unique<codec::AtomCacheOut>();
};

/// A listening socket on 127.0.0.1 registered with epmd under a fake node name, so the C node
/// connects to the test instead of to a real node.
class RawListener {
 public:
  RawListener(std::uint16_t epmd_port, const std::string& alive) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("RawListener: cannot listen");
    }
    epmd_ = std::make_unique<RawPeer>(epmd_port);
    epmd_->send(detail::encode_alive2_req(ntohs(addr.sin_port), alive));
    std::uint8_t reply[6];
    if (!epmd_->read_exact(reply, sizeof reply) || reply[0] != 118 || reply[1] != 0) {
      throw std::runtime_error("RawListener: epmd refused " + alive);
    }
  }
  ~RawListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawListener(const RawListener&) = delete;
  RawListener& operator=(const RawListener&) = delete;

  /// The next incoming connection, or null after `timeout`.
  std::unique_ptr<RawPeer> accept(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return nullptr;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return nullptr;
    return std::make_unique<RawPeer>(RawPeer::Adopt{}, c);
  }

 private:
  int fd_ = -1;
  std::unique_ptr<RawPeer> epmd_;
};

}  // namespace cppnode::cnode::testing
