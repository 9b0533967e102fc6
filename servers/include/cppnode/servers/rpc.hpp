// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>

#include "cppnode/codec/term.hpp"

namespace cppnode::cnode {
class Node;
}

namespace cppnode::servers {

/// How an RPC ended: `ok` with rex's answer in `value` (which is `{badrpc, Reason}` if the
/// function raised), or not `ok` with `timeout` or `{nodedown, Node}` in `value`.
struct RpcOutcome {
  bool ok = false;
  codec::Term value;
};

/// Calls `module:function(args...)` on the BEAM node `target` through its `rex` server, as
/// `ei_rpc` does: a short-lived process sends `{self(), {call, M, F, Args, user}}` to
/// `{rex, Target}` and waits for `{rex, Result}`. `done` runs once, on that process's strand
/// (post to your own strand from there). Never blocks; thread-safe.
void rpc(cnode::Node& node, codec::Atom target, codec::Atom module, codec::Atom function,
         codec::Term args, std::chrono::milliseconds timeout, std::function<void(RpcOutcome)> done);

}  // namespace cppnode::servers
