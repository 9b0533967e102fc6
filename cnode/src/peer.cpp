// SPDX-License-Identifier: Apache-2.0
#include "peer.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "cppnode/cnode/detail/control.hpp"
#include "cppnode/cnode/detail/dist_flags.hpp"
#include "cppnode/cnode/detail/loop_pacing.hpp"
#include "cppnode/cnode/node.hpp"
#include "delivery.hpp"

namespace cppnode::cnode {

namespace asio = boost::asio;

// The one place where the flags negotiated with a peer choose what goes on the wire (the
// Distribution Protocol document, "Distribution Flags"; erts dist.c does the same per signal):
// - ALTACT_SIG (OTP 28+): a send to an alias is ALTACT_SIG_SEND with the alias flag; else
//   ALIAS: ALIAS_SEND; else a plain SEND to the caller's pid.
// - UNLINK_ID: UNLINK_ID/UNLINK_ID_ACK, else the old UNLINK and no ack.
// - EXIT_PAYLOAD: the PAYLOAD_ forms of EXIT, EXIT2 and MONITOR_P_EXIT.
// - DIST_MONITOR and DIST_MONITOR_NAME (both, as dist.c checks): MONITOR_P, DEMONITOR_P and
//   MONITOR_P_EXIT; without them nothing is sent and a monitor of the peer's process only
//   watches the connection (DOWN noconnection on nodedown), as erts_dsig_send_monitor does.
void encode_out(const OutSignal& signal, std::uint64_t flags, std::string& out,
                codec::AtomCacheOut* cache) {
  const bool payload = (flags & detail::dflag::exit_payload) != 0;
  constexpr std::uint64_t monitors = detail::dflag::dist_monitor | detail::dflag::dist_monitor_name;
  const bool monitor_signals = (flags & monitors) == monitors;
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, OutSend>) {
          detail::encode_send(out, s.to, s.message, cache);
        } else if constexpr (std::is_same_v<T, OutRegSend>) {
          detail::encode_reg_send(out, s.from, s.name, s.message, cache);
        } else if constexpr (std::is_same_v<T, OutAliasSend>) {
          if ((flags & detail::dflag::altact_sig) != 0) {
            detail::encode_altact_alias_send(out, s.from, s.alias, s.message, cache);
          } else if ((flags & detail::dflag::alias) != 0) {
            detail::encode_alias_send(out, s.from, s.alias, s.message, cache);
          } else {
            detail::encode_send(out, s.fallback, s.message, cache);
          }
        } else if constexpr (std::is_same_v<T, OutLink>) {
          detail::encode_link(out, s.from, s.to, cache);
        } else if constexpr (std::is_same_v<T, OutUnlink>) {
          if ((flags & detail::dflag::unlink_id) != 0) {
            detail::encode_unlink_id(out, detail::op::unlink_id, s.id, s.from, s.to, cache);
          } else {
            detail::encode_unlink(out, s.from, s.to, cache);
          }
        } else if constexpr (std::is_same_v<T, OutUnlinkAck>) {
          if ((flags & detail::dflag::unlink_id) != 0) {
            detail::encode_unlink_id(out, detail::op::unlink_id_ack, s.id, s.from, s.to, cache);
          }
        } else if constexpr (std::is_same_v<T, OutExit>) {
          detail::encode_exit(out, payload, s.is_link, s.from, s.to, s.reason, cache);
        } else if constexpr (std::is_same_v<T, OutMonitor>) {
          if (monitor_signals) {
            detail::encode_monitor(out,
                                   s.demonitor ? detail::op::demonitor_p : detail::op::monitor_p,
                                   s.from, s.target, s.ref, cache);
          }
        } else if constexpr (std::is_same_v<T, OutMonitorExit>) {
          if (monitor_signals) {
            detail::encode_monitor_exit(out, payload, s.from_proc, s.to, s.ref, s.reason, cache);
          }
        } else {
          detail::encode_spawn_reply(out, s.ref, s.to, s.flags, s.result, cache);
        }
      },
      signal);
}

