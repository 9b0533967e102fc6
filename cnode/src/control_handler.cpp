// SPDX-License-Identifier: Apache-2.0
// What the node does with each control message a connection reads, and with connections that
// come up and go down.
#include <spdlog/spdlog.h>

#include <utility>
#include <variant>

#include "node_impl.hpp"
#include "signal_entries.hpp"

namespace cppnode::cnode {

using namespace codec::literals;
namespace {
using codec::Atom;
using codec::Pid;
using codec::Reference;
using codec::Term;
namespace incoming = detail::incoming;

// Whom a control message with a payload is for, for logs.
std::string receiver_of(const detail::ControlMessage& m) {
  if (const auto* op = m.as<incoming::Send>()) return codec::to_string(codec::Term(op->to));
  if (const auto* op = m.as<incoming::RegSend>()) return std::string(op->to_name.name());
  if (const auto* op = m.as<incoming::AliasSend>()) {
    return "alias " + codec::to_string(codec::Term(op->alias));
  }
  if (const auto* op = m.as<incoming::Exit>()) return codec::to_string(codec::Term(op->to));
  if (const auto* op = m.as<incoming::Exit2>()) return codec::to_string(op->to);
  if (const auto* op = m.as<incoming::MonitorExit>()) {
    return codec::to_string(codec::Term(op->watcher));
  }
  return "this node";  // SPAWN_REQUEST
}

// One incoming control message, by operation, on the peer's strand. An error closes the
// connection.
struct ControlHandler {
  NodeImpl& node;
  const std::shared_ptr<Peer>& peer;
  detail::ControlMessage& m;

  [[nodiscard]] SlotPtr local_slot(const Pid& pid) const {
    return node.is_local(pid) ? node.find_slot(pid) : nullptr;
  }
  // A pid or a registered name.
  [[nodiscard]] SlotPtr resolve(const Term& target) const {
    if (const auto* pid = target.get_if<Pid>()) return local_slot(*pid);
    return node.names.whereis(target.as<Atom>());
  }
  // A message: decoded only for a receiver that exists (or a call the node answers itself).
  [[nodiscard]] Handled message(const Term& target, const SlotPtr& slot) const {
    node.messages_in.fetch_add(1, std::memory_order_relaxed);
    const bool calls_watched_here = node.links.watches_calls();
    if (!slot && !calls_watched_here) return {};
    auto decoded = node.take_payload(*peer, m);
    if (!decoded) return codec::unexpected(std::move(decoded).error());
    if (!*decoded) return {};
    if (!slot) {
      node.links.answer_call_to_missing(peer, target, m.payload);
      return {};
    }
    if (calls_watched_here) node.links.watch_call(peer, slot, target, m.payload);
    node.delivery.deliver_from_peer(slot, MessageSignal{std::move(m.payload)});
    return {};
  }

