// SPDX-License-Identifier: Apache-2.0
#include "connections.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ssl/context.hpp>

#include "cppnode/cnode/detail/dist_flags.hpp"
#include "cppnode/cnode/detail/handshake_protocol.hpp"

namespace cppnode::cnode {

Connections::Connections(boost::asio::io_context& io, const NodeConfig& config, codec::Atom node,
                         const std::atomic<std::uint32_t>& creation, PeerHost& peers)
    : io_(io), config_(config), node_(node), creation_(creation), peer_host_(peers) {}

Connections::~Connections() = default;

void Connections::use_tls(std::unique_ptr<boost::asio::ssl::context> server,
                          std::unique_ptr<boost::asio::ssl::context> client) {
  tls_server_ = std::move(server);
  tls_client_ = std::move(client);
}

boost::asio::ssl::context* Connections::tls_context(bool server) const noexcept {
  return server ? tls_server_.get() : tls_client_.get();
}

// Without remote monitors no BEAM caller's monitor crosses the connection: the node offers
// no monitor flags, and watches calls itself (see call_monitors.cpp).
std::uint64_t Connections::offered_flags() const noexcept {
  constexpr std::uint64_t monitors = detail::dflag::dist_monitor | detail::dflag::dist_monitor_name;
  return config_.remote_monitors ? detail::dflag::ours : detail::dflag::ours & ~monitors;
}

void Connections::accept(boost::asio::ip::tcp::socket socket) {
  if (!stopping_.load()) {
    Handshake::start_incoming(*this, std::move(socket));
  }
}

std::shared_ptr<Peer> Connections::make_peer(codec::Atom node) {
  auto peer = std::make_shared<Peer>(peer_host_, io_, config_, node, next_peer_id_.fetch_add(1));
  peers_[node] = peer;
  return peer;
}

std::shared_ptr<Peer> Connections::peer_for(codec::Atom node) {
  if (node == node_) {
    return nullptr;
  }
  {
    std::shared_lock lock(peers_mutex_);
    if (auto it = peers_.find(node); it != peers_.end() && !it->second->is_down()) {
      return it->second;
    }
  }
  if (stopping_.load() || !detail::is_valid_node_name(node.name())) {
    return nullptr;
  }
  std::unique_lock lock(peers_mutex_);
  if (auto it = peers_.find(node); it != peers_.end() && !it->second->is_down()) {
    return it->second;
  }
  auto peer = make_peer(node);
  auto hs = Handshake::start_outgoing(*this, peer);
  peer->owner = hs;
  peer->owner_outgoing = true;
  track(hs);
  return peer;
}

bool Connections::send_to(codec::Atom node, OutSignal signal) {
  // A peer found down between lookup and send is replaced by a fresh attempt, once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto peer = peer_for(node);
    if (!peer) {
      return false;
    }
    // send() leaves `signal` untouched when it fails, so the retry sends the same signal.
    if (peer->send(std::move(signal))) {  // NOLINT(bugprone-use-after-move)
      return true;
    }
  }
  return false;
}

void Connections::track(const std::shared_ptr<Handshake>& handshake) {
  std::lock_guard lock(handshakes_mutex_);
  if (handshakes_.size() >= 64) {
    std::erase_if(handshakes_, [](const auto& w) { return w.expired(); });
  }
  handshakes_.push_back(handshake);
}

std::size_t Connections::node_count() const {
  std::shared_lock lock(peers_mutex_);
  return peers_.size();
}

std::size_t Connections::handshake_count() {
  std::lock_guard lock(handshakes_mutex_);
  return static_cast<std::size_t>(
      std::ranges::count_if(handshakes_, [](const auto& w) { return !w.expired(); }));
}

// ---- The pending rules (dist_util, net_kernel) ----

