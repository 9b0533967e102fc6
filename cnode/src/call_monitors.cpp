// SPDX-License-Identifier: Apache-2.0
// Calls from peers when monitors do not cross connections (NodeConfig::remote_monitors off:
// peers are not offered DIST_MONITOR). OTP's gen:call monitors the server with an alias
// ({alias, demonitor}) and tags the call [alias | Mref]; over such a connection that monitor
// only watches the connection, so the node delivers what it would have: a DOWN at the alias
// when the server exits before answering, or at once when there is no such process.
#include <optional>

#include "link_protocol.hpp"
#include "peer.hpp"

namespace cppnode::cnode {

using namespace codec::literals;

using codec::Atom;
using codec::Pid;
using codec::Reference;
using codec::Term;

namespace {

struct Call {
  Pid caller;
  Reference mref;
};

// {'$gen_call', {Pid, [alias | Mref]}, _}: the form of every gen call since OTP 24.
std::optional<Call> call_of(const Term& message) {
  const auto* t = message.get_if<codec::Tuple>();
  if (t == nullptr || t->elements.size() != 3 || !t->elements[0].is_atom("$gen_call")) {
    return std::nullopt;
  }
  const auto* from = t->elements[1].get_if<codec::Tuple>();
  if (from == nullptr || from->elements.size() != 2 || !from->elements[0].is<Pid>()) {
    return std::nullopt;
  }
  const Reference* mref = gen_call_alias(from->elements[1]);
  if (mref == nullptr) {
    return std::nullopt;
  }
  return Call{from->elements[0].as<Pid>(), *mref};
}

}  // namespace

const Reference* gen_call_alias(const Term& tag) {
  const auto* l = tag.get_if<codec::List>();
  if (l == nullptr || l->proper || l->elements.size() != 2 || !l->elements[0].is_atom("alias")) {
    return nullptr;
  }
  return l->elements[1].get_if<Reference>();
}

void LinkProtocol::watch_call(const std::shared_ptr<Peer>& peer, const SlotPtr& slot,
                              const Term& target, const Term& message) {
  if (auto call = call_of(message)) {
    on_strand_from_peer(slot, [this, w = Watcher{call->mref, call->caller, target, peer, true}](
                                  const SlotPtr& s) { receive_monitor(s, w); });
  }
}

void LinkProtocol::answer_call_to_missing(const std::shared_ptr<Peer>& peer, const Term& target,
                                          const Term& message) {
  if (auto call = call_of(message)) {
    send_call_down(Watcher{call->mref, call->caller, target, peer, true}, Term("noproc"_a));
  }
}

void LinkProtocol::send_call_down(const Watcher& w, const Term& reason) {
  // What the caller's monitor reports: the pid, or {Name, Node} for a call by name. An
  // ALIAS_SEND names a sender; for a name that resolves to nobody, the node's pid 0.
  const bool by_name = w.from_proc.is<Atom>();
  const Term object = by_name ? codec::tuple(w.from_proc, Term(node_)) : w.from_proc;
  const Pid from = by_name ? Pid{node_, 0, 0, creation_.load()} : w.from_proc.as<Pid>();
  w.peer->send(OutAliasSend{from, w.ref, w.watcher,
                            codec::tuple("DOWN"_a, Term(w.ref), "process"_a, object, reason)});
}

void LinkProtocol::forget_call(const Pid& server, const Reference& alias) {
  if (!is_local(server)) {
    return;
  }
  if (auto slot = find_slot(server)) {
    on_strand(
        slot, [alias](const SlotPtr& s) { receive_demonitor(s, alias); }, true);
  }
}

}  // namespace cppnode::cnode