Peer::Peer(PeerHost& host, boost::asio::io_context& io, const NodeConfig& config, codec::Atom name,
           std::uint64_t id)
    : host_(host),
      config_(config),
      name_(name),
      id_(id),
      strand_(io.get_executor()),
      socket_(io),
      tick_timer_(io),
      deadline_timer_(io),
      reader_(config.max_packet_size) {}

Peer::~Peer() = default;

bool Peer::send(OutSignal&& signal) {
  detail::LoopPacing::note_sent();
  bool busy = false;
  // Encode outside the lock so senders on different threads encode in parallel, unless the
  // atom cache is on: its headers must go out in the order they change the cache.
  if (up_.load(std::memory_order_acquire) && !atom_cache_out_) {
    thread_local std::string scratch;
    scratch.clear();
    encode_out(signal, flags_, scratch);
    if (scratch.empty()) {
      return true;  // a signal this peer does not take (see encode_out): nothing to write
    }
    const bool queued = append(scratch, &busy);
    if (scratch.capacity() > (std::size_t{1} << 20)) {
      std::string().swap(scratch);  // do not keep a huge message's buffer per thread
    }
    if (busy) {
      Delivery::met_busy_peer(shared_from_this());
    }
    return queued;
  }
  {
    std::lock_guard lock(mutex_);
    switch (state_) {
      case State::down:
        return false;
      case State::up:
        encode_out(signal, flags_, pending_, atom_cache_out_.get());
        kick_locked();
        break;
      case State::pending: {
        // The encoding waits for the negotiated flags; its size with ours is close enough.
        std::string sized;
        encode_out(signal, detail::dflag::ours, sized);
        deferred_bytes_ += sized.size();
        deferred_.push_back(std::move(signal));
        break;
      }
    }
    busy = busy_locked();
  }
  if (busy) {
    Delivery::met_busy_peer(shared_from_this());
  }
  return true;
}

bool Peer::append(std::string_view bytes, bool* busy) {
  std::lock_guard lock(mutex_);
  if (state_ != State::up) {
    return false;
  }
  pending_.append(bytes);
  kick_locked();
  if (busy != nullptr) {
    *busy = busy_locked();
  }
  return true;
}

bool Peer::busy_locked() const {
  return pending_.size() + in_flight_ + deferred_bytes_ >= config_.dist_buf_busy_limit;
}

bool Peer::suspend_until_not_busy(const std::shared_ptr<ProcessSlot>& slot) {
  std::lock_guard lock(mutex_);
  if (state_ == State::down || !busy_locked()) {
    return false;
  }
  suspended_.push_back(slot);
  return true;
}

std::vector<std::shared_ptr<ProcessSlot>> Peer::senders_to_resume_locked() {
  if (suspended_.empty() || (state_ != State::down && busy_locked())) {
    return {};
  }
  return std::exchange(suspended_, {});
}

void Peer::resume(const std::vector<std::shared_ptr<ProcessSlot>>& senders) {
  for (const auto& slot : senders) {
    host_.resume(slot);
  }
}

void Peer::kick_locked() {
  if (write_scheduled_) {
    return;
  }
  write_scheduled_ = true;
  // A reply to a message this connection just read (the process ran on the reading thread):
  // on_read flushes once after the whole read, one write for all the replies.
  // running_in_this_thread first: reading_ is strand-only.
  if (strand_.running_in_this_thread() && reading_) {
    flush_after_read_ = true;
    return;
  }
  // defer: from a node thread the flush runs on this thread after the current handler, with no
  // wake-up of another thread.
  asio::defer(strand_, [self = shared_from_this()] { self->flush(); });
}

