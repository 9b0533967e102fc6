// SPDX-License-Identifier: Apache-2.0
// Local processes: spawning and exit; and sending, to a local process or over a connection.
#include <spdlog/spdlog.h>

#include <exception>
#include <memory>
#include <stdexcept>
#include <utility>

#include "node_impl.hpp"

namespace cppnode::cnode {

using codec::Atom;
using codec::Pid;
using codec::Term;

// ---- Processes ----

codec::Pid NodeImpl::spawn(const std::shared_ptr<Process>& process,
                           const std::function<void(const SlotPtr&)>& prepare) {
  if (!process) {
    throw std::invalid_argument("Node::spawn: null process");
  }
  if (&process->node() != &owner) {
    throw std::invalid_argument("Node::spawn: the process was made for another node");
  }
  if (!(process->self().node == Atom())) {
    throw std::logic_error("Node::spawn: process " + codec::to_string(Term(process->self())) +
                           " was already spawned");
  }
  if (stopping.load()) {
    throw std::logic_error("Node::spawn: the node is stopping");
  }
  auto slot = procs.insert(process, name, creation.load(), [this, &prepare](const SlotPtr& s) {
    if (prepare) {
      prepare(s);
    }
    delivery.start(s);
  });
  return slot->process->self();
}

void NodeImpl::exit_process(const codec::Pid& pid, const codec::Term& reason) {
  if (auto slot = find_slot(pid)) {
    on_strand(
        slot, [this, reason](const SlotPtr& s) { do_exit(s, reason); }, true);
  }
}

void NodeImpl::do_exit(const SlotPtr& slot, const codec::Term& reason) {
  Process& p = *slot->process;
  if (!slot->alive.exchange(false)) {
    return;
  }
  const Pid self = p.self();
  procs.erase(self);
  names.forget(*slot);
  const std::unique_ptr<SignalEntries> signals = std::move(slot->signals);
  slot->remote_entries.store(0);
  slot->suspension.reset();  // what waited for a busy connection dies with the process
  if (signals) {
    links.tell_exit(self, *signals, reason);
  }
  try {
    ProcessTable::exited(p, reason);
  } catch (const std::exception& e) {
    spdlog::error("process {} threw from on_exit: {}", codec::to_string(Term(self)), e.what());
  } catch (...) {
    spdlog::error("process {} threw from on_exit", codec::to_string(Term(self)));
  }
}

// ---- Outgoing signals ----

void NodeImpl::send(const codec::Pid& from, const codec::Pid& to, codec::Term message) {
  (void)from;
  if (is_local(to)) {
    if (auto slot = find_slot(to)) {
      delivery.deliver(slot, MessageSignal{std::move(message)});
    }
    return;
  }
  if (connections.send_to(to.node, OutSend{to, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
  }
}

void NodeImpl::send_named(const codec::Pid& from, codec::Atom to_name, codec::Atom node,
                          codec::Term message) {
  if (node == name) {
    if (auto slot = names.whereis(to_name)) {
      delivery.deliver(slot, MessageSignal{std::move(message)});
    }
    return;
  }
  if (connections.send_to(node, OutRegSend{from, to_name, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
  }
}

void NodeImpl::send_alias(const codec::Pid& from, const codec::Reference& alias,
                          const codec::Pid& fallback, codec::Term message) {
  if (alias.node == name) {
    if (auto target = names.alias_owner(alias)) {
      send(from, *target, std::move(message));
    }
    return;
  }
  if (connections.send_to(alias.node, OutAliasSend{from, alias, fallback, std::move(message)})) {
    messages_out.fetch_add(1, std::memory_order_relaxed);
  }
}

void NodeImpl::reply(const codec::Pid& server, const codec::Pid& caller, codec::Term tag,
                     codec::Term reply) {
  const codec::Reference* alias = gen_call_alias(tag);
  if (alias == nullptr) {
    send(server, caller, codec::tuple(std::move(tag), std::move(reply)));
    return;
  }
  const codec::Reference ref = *alias;
  send_alias(server, ref, caller, codec::tuple(std::move(tag), std::move(reply)));
  if (links.watches_calls() && ref.node != name) {
    links.forget_call(server, ref);
  }
}

}  // namespace cppnode::cnode
