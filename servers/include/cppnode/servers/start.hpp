// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <optional>

#include "cppnode/cnode/process.hpp"
#include "cppnode/codec/result.hpp"
#include "cppnode/codec/term.hpp"
#include "cppnode/servers/gen_server.hpp"

namespace cppnode::cnode {
class Node;
}

namespace cppnode::servers {

class GlobalRegistry;

/// How to start a server (`GenServer.start_link/3`'s options).
struct StartOptions {
  /// Registered on this node, so `{Name, Node}` reaches the server.
  std::optional<codec::Atom> local_name{};
  /// Registered as `{global, Name}` through a connected BEAM node, now or once one connects.
  std::optional<codec::Term> global_name{};
  /// Who registers the global name; defaults to `GlobalRegistry::for_node(node)`.
  std::shared_ptr<GlobalRegistry> registry{};
  /// The owner to link to, as `start_link` does (a supervisor); its exit ends the server.
  std::optional<codec::Pid> parent{};
  /// Bounds the server's mailbox from its first message (default: unbounded, as a BEAM
  /// process); see `cnode::MailboxLimit`. `sys` requests are always queued, so an operator can
  /// still ask an overloaded server for `:sys.get_status/1`.
  std::optional<cnode::MailboxLimit> mailbox_limit{};
};

/// Spawns `server` on `node`, registers its local name, links it to the parent, runs `init` in
/// the calling thread (so it may be called before `Node::run` and from any thread, including a
/// node thread, without deadlock), then registers the global name. Thread-safe. Returns the pid
/// of the running server, or why there is none: `ignore`, `{already_started, Pid}`, or the
/// reason `init` stopped or crashed with.
codec::Result<codec::Pid, codec::Term> start(cnode::Node& node, std::unique_ptr<GenServer> server,
                                             StartOptions options = {});

}  // namespace cppnode::servers