PendingDecision Connections::mark_pending(const std::string& node_name,
                                          const std::shared_ptr<Handshake>& handshake,
                                          std::shared_ptr<Peer>& peer_out) {
  const codec::Atom node(node_name);
  std::unique_lock lock(peers_mutex_);
  if (stopping_.load()) {
    return PendingDecision::reject;
  }
  track(handshake);
  auto it = peers_.find(node);
  if (it == peers_.end() || it->second->is_down()) {
    auto peer = make_peer(node);
    peer->owner = handshake;
    peer->owner_outgoing = false;
    peer_out = peer;
    return PendingDecision::ok;
  }
  auto& peer = it->second;
  if (peer->is_up() || peer->handshake_done) {
    return PendingDecision::alive;
  }
  auto current = peer->owner.lock();
  if (current && !peer->owner_outgoing) {
    return PendingDecision::reject;
  }
  if (current) {
    // Both sides connect at once: the greater name keeps its own attempt (net_kernel's rule).
    if (node_ > node) {
      return PendingDecision::nok;
    }
    current->abort("simultaneous connect: the connection from the other side wins");
  }
  peer->owner = handshake;
  peer->owner_outgoing = false;
  peer_out = peer;
  return PendingDecision::ok_simultaneous;
}

std::shared_ptr<Peer> Connections::replace_stale(const std::string& node_name,
                                                 const std::shared_ptr<Handshake>& handshake) {
  const codec::Atom node(node_name);
  std::unique_lock lock(peers_mutex_);
  if (stopping_.load()) {
    return nullptr;
  }
  if (auto it = peers_.find(node); it != peers_.end()) {
    spdlog::warn("node {} connects again while its old connection looks up: dropping the old one",
                 node_name);
    it->second->fail("replaced by a new connection from the same node");
  }
  auto peer = make_peer(node);
  peer->owner = handshake;
  peer->owner_outgoing = false;
  return peer;
}

void Connections::handshake_nok(const std::shared_ptr<Peer>& peer,
                                const std::shared_ptr<Handshake>& handshake) {
  std::unique_lock lock(peers_mutex_);
  if (peer->owner.lock() != handshake) {
    return;
  }
  peer->owner.reset();
  peer->expect_up_within(config_.handshake_timeout);
}

bool Connections::is_pending(const std::shared_ptr<Peer>& peer,
                             const std::shared_ptr<Handshake>& handshake) {
  std::shared_lock lock(peers_mutex_);
  return peer && !peer->is_down() && peer->owner.lock() == handshake;
}

void Connections::handshake_failed(const std::shared_ptr<Peer>& peer,
                                   const std::shared_ptr<Handshake>& handshake,
                                   const std::string& reason) {
  std::unique_lock lock(peers_mutex_);
  if (peer->owner.lock() != handshake) {
    return;
  }
  peer->owner.reset();
  peer->fail(reason);
}

void Connections::handshake_succeeded(const std::shared_ptr<Peer>& peer,
                                      const std::shared_ptr<Handshake>& handshake,
                                      DistSocket socket, std::uint64_t peer_flags,
                                      std::uint32_t peer_creation) {
  {
    std::unique_lock lock(peers_mutex_);
    auto it = peers_.find(peer->name());
    const bool current = it != peers_.end() && it->second == peer &&
                         peer->owner.lock() == handshake && !peer->is_down() && !stopping_.load();
    if (!current) {
      lock.unlock();
      spdlog::debug("dropping a finished handshake with {}: superseded", peer->name().name());
      socket.close();
      return;
    }
    peer->owner.reset();
    peer->handshake_done = true;
  }
  // A peer that does not publish itself is hidden (a C node, or erl -hidden); what we use on
  // the wire is what both sides support.
  peer->attach(std::move(socket), offered_flags() & peer_flags, peer_creation,
               (peer_flags & detail::dflag::published) == 0);
}

// ---- Up, down, events, reconnection ----

