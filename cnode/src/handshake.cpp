// SPDX-License-Identifier: Apache-2.0
#include "handshake.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "cppnode/cnode/detail/dist_flags.hpp"
#include "cppnode/cnode/detail/epmd_protocol.hpp"
#include "cppnode/cnode/detail/handshake_protocol.hpp"
#include "cppnode/cnode/node.hpp"
#include "peer.hpp"
#include "tls.hpp"

namespace cppnode::cnode {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {
std::string_view host_of(std::string_view node) {
  const auto at = node.find('@');
  return at == std::string_view::npos ? std::string_view{} : node.substr(at + 1);
}
std::string_view alive_of(std::string_view node) { return node.substr(0, node.find('@')); }
}  // namespace

Handshake::Handshake(HandshakeHost& node, tcp::socket socket, bool outgoing)
    : node_(node),
      strand_(node.io().get_executor()),
      socket_(std::move(socket)),
      epmd_socket_(node.io()),
      resolver_(node.io()),
      timer_(node.io()),
      outgoing_(outgoing) {}

std::shared_ptr<Handshake> Handshake::start_outgoing(HandshakeHost& node,
                                                     const std::shared_ptr<Peer>& peer) {
  auto hs = std::make_shared<Handshake>(node, tcp::socket(node.io()), true);
  hs->peer_ = peer;
  hs->peer_name_ = std::string(peer->name().name());
  hs->peer_host_ = std::string(host_of(hs->peer_name_));
  asio::post(hs->strand_, [hs] {
    hs->arm_deadline();
    hs->resolve();
  });
  return hs;
}

void Handshake::start_incoming(HandshakeHost& node, tcp::socket socket) {
  auto hs = std::make_shared<Handshake>(node, std::move(socket), false);
  asio::post(hs->strand_, [hs] {
    hs->arm_deadline();
    hs->start_tls(true, [hs] {
      hs->read_message([hs](std::span<const std::uint8_t> body) { hs->on_name(body); });
    });
  });
}

// Under TLS distribution the TLS handshake comes first on the fresh connection, as in OTP's
// inet_tls_dist; the distribution handshake then runs inside it. Connecting out, the server's
// certificate must name the host of the node name (sent as SNI too), as OTP's client checks.
void Handshake::start_tls(bool server, std::function<void()> next) {
  asio::ssl::context* context = node_.tls_context(server);
  if (context == nullptr) {
    next();
    return;
  }
  socket_ = DistSocket(std::move(socket_.tcp()), *context);
  SSL* ssl = socket_.tls().native_handle();
  if (!server && node_.config().tls->check_server_name) {
    // An IP literal as host (cpp@::1) is checked against the certificate's IP names and sent
    // without SNI, which carries DNS names only.
    error_code not_ip;
    asio::ip::make_address(peer_host_, not_ip);
    if (not_ip) {
      SSL_set_tlsext_host_name(ssl, peer_host_.c_str());
      SSL_set1_host(ssl, peer_host_.c_str());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), peer_host_.c_str());
    }
  }
  socket_.tls().async_handshake(
      server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client,
      asio::bind_executor(
          strand_, [self = shared_from_this(), next = std::move(next)](const error_code& ec) {
            if (ec || self->aborted_) {
              self->fail("TLS handshake failed: " +
                         tls_failure(ec, self->socket_.tls().native_handle()));
              return;
            }
            next();
          }));
}

void Handshake::arm_deadline() {
  timer_.expires_after(node_.config().handshake_timeout);
  timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](const error_code& ec) {
    if (ec || self->done_) {
      return;
    }
    self->aborted_ = true;
    self->timed_out_ = true;
    self->abort_reason_ = "handshake not finished within " +
                          std::to_string(self->node_.config().handshake_timeout.count()) + " ms";
    error_code ignored;
    self->resolver_.cancel();
    self->epmd_socket_.close(ignored);
    self->socket_.close();
  }));
}