void Peer::flush() {
  while (true) {
    std::vector<std::shared_ptr<ProcessSlot>> drained;
    bool idle = false;
    {
      std::lock_guard lock(mutex_);
      idle = state_ != State::up || pending_.empty();
      if (idle) {
        write_scheduled_ = false;
        in_flight_ = 0;
        drained = senders_to_resume_locked();
        if (closing_ && state_ == State::up) {
          asio::post(strand_, [self = shared_from_this()] { self->do_fail("node shutdown"); });
        }
      } else {
        writing_.clear();
        writing_.swap(pending_);
        in_flight_ = writing_.size();
        drained = senders_to_resume_locked();
      }
    }
    resume(drained);
    if (idle) {
      return;
    }
    // A batch that is one lone tick is not traffic: ticks keep going every net_ticktime/4.
    if (writing_.size() != 4) {
      wrote_since_tick_ = true;
    }
    // Write what the socket takes right away; only a full socket buffer needs an asynchronous
    // write (and its completion handler).
    boost::system::error_code ec;
    // TLS records go through the stream's asynchronous write alone.
    const std::size_t n =
        socket_.is_tls() ? 0 : socket_.tcp().write_some(asio::buffer(writing_), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      do_fail("write failed: " + ec.message());
      return;
    }
    if (n == writing_.size()) continue;  // all out: take the next batch, if any
    asio::async_write(
        socket_, asio::buffer(writing_.data() + n, writing_.size() - n),
        asio::bind_executor(strand_, [self = shared_from_this()](
                                         const boost::system::error_code& write_ec, std::size_t) {
          if (write_ec) {
            self->do_fail("write failed: " + write_ec.message());
            return;
          }
          self->flush();
        }));
    return;
  }
}

void Peer::attach(DistSocket socket, std::uint64_t flags, std::uint32_t creation, bool hidden) {
  // The socket belongs to the same io_context; hand it over on our strand.
  auto holder = std::make_shared<DistSocket>(std::move(socket));
  asio::post(strand_, [self = shared_from_this(), holder, flags, creation, hidden] {
    self->flags_ = flags;
    self->creation_ = creation;
    self->hidden_ = hidden;
    self->do_attach(*holder);
  });
}

void Peer::do_attach(DistSocket& socket) {
  socket_ = std::move(socket);
  boost::system::error_code ignored;
  socket_.tcp().set_option(asio::ip::tcp::no_delay(true), ignored);
  // flush() writes directly while the socket takes data (plain TCP).
  if (!socket_.is_tls()) socket_.tcp().non_blocking(true, ignored);
  deadline_timer_.cancel();
  bool must_flush = false;
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::down) {
      socket_.close();
      return;
    }
    if ((flags_ & detail::dflag::dist_hdr_atom_cache) != 0) {
      atom_cache_in_ = std::make_unique<codec::AtomCacheIn>();
      atom_cache_out_ = std::make_unique<codec::AtomCacheOut>();
    }
    for (const auto& s : deferred_) {
      encode_out(s, flags_, pending_, atom_cache_out_.get());
    }
    deferred_.clear();
    deferred_.shrink_to_fit();
    deferred_bytes_ = 0;
    state_ = State::up;
    up_.store(true, std::memory_order_release);
    must_flush = !pending_.empty() && !write_scheduled_;
    if (must_flush) {
      write_scheduled_ = true;
    }
  }
  host_.peer_up(shared_from_this());
  if (must_flush) {
    flush();
  }
  start_read();
  arm_tick_timer();
}

void Peer::fail(std::string reason) {
  asio::post(strand_, [self = shared_from_this(), r = std::move(reason)] { self->do_fail(r); });
}

void Peer::do_fail(const std::string& reason) {
  bool was_up = false;
  std::vector<std::shared_ptr<ProcessSlot>> suspended;
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::down) {
      return;
    }
    was_up = state_ == State::up;
    state_ = State::down;
    up_.store(false, std::memory_order_release);
    // What a dead connection had queued goes at once, and so does whoever waited for it.
    deferred_.clear();
    deferred_bytes_ = 0;
    pending_.clear();
    pending_.shrink_to_fit();
    suspended = std::exchange(suspended_, {});
  }
  resume(suspended);
  down_.store(true);
  boost::system::error_code ignored;
  socket_.tcp().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close();
  tick_timer_.cancel();
  deadline_timer_.cancel();
  host_.peer_down(shared_from_this(), reason, was_up);
}

void Peer::close_gracefully() {
  asio::post(strand_, [self = shared_from_this()] {
    self->closing_ = true;
    bool idle = false;
    {
      std::lock_guard lock(self->mutex_);
      idle = self->state_ != State::up || (!self->write_scheduled_ && self->pending_.empty());
    }
    if (idle) {
      self->do_fail("node shutdown");
      return;
    }
    // Give the queue a moment to drain, then close regardless.
    self->deadline_timer_.expires_after(std::chrono::seconds(2));
    self->deadline_timer_.async_wait(
        asio::bind_executor(self->strand_, [self](const boost::system::error_code& ec) {
          if (!ec) {
            self->do_fail("node shutdown (write queue not drained)");
          }
        }));
  });
}

