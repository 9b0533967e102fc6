// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "cppnode/codec/result.hpp"
#include "cppnode/codec/term.hpp"
#include "cppnode/servers/gen_server.hpp"
#include "cppnode/servers/rex.hpp"
#include "cppnode/servers/supervisor.hpp"

namespace cppnode::cnode {
class Node;
}

namespace cppnode::servers {

/// The node's figures for operators, as a map:
/// `#{node => Node, connections => Count, connected_nodes => [Node], connections_total => N,
/// processes => Count, messages_in => N, messages_out => N, messages_refused => N, atoms => N,
/// mailboxes => [#{pid => Pid, name => Name, queued => N}]}`. Messages count only those to and
/// from other nodes; `messages_refused` those whose payload did not decode (dropped alone);
/// `atoms` is the size of the process-wide atom table (bounded by codec::atom_limit());
/// `connections_total` counts connections made since the node started; `mailboxes` lists the
/// `top` deepest non-empty mailboxes, deepest first (`name` only for registered processes).
/// Thread-safe; O(processes).
codec::Term node_stats(const cnode::Node& node, std::size_t top = 5);

/// The server to register locally as `cppnode`: `GenServer.call({:cppnode, node}, :stats)`
/// answers `node_stats`. Other requests get Erlang's `function_clause` exit.
std::unique_ptr<GenServer> make_stats_server();

/// Registers the `cppnode` module's RPC functions in `functions`: `cppnode:stats/0`
/// (`node_stats`), `cppnode:version/0` (`version` as a binary) and `cppnode:functions/0` (the
/// `[{Module, Function, Arity}]` registered in `functions`). `node` must outlive them.
void register_node_functions(const std::shared_ptr<RpcFunctions>& functions, cnode::Node& node,
                             const std::string& version);

/// Starts `make_rex(functions)` as `rex` and `make_stats_server()` as `cppnode` under a
/// one_for_one supervisor registered as `cppnode_ops_sup`, and `serve_rpc_spawns(node)`;
/// `on_give_up` as in `SupervisorOptions`. Returns the supervisor, or why it could not start.
codec::Result<std::shared_ptr<Supervisor>, codec::Term> start_operations(
    cnode::Node& node, const std::shared_ptr<const RpcFunctions>& functions,
    std::function<void(const codec::Term& reason)> on_give_up = {});

}  // namespace cppnode::servers
