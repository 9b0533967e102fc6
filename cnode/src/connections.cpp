// SPDX-License-Identifier: Apache-2.0
// The peer table: connecting on demand, the acceptor's pending-connection rules of dist_util and
// net_kernel (simultaneous connects, stale connections), node up/down and reconnection.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "cppnode/cnode/detail/dist_flags.hpp"
#include "cppnode/cnode/detail/handshake_protocol.hpp"
#include "handshake.hpp"
#include "node_impl.hpp"

namespace cppnode::cnode {

std::shared_ptr<Peer> NodeImpl::peer_for(codec::Atom node) {
  if (node == name) {
    return nullptr;
  }
  {
    std::shared_lock lock(peers_mutex);
    if (auto it = peers.find(node); it != peers.end() && !it->second->is_down()) {
      return it->second;
    }
  }
  if (stopping.load() || !detail::is_valid_node_name(node.name())) {
    return nullptr;
  }
  std::shared_ptr<Peer> peer;
  {
    std::unique_lock lock(peers_mutex);
    if (auto it = peers.find(node); it != peers.end() && !it->second->is_down()) {
      return it->second;
    }
    peer = std::make_shared<Peer>(*this, io, config, node, next_peer_id.fetch_add(1));
    peers[node] = peer;
    auto hs = Handshake::start_outgoing(*this, peer);
    peer->owner = hs;
    peer->owner_outgoing = true;
    track(hs);
  }
  return peer;
}

bool NodeImpl::send_to_node(codec::Atom node, OutSignal signal) {
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

void NodeImpl::track(const std::shared_ptr<Handshake>& hs) {
  std::lock_guard lock(handshakes_mutex);
  if (handshakes.size() >= 64) {
    std::erase_if(handshakes, [](const auto& w) { return w.expired(); });
  }
  handshakes.push_back(hs);
}

PendingDecision NodeImpl::mark_pending(const std::string& node_name,
                                       const std::shared_ptr<Handshake>& handshake,
                                       std::shared_ptr<Peer>& peer_out) {
  const codec::Atom node(node_name);
  std::unique_lock lock(peers_mutex);
  if (stopping.load()) {
    return PendingDecision::reject;
  }
  track(handshake);
  auto it = peers.find(node);
  if (it == peers.end() || it->second->is_down()) {
    auto peer = std::make_shared<Peer>(*this, io, config, node, next_peer_id.fetch_add(1));
    peer->owner = handshake;
    peer->owner_outgoing = false;
    peers[node] = peer;
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
    if (name > node) {
      return PendingDecision::nok;
    }
    current->abort("simultaneous connect: the connection from the other side wins");
  }
  peer->owner = handshake;
  peer->owner_outgoing = false;
  peer_out = peer;
  return PendingDecision::ok_simultaneous;
}

std::shared_ptr<Peer> NodeImpl::replace_stale(const std::string& node_name,
                                              const std::shared_ptr<Handshake>& handshake) {
  const codec::Atom node(node_name);
  std::unique_lock lock(peers_mutex);
  if (stopping.load()) {
    return nullptr;
  }
  if (auto it = peers.find(node); it != peers.end()) {
    spdlog::warn("node {} connects again while its old connection looks up: dropping the old one",
                 node_name);
    it->second->fail("replaced by a new connection from the same node");
  }
  auto peer = std::make_shared<Peer>(*this, io, config, node, next_peer_id.fetch_add(1));
  peer->owner = handshake;
  peer->owner_outgoing = false;
  peers[node] = peer;
  return peer;
}

void NodeImpl::handshake_nok(const std::shared_ptr<Peer>& peer,
                             const std::shared_ptr<Handshake>& hs) {
  std::unique_lock lock(peers_mutex);
  if (peer->owner.lock() != hs) {
    return;
  }
  peer->owner.reset();
  peer->expect_up_within(config.handshake_timeout);
}

bool NodeImpl::is_pending(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Handshake>& hs) {
  std::shared_lock lock(peers_mutex);
  return peer && !peer->is_down() && peer->owner.lock() == hs;
}

void NodeImpl::handshake_failed(const std::shared_ptr<Peer>& peer,
                                const std::shared_ptr<Handshake>& hs, const std::string& reason) {
  std::unique_lock lock(peers_mutex);
  if (peer->owner.lock() != hs) {
    return;
  }
  peer->owner.reset();
  peer->fail(reason);
}

void NodeImpl::handshake_succeeded(const std::shared_ptr<Peer>& peer,
                                   const std::shared_ptr<Handshake>& hs, DistSocket socket,
                                   std::uint64_t peer_flags, std::uint32_t peer_creation) {
  {
    std::unique_lock lock(peers_mutex);
    auto it = peers.find(peer->name());
    const bool current = it != peers.end() && it->second == peer && peer->owner.lock() == hs &&
                         !peer->is_down() && !stopping.load();
    if (current) {
      peer->owner.reset();
      peer->handshake_done = true;
    } else {
      lock.unlock();
      spdlog::debug("dropping a finished handshake with {}: superseded", peer->name().name());
      socket.close();
      return;
    }
  }
  // A peer that does not publish itself is hidden (a C node, or erl -hidden); what we use on
  // the wire is what both sides support.
  peer->attach(std::move(socket), offered_flags() & peer_flags, peer_creation,
               (peer_flags & detail::dflag::published) == 0);
}

void NodeImpl::peer_up(const std::shared_ptr<Peer>& peer) {
  connections_total.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(keep_mutex);
    if (auto it = keep_connected.find(peer->name()); it != keep_connected.end()) {
      it->second.backoff = std::chrono::milliseconds(0);
    }
  }
  spdlog::info("node {} is up ({})", peer->name().name(), peer->hidden() ? "hidden" : "visible");
  emit(NodeEvent{peer->name(), true, peer->hidden(), codec::Term()});
}

void NodeImpl::peer_down(const std::shared_ptr<Peer>& peer, const std::string& reason,
                         bool was_up) {
  {
    std::unique_lock lock(peers_mutex);
    if (auto it = peers.find(peer->name()); it != peers.end() && it->second == peer) {
      peers.erase(it);
    }
  }
  // Links and monitors across this connection fire with noconnection (see receive_nodedown
  // for the race with entries being added right now).
  const std::uint64_t id = peer->id();
  for (const auto& slot : procs.snapshot()) {
    if (slot->remote_entries.load(std::memory_order_seq_cst) > 0) {
      on_strand(slot, [this, id](const SlotPtr& s) { receive_nodedown(s, id); });
    }
  }
  if (was_up) {
    spdlog::info("node {} is down: {}", peer->name().name(), reason);
    emit(NodeEvent{peer->name(), false, peer->hidden(), codec::binary(reason)});
  }
  schedule_reconnect(peer->name());
}

void NodeImpl::emit(const NodeEvent& event) {
  std::vector<std::function<void(const NodeEvent&)>> handlers;
  {
    std::lock_guard lock(events_mutex);
    handlers = event_handlers;
  }
  for (const auto& h : handlers) {
    try {
      h(event);
    } catch (const std::exception& e) {
      spdlog::error("node event handler threw: {}", e.what());
    }
  }
}

void NodeImpl::keep_node_connected(codec::Atom node) {
  {
    std::lock_guard lock(keep_mutex);
    auto& entry = keep_connected[node];
    if (!entry.timer) {
      entry.timer = std::make_shared<boost::asio::steady_timer>(io);
    }
  }
  peer_for(node);
}

void NodeImpl::schedule_reconnect(codec::Atom node) {
  if (stopping.load()) {
    return;
  }
  std::lock_guard lock(keep_mutex);
  auto it = keep_connected.find(node);
  if (it == keep_connected.end()) {
    return;
  }
  auto& entry = it->second;
  using std::chrono::milliseconds;
  entry.backoff = std::clamp(entry.backoff * 2, milliseconds(500), milliseconds(30'000));
  spdlog::info("reconnecting to {} in {} ms", node.name(), entry.backoff.count());
  entry.timer->expires_after(entry.backoff);
  entry.timer->async_wait([this, node](const boost::system::error_code& ec) {
    if (!ec && !stopping.load()) {
      peer_for(node);
    }
  });
}

std::vector<NodeEvent> NodeImpl::connected() const {
  std::vector<NodeEvent> out;
  std::shared_lock lock(peers_mutex);
  for (const auto& [node, peer] : peers) {
    if (peer->is_up()) {
      out.push_back(NodeEvent{node, true, peer->hidden(), codec::Term()});
    }
  }
  return out;
}

}  // namespace cppnode::cnode