// A completion queued before abort() ran still arrives with success: every completion checks
// aborted_, so a superseded attempt never goes on (its peer_ is gone).
void Handshake::abort(std::string reason) {
  asio::post(strand_, [self = shared_from_this(), r = std::move(reason)] {
    if (self->done_) {
      return;
    }
    self->aborted_ = true;
    self->abort_reason_ = r;
    self->peer_.reset();  // the peer has another owner now: do not report to it
    error_code ignored;
    self->resolver_.cancel();
    self->epmd_socket_.close(ignored);
    self->socket_.close();
  });
}

// ---- Framing: every handshake message has a 2-byte length (4 under TLS, as inet_tls_dist
// runs the handshake with {packet, 4}). Read exactly one message, never beyond it, so
// distribution packets that follow stay in the socket for the Peer. ----

void Handshake::read_message(Next next) {
  const std::size_t header_size = socket_.is_tls() ? 4 : 2;
  asio::async_read(
      socket_, asio::buffer(header_.data(), header_size),
      asio::bind_executor(strand_, [self = shared_from_this(), next = std::move(next), header_size](
                                       const error_code& ec, std::size_t) mutable {
        if (ec || self->aborted_) {
          self->fail(ec == asio::error::eof ? "connection closed during the handshake"
                                            : "read failed during the handshake: " + ec.message(),
                     true);
          return;
        }
        // 0x16 0x03 opens a TLS record (a ClientHello): no plain handshake is 5,635 bytes long.
        if (header_size == 2 && self->header_[0] == 0x16 && self->header_[1] == 0x03) {
          self->fail("the peer speaks TLS (-proto_dist inet_tls) and this node plain TCP");
          return;
        }
        const std::uint32_t len = header_size == 4 ? detail::get_u32(self->header_.data())
                                                   : detail::get_u16(self->header_.data());
        if (len == 0) {
          self->fail("empty handshake message");
          return;
        }
        // No handshake message comes near 64 KiB; a longer one is garbage, not a reason to
        // allocate what a 4-byte length announces.
        if (len > 0xffff) {
          self->fail("handshake message of " + std::to_string(len) +
                     " bytes announced, expected at most 65535");
          return;
        }
        self->body_.resize(len);
        asio::async_read(
            self->socket_, asio::buffer(self->body_),
            asio::bind_executor(
                self->strand_, [self, next = std::move(next)](const error_code& ec2, std::size_t) {
                  if (ec2 || self->aborted_) {
                    self->fail("read failed during the handshake: " + ec2.message(), true);
                    return;
                  }
                  next(self->body_);
                }));
      }));
}

void Handshake::write(std::string bytes, std::function<void()> next) {
  write_buf_ = std::move(bytes);
  if (socket_.is_tls()) {
    // The encoders frame with 2 bytes; under TLS the same length goes in 4.
    write_buf_.insert(0, 2, '\0');
  }
  asio::async_write(
      socket_, asio::buffer(write_buf_),
      asio::bind_executor(strand_, [self = shared_from_this(), next = std::move(next)](
                                       const error_code& ec, std::size_t) {
        if (ec || self->aborted_) {
          self->fail("write failed during the handshake: " + ec.message(), true);
          return;
        }
        next();
      }));
}

void Handshake::fail(const std::string& reason, bool quiet) {
  if (done_) {
    return;
  }
  done_ = true;
  const std::string why = aborted_ ? abort_reason_ : reason;
  error_code ignored;
  timer_.cancel();
  epmd_socket_.close(ignored);
  socket_.close();
  const std::string who = peer_name_.empty() ? std::string("an unnamed peer") : peer_name_;
  // Superseded attempts (simultaneous connects, shutdown) are routine; timeouts are not.
  const bool routine = aborted_ ? !timed_out_ : quiet && !outgoing_;
  const auto level = routine ? spdlog::level::debug : spdlog::level::warn;
  if (outgoing_) {
    spdlog::log(level, "connection to {} failed: {}", who, why);
  } else {
    spdlog::log(level, "incoming connection from {} dropped: {}", who, why);
  }
  if (peer_) {
    node_.handshake_failed(peer_, shared_from_this(), why);
  }
}