  Handled operator()(const incoming::Send& op) const {
    return message(Term(op.to), local_slot(op.to));
  }
  Handled operator()(const incoming::RegSend& op) const {
    return message(Term(op.to_name), node.names.whereis(op.to_name));
  }
  Handled operator()(const incoming::AliasSend& op) const {
    node.messages_in.fetch_add(1, std::memory_order_relaxed);
    if (auto slot = node.alias_target(op.alias)) {
      auto decoded = node.take_payload(*peer, m);
      if (!decoded) return codec::unexpected(std::move(decoded).error());
      if (!*decoded) return {};
      node.delivery.deliver_from_peer(slot, MessageSignal{std::move(m.payload)});
    }
    return {};
  }
  Handled operator()(const incoming::Link& op) const {
    if (auto slot = local_slot(op.to)) {
      on_strand_from_peer(slot, [&links = node.links, from = op.from, p = peer](const SlotPtr& s) {
        links.receive_link(s, from, p);
      });
    } else {
      peer->send(OutExit{true, op.to, op.from, noproc()});
    }
    return {};
  }
  Handled operator()(const incoming::Unlink& op) const {
    if (auto slot = local_slot(op.to)) {
      on_strand_from_peer(
          slot, [from = op.from](const SlotPtr& s) { LinkProtocol::receive_old_unlink(s, from); });
    }
    return {};
  }
  Handled operator()(const incoming::UnlinkId& op) const {
    if (auto slot = local_slot(op.to)) {
      on_strand_from_peer(slot, [&links = node.links, id = op.id, from = op.from, p = peer](
                                    const SlotPtr& s) { links.receive_unlink_id(s, id, from, p); });
    }
    return {};
  }
  Handled operator()(const incoming::UnlinkIdAck& op) const {
    if (auto slot = local_slot(op.to)) {
      on_strand_from_peer(slot, [id = op.id, from = op.from](const SlotPtr& s) {
        LinkProtocol::receive_unlink_ack(s, id, from);
      });
    }
    return {};
  }
  [[nodiscard]] Handled deliver_exit(const Pid& from, const SlotPtr& slot, bool is_link) const {
    if (slot) {
      on_strand_from_peer(
          slot, [&links = node.links, from, reason = std::move(m.payload),
                 is_link](const SlotPtr& s) { links.receive_exit(s, from, reason, is_link); });
    }
    return {};
  }
  Handled operator()(const incoming::Exit& op) const {
    return deliver_exit(op.from, local_slot(op.to), true);
  }
  Handled operator()(const incoming::Exit2& op) const {
    const SlotPtr slot = op.to.is<Atom>()        ? node.names.whereis(op.to.as<Atom>())
                         : op.to.is<Reference>() ? node.alias_target(op.to.as<Reference>())
                                                 : local_slot(op.to.as<Pid>());
    return deliver_exit(op.from, slot, false);
  }
  Handled operator()(const incoming::Monitor& op) const {
    if (const auto* pid = op.target.get_if<Pid>(); pid != nullptr && !node.is_local(*pid)) {
      return codec::unexpected("MONITOR_P for " + codec::to_string(op.target) +
                               ", a pid of another node");
    }
    if (auto slot = resolve(op.target)) {
      on_strand_from_peer(slot,
                          [&links = node.links, w = Watcher{op.ref, op.watcher, op.target, peer}](
                              const SlotPtr& s) { links.receive_monitor(s, w); });
    } else {
      peer->send(OutMonitorExit{op.target, op.watcher, op.ref, noproc()});
    }
    return {};
  }
  Handled operator()(const incoming::Demonitor& op) const {
    if (auto slot = resolve(op.target)) {
      on_strand_from_peer(
          slot, [ref = op.ref](const SlotPtr& s) { LinkProtocol::receive_demonitor(s, ref); });
    }
    return {};
  }
  Handled operator()(const incoming::MonitorExit& op) const {
    if (auto slot = local_slot(op.watcher)) {
      on_strand_from_peer(slot, [&links = node.links, ref = op.ref, reason = std::move(m.payload)](
                                    const SlotPtr& s) { links.receive_down(s, ref, reason); });
    }
    return {};
  }
  Handled operator()(const incoming::SpawnRequest& op) const {
    node.handle_spawn_request(peer, op, m.payload);
    return {};
  }
  Handled operator()(const incoming::Ignored&) const {
    spdlog::debug("ignoring control operation {} from {}", m.op, peer->name().name());
    return {};
  }
};

}  // namespace

codec::Result<bool, std::string> NodeImpl::take_payload(const Peer& peer,
                                                        detail::ControlMessage& m) {
  auto decoded = detail::decode_payload(m, config.decode);
  if (decoded) {
    return true;
  }
  const codec::Error& failed = decoded.error();
  if (failed.code == codec::errc::compressed_refused) {
    return codec::unexpected("control operation " + std::to_string(m.op) + ": " + failed.what());
  }
  const auto n = messages_refused.fetch_add(1, std::memory_order_relaxed) + 1;
  // A peer can make every message fail: past the first hundred, one line per thousand.
  if (n <= 100 || n % 1000 == 0) {
    spdlog::warn("refused a message from {} (control operation {}, to {}): {} ({} refused so far)",
                 peer.name().name(), m.op, receiver_of(m), failed.what(), n);
  }
  return false;
}

void NodeImpl::peer_up(const std::shared_ptr<Peer>& peer) { connections.came_up(peer); }

void NodeImpl::peer_down(const std::shared_ptr<Peer>& peer, const std::string& reason,
                         bool was_up) {
  connections.went_down(peer, reason, was_up);
  links.connection_lost(peer->id());
}

Handled NodeImpl::handle_control(const std::shared_ptr<Peer>& peer, detail::ControlMessage& m) {
  // A message's payload is decoded once its receiver is known to exist (ControlHandler), as the
  // BEAM drops a message to a missing process or name undecoded; other payloads (exit reasons,
  // spawn arguments) are decoded here.
  if (!m.is_message() && !m.payload_bytes.empty()) {
    auto decoded = take_payload(*peer, m);
    if (!decoded) return codec::unexpected(std::move(decoded).error());
    if (!*decoded) return {};
  }
  return std::visit(ControlHandler{*this, peer, m}, m.operation);
}

}  // namespace cppnode::cnode