void Connections::came_up(const std::shared_ptr<Peer>& peer) {
  total_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(kept_mutex_);
    if (auto it = kept_.find(peer->name()); it != kept_.end()) {
      it->second.backoff = std::chrono::milliseconds(0);
    }
  }
  spdlog::info("node {} is up ({})", peer->name().name(), peer->hidden() ? "hidden" : "visible");
  emit(NodeEvent{peer->name(), true, peer->hidden(), codec::Term()});
}

void Connections::went_down(const std::shared_ptr<Peer>& peer, const std::string& reason,
                            bool was_up) {
  {
    std::unique_lock lock(peers_mutex_);
    if (auto it = peers_.find(peer->name()); it != peers_.end() && it->second == peer) {
      peers_.erase(it);
    }
  }
  if (was_up) {
    spdlog::info("node {} is down: {}", peer->name().name(), reason);
    emit(NodeEvent{peer->name(), false, peer->hidden(), codec::binary(reason)});
  }
  schedule_reconnect(peer->name());
}

void Connections::on_event(std::function<void(const NodeEvent&)> handler) {
  std::lock_guard lock(events_mutex_);
  event_handlers_.push_back(std::move(handler));
}

void Connections::emit(const NodeEvent& event) {
  std::vector<std::function<void(const NodeEvent&)>> handlers;
  {
    std::lock_guard lock(events_mutex_);
    handlers = event_handlers_;
  }
  for (const auto& h : handlers) {
    try {
      h(event);
    } catch (const std::exception& e) {
      spdlog::error("node event handler threw: {}", e.what());
    }
  }
}

void Connections::keep_connected(codec::Atom node) {
  {
    std::lock_guard lock(kept_mutex_);
    auto& entry = kept_[node];
    if (!entry.timer) {
      entry.timer = std::make_shared<boost::asio::steady_timer>(io_);
    }
  }
  peer_for(node);
}

void Connections::schedule_reconnect(codec::Atom node) {
  if (stopping_.load()) {
    return;
  }
  std::lock_guard lock(kept_mutex_);
  auto it = kept_.find(node);
  if (it == kept_.end()) {
    return;
  }
  auto& entry = it->second;
  using std::chrono::milliseconds;
  entry.backoff = std::clamp(entry.backoff * 2, milliseconds(500), milliseconds(30'000));
  spdlog::info("reconnecting to {} in {} ms", node.name(), entry.backoff.count());
  entry.timer->expires_after(entry.backoff);
  entry.timer->async_wait([this, node](const boost::system::error_code& ec) {
    if (!ec && !stopping_.load()) {
      peer_for(node);
    }
  });
}

std::vector<NodeEvent> Connections::connected() const {
  std::vector<NodeEvent> out;
  std::shared_lock lock(peers_mutex_);
  for (const auto& [node, peer] : peers_) {
    if (peer->is_up()) {
      out.push_back(NodeEvent{node, true, peer->hidden(), codec::Term()});
    }
  }
  return out;
}

// ---- Stop ----

void Connections::stop_connecting() {
  if (stopping_.exchange(true)) {
    return;
  }
  {
    std::lock_guard lock(kept_mutex_);
    for (auto& [node, entry] : kept_) {
      entry.timer->cancel();
    }
  }
  std::lock_guard lock(handshakes_mutex_);
  for (auto& w : handshakes_) {
    if (auto hs = w.lock()) {
      hs->abort("node shutdown");
    }
  }
}

void Connections::close_gracefully() {
  std::vector<std::shared_ptr<Peer>> all;
  {
    std::shared_lock lock(peers_mutex_);
    for (const auto& [node, peer] : peers_) {
      all.push_back(peer);
    }
  }
  for (const auto& peer : all) {
    peer->close_gracefully();
  }
}

bool Connections::empty() const {
  std::shared_lock lock(peers_mutex_);
  return peers_.empty();
}

void Connections::clear() {
  stopping_.store(true);
  std::unique_lock lock(peers_mutex_);
  peers_.clear();
}

}  // namespace cppnode::cnode