void Handshake::succeed() {
  if (done_) {
    return;
  }
  done_ = true;
  timer_.cancel();
  spdlog::info("connected to {} ({})", peer_name_, outgoing_ ? "outgoing" : "incoming");
  node_.handshake_succeeded(peer_, shared_from_this(), std::move(socket_),
                            detail::expand_peer_flags(peer_flags_), peer_creation_);
}

// ---- Outgoing: epmd, connect, send_name, status, challenge, reply, ack ----

void Handshake::resolve() {
  if (node_.config().erl_epmd_port) {
    // No epmd in this cluster: every node listens on the agreed port.
    const std::uint16_t port = *node_.config().erl_epmd_port;
    resolver_.async_resolve(
        node_.config().ipv6 ? tcp::v6() : tcp::v4(), peer_host_, std::to_string(port),
        asio::bind_executor(
            strand_, [self = shared_from_this()](const error_code& ec,
                                                 const tcp::resolver::results_type& r) {
              if (ec || self->aborted_ || r.empty()) {
                self->fail("cannot resolve host '" + self->peer_host_ + "': " + ec.message());
                return;
              }
              self->connect_to(r.begin()->endpoint());
            }));
    return;
  }
  resolver_.async_resolve(
      node_.config().ipv6 ? tcp::v6() : tcp::v4(), peer_host_,
      std::to_string(node_.config().epmd_port),
      asio::bind_executor(strand_, [self = shared_from_this()](
                                       const error_code& ec, const tcp::resolver::results_type& r) {
        if (ec || self->aborted_) {
          self->fail("cannot resolve host '" + self->peer_host_ + "': " + ec.message());
          return;
        }
        self->ask_epmd(r);
      }));
}

void Handshake::ask_epmd(const tcp::resolver::results_type& endpoints) {
  asio::async_connect(
      epmd_socket_, endpoints,
      asio::bind_executor(strand_, [self = shared_from_this()](const error_code& ec,
                                                               const tcp::endpoint& ep) {
        if (ec || self->aborted_) {
          self->fail("cannot reach epmd on " + self->peer_host_ + ":" +
                     std::to_string(self->node_.config().epmd_port) + ": " + ec.message());
          return;
        }
        auto addr = ep.address();
        self->write_buf_ = detail::encode_port_please2_req(alive_of(self->peer_name_));
        asio::async_write(
            self->epmd_socket_, asio::buffer(self->write_buf_),
            asio::bind_executor(self->strand_, [self, addr](const error_code& ec2, std::size_t) {
              if (ec2 || self->aborted_) {
                self->fail("epmd request failed: " + ec2.message());
                return;
              }
              asio::async_read(
                  self->epmd_socket_, asio::dynamic_buffer(self->epmd_reply_, 1024),
                  asio::bind_executor(
                      self->strand_, [self, addr](const error_code& ec3, std::size_t) {
                        if ((ec3 && ec3 != asio::error::eof) || self->aborted_) {
                          self->fail("epmd answer failed: " + ec3.message());
                          return;
                        }
                        error_code ignored;
                        self->epmd_socket_.close(ignored);
                        auto port = detail::parse_port2_response(self->epmd_reply_);
                        if (!port) {
                          self->fail("epmd on " + self->peer_host_ + ": " + port.error());
                          return;
                        }
                        self->connect_to(tcp::endpoint(addr, *port));
                      }));
            }));
      }));
}

void Handshake::connect_to(const tcp::endpoint& endpoint) {
  socket_.tcp().async_connect(
      endpoint,
      asio::bind_executor(strand_, [self = shared_from_this(), endpoint](const error_code& ec) {
        if (ec || self->aborted_) {
          self->fail("cannot connect to " + endpoint.address().to_string() + ":" +
                     std::to_string(endpoint.port()) + ": " + ec.message());
          return;
        }
        error_code ignored;
        self->socket_.tcp().set_option(tcp::no_delay(true), ignored);
        self->start_tls(false, [self] { self->send_name(); });
      }));
}