void Peer::expect_up_within(std::chrono::milliseconds timeout) {
  asio::post(strand_, [self = shared_from_this(), timeout] {
    if (self->is_up() || self->is_down()) {
      return;
    }
    self->deadline_timer_.expires_after(timeout);
    self->deadline_timer_.async_wait(
        asio::bind_executor(self->strand_, [self](const boost::system::error_code& ec) {
          if (!ec && !self->is_up()) {
            self->do_fail("the simultaneous connection from the other side never completed");
          }
        }));
  });
}

void Peer::start_read() {
  auto buf = reader_.prepare();
  socket_.async_read_some(
      asio::buffer(buf.data(), buf.size()),
      asio::bind_executor(
          strand_, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
            self->on_read(ec, n);
          }));
}

void Peer::on_read(const boost::system::error_code& ec, std::size_t n) {
  if (ec) {
    // A TLS peer that ends the connection without close_notify (as a BEAM node does) has
    // closed it as a TCP peer does.
    const bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    do_fail(closed ? "connection closed by peer" : "read failed: " + ec.message());
    return;
  }
  if (down_.load()) {
    return;
  }
  reader_.commit(n);
  read_since_tick_ = true;
  reading_ = true;
  const bool ok = handle_packets();
  reading_ = false;
  if (std::exchange(flush_after_read_, false) && ok) {
    flush();
  }
  if (ok) {
    start_read();
  }
}

bool Peer::handle_packets() {
  std::span<const std::uint8_t> packet;
  while (true) {
    const auto status = reader_.next(packet);
    if (status == detail::PacketReader<4>::Status::need_more) {
      break;
    }
    if (status == detail::PacketReader<4>::Status::too_large) {
      spdlog::error("closing connection to {}: packet of {} bytes exceeds max_packet_size {}",
                    name_.name(), reader_.too_large_length(), config_.max_packet_size);
      do_fail("packet too large");
      return false;
    }
    if (packet.empty()) {
      // A tick: answer it unless we sent something since our last tick check (two cppnodes
      // answering each other's ticks would otherwise never stop).
      if (!wrote_since_tick_ && !ticked_since_timer_) {
        send_tick();
      }
      continue;
    }
    if (!handle_packet(packet)) {
      return false;
    }
  }
  return true;
}

bool Peer::handle_packet(std::span<const std::uint8_t> packet) {
  auto message = detail::parse_control(packet, config_.decode, atom_cache_in_.get());
  std::string error;
  if (!message) {
    error = std::move(message).error();
  } else {
    spdlog::trace("from {}: control operation {}", name_.name(), message->op);
    auto handled = host_.handle_control(shared_from_this(), *message);
    if (handled) return true;
    error = std::move(handled).error();
  }
  spdlog::error("closing connection to {}: {}", name_.name(), error);
  do_fail("bad control message: " + error);
  return false;
}

void Peer::send_tick() {
  std::string tick;
  detail::encode_tick(tick);
  if (append(tick)) {
    ticked_since_timer_ = true;
  }
}

void Peer::on_tick_timer() {
  if (down_.load()) {
    return;
  }
  if (read_since_tick_) {
    silent_ticks_ = 0;
    read_since_tick_ = false;
  } else if (++silent_ticks_ >= 4) {
    spdlog::warn("node {} not responding for net_ticktime ({} ms): removing the connection",
                 name_.name(), config_.net_ticktime.count());
    do_fail("net_tick_timeout");
    return;
  }
  ticked_since_timer_ = false;
  if (!wrote_since_tick_) {
    send_tick();
  }
  wrote_since_tick_ = false;
  arm_tick_timer();
}

void Peer::arm_tick_timer() {
  tick_timer_.expires_after(config_.net_ticktime / 4);
  tick_timer_.async_wait(asio::bind_executor(
      strand_, [self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) {
          self->on_tick_timer();
        }
      }));
}

}  // namespace cppnode::cnode