void Handshake::send_name() {
  write(detail::encode_send_name(node_.offered_flags(), node_.creation(), node_.node_name().name()),
        [self = shared_from_this()] {
          self->read_message([self](std::span<const std::uint8_t> b) { self->on_status(b); });
        });
}

void Handshake::on_status(std::span<const std::uint8_t> body) {
  auto status = detail::parse_status(body);
  if (!status) {
    fail(status.error());
    return;
  }
  auto self = shared_from_this();
  auto next = [self] {
    self->read_message([self](std::span<const std::uint8_t> b) { self->on_challenge(b); });
  };
  if (*status == "ok" || *status == "ok_simultaneous") {
    next();
  } else if (*status == "alive") {
    // The other side still has a connection with us it thinks is up. Like dist_util, answer
    // whether this attempt still owns the set-up: an attempt superseded by the other side's own
    // connection must say false, or that node kills its live connection to take this one.
    if (!node_.is_pending(peer_, self)) {
      // Superseded, as after abort(): routine, and the write's completion ends the attempt.
      aborted_ = true;
      abort_reason_ = "superseded by the connection from the other side";
      write(detail::encode_status("false"), [] {});
      return;
    }
    write(detail::encode_status("true"), next);
  } else if (*status == "nok") {
    // Simultaneous connect that the other side wins: its connection to us will be the one.
    done_ = true;
    timer_.cancel();
    socket_.close();
    spdlog::debug("simultaneous connect with {}: using the connection it opened", peer_name_);
    node_.handshake_nok(peer_, self);
  } else if (*status == "not_allowed") {
    fail("the node does not allow the connection (not_allowed)");
  } else {
    fail("unexpected handshake status '" + *status + "'");
  }
}

void Handshake::on_challenge(std::span<const std::uint8_t> body) {
  auto challenge = detail::parse_challenge(body);
  if (!challenge) {
    fail(challenge.error());
    return;
  }
  if (challenge->name != peer_name_) {
    fail("expected node " + peer_name_ + " to answer, but " + challenge->name + " did");
    return;
  }
  if (auto missing = detail::missing_mandatory_flags(challenge->flags); !missing.empty()) {
    fail("the node lacks capabilities OTP 25 requires: " + missing);
    return;
  }
  peer_flags_ = challenge->flags;
  peer_creation_ = challenge->creation;
  our_challenge_ = detail::random_challenge();
  write(
      detail::encode_challenge_reply(
          our_challenge_, detail::handshake_digest(challenge->challenge, node_.config().cookie)),
      [self = shared_from_this()] {
        self->read_message([self](std::span<const std::uint8_t> b) { self->on_challenge_ack(b); });
      });
}

void Handshake::on_challenge_ack(std::span<const std::uint8_t> body) {
  auto digest = detail::parse_challenge_ack(body);
  if (!digest) {
    fail(digest.error());
    return;
  }
  if (!detail::digest_equal(detail::handshake_digest(our_challenge_, node_.config().cookie),
                            *digest)) {
    fail("its challenge ack does not match our cookie (the cookies differ)");
    return;
  }
  succeed();
}

// ---- Incoming: name, status, challenge, reply, ack ----

void Handshake::on_name(std::span<const std::uint8_t> body) {
  auto name = detail::parse_send_name(body);
  if (!name) {
    fail(name.error());
    return;
  }
  auto self = shared_from_this();
  // A peer that asks to be named (DFLAG_NAME_ME, `erl -sname undefined`) sends only its host;
  // like dist_util we give it a random alive part and creation in the `named:` status.
  const bool name_me = (name->flags & detail::dflag::name_me) != 0;
  // Our challenge then carries the flag back (dist_util's publish_flag), or the peer takes its
  // name for a static one and gives up.
  name_me_ = name_me;
  if (name_me) {
    if (name->name.empty() || name->name.find('@') != std::string::npos) {
      fail("a peer that asks for a name must send its host alone, got '" + name->name + "'");
      return;
    }
    name->name = detail::random_alive() + "@" + name->name;
    name->creation = detail::random_challenge() | 1U;  // any creation but 0 (none)
  }
  if (!detail::is_valid_node_name(name->name)) {
    fail("'" + name->name + "' is not a node name (expected name@host)");
    return;
  }
  peer_name_ = name->name;
  auto refuse = [self](const std::string& why) {
    self->write(detail::encode_status("not_allowed"), [self, why] { self->fail(why); });
  };
  if (auto missing = detail::missing_mandatory_flags(name->flags); !missing.empty()) {
    refuse("it lacks capabilities OTP 25 requires: " + missing);
    return;
  }
  if (name->name == node_.node_name().name()) {
    refuse("it uses this node's own name");
    return;
  }
  peer_flags_ = name->flags;
  peer_creation_ = name->creation;
  switch (node_.mark_pending(peer_name_, self, peer_)) {
    case PendingDecision::ok:
      if (name_me) {
        write(detail::encode_named_status(peer_name_, peer_creation_),
              [self] { self->send_challenge(); });
        return;
      }
      continue_accept("ok");
      return;
    case PendingDecision::ok_simultaneous:
      continue_accept("ok_simultaneous");
      return;
    case PendingDecision::nok:
      write(detail::encode_status("nok"),
            [self] { self->fail("simultaneous connect: our own connection attempt wins", true); });
      return;
    case PendingDecision::reject:
      fail("another connection from the same node is being set up", true);
      return;
    case PendingDecision::alive:
      write(detail::encode_status("alive"), [self] {
        self->read_message([self](std::span<const std::uint8_t> b) {
          auto reply = detail::parse_status(b);
          if (!reply || (*reply != "true" && *reply != "false")) {
            self->fail(reply ? "expected status true or false, got '" + *reply + "'"
                             : reply.error());
            return;
          }
          if (*reply == "false") {
            self->fail("the node withdrew its connection attempt", true);
            return;
          }
          // As dist_util: the old connection is dropped only once this one has proven the
          // cookie (on_challenge_reply); before that a peer without it could cut any node off.
          self->replaces_stale_ = true;
          self->send_challenge();
        });
      });
      return;
  }
}

void Handshake::continue_accept(const std::string& status) {
  write(detail::encode_status(status), [self = shared_from_this()] { self->send_challenge(); });
}

void Handshake::send_challenge() {
  our_challenge_ = detail::random_challenge();
  const std::uint64_t flags = node_.offered_flags() | (name_me_ ? detail::dflag::name_me : 0);
  write(detail::encode_challenge(flags, our_challenge_, node_.creation(), node_.node_name().name()),
        [self = shared_from_this()] {
          self->read_message(
              [self](std::span<const std::uint8_t> b) { self->on_challenge_reply(b); });
        });
}

void Handshake::on_challenge_reply(std::span<const std::uint8_t> body) {
  auto reply = detail::parse_challenge_reply(body);
  if (!reply) {
    fail(reply.error());
    return;
  }
  if (!detail::digest_equal(detail::handshake_digest(our_challenge_, node_.config().cookie),
                            reply->digest)) {
    spdlog::error(
        "connection attempt from node {} rejected: invalid challenge reply (the "
        "cookies differ)",
        peer_name_);
    fail("invalid challenge reply (the cookies differ)", true);
    return;
  }
  if (replaces_stale_) {
    peer_ = node_.replace_stale(peer_name_, shared_from_this());
    if (!peer_) {
      fail("the old connection could not be replaced");
      return;
    }
  }
  write(detail::encode_challenge_ack(
            detail::handshake_digest(reply->challenge, node_.config().cookie)),
        [self = shared_from_this()] { self->succeed(); });
}

}  // namespace cppnode::cnode
