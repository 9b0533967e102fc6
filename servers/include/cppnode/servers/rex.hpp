// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "cppnode/codec/term.hpp"
#include "cppnode/servers/gen_server.hpp"

namespace cppnode::cnode {
class Node;
}

namespace cppnode::servers {

/// A C++ function that RPCs reach: gets the call's arguments, returns the result. Throw
/// `ErlangError` for an Erlang error (`{badrpc, {'EXIT', {Reason, Stack}}}` at the caller),
/// `ExitError` for an exit (`{badrpc, {'EXIT', Reason}}`); any other exception becomes the error
/// `{cpp_exception, <<What>>}`. Runs on rex's strand, one call at a time: keep it short, and
/// hand long work to a GenServer of its own.
using RpcFunction = std::function<codec::Term(const std::vector<codec::Term>& args)>;

/// How `Module:Function(Args...)` ended, in the classes of Erlang's `try ... catch`.
struct RpcResult {
  enum class Kind : std::uint8_t { returned, exited, raised };
  Kind kind = Kind::returned;
  /// The return value, the exit reason, or the error reason.
  codec::Term value;
  /// For `raised`: the stack trace, innermost frame first.
  codec::Term stack;

  /// What `rpc:call` answers for it: the value, `{badrpc, {'EXIT', Reason}}` or
  /// `{badrpc, {'EXIT', {Reason, Stack}}}`.
  [[nodiscard]] codec::Term rpc_reply() const;
};

/// The C++ functions this node's `rex` serves, by module, function name and arity — as a BEAM
/// node serves its loaded modules: calling `add/3` when only `add/2` is registered is `undef`.
/// Thread-safe; functions may be registered before or after rex starts.
class RpcFunctions {
 public:
  /// Adds `module:function/arity`, replacing an earlier registration of the same name/arity.
  void register_function(codec::Atom module, codec::Atom function, std::size_t arity,
                         RpcFunction f);
  /// Removes `module:function/arity`; false if it was not registered.
  bool unregister_function(codec::Atom module, codec::Atom function, std::size_t arity);
  /// `[{Module, Function, Arity}]` of every registered function, sorted.
  [[nodiscard]] codec::Term list() const;

  /// Runs `module:function(args...)` on the calling thread, as Erlang's `apply/3`: `args` must
  /// be a proper list (else the error `badarg`), an unknown function is the error `undef` with
  /// the frame `{Module, Function, Args, []}`, and an exception escaping the function is turned
  /// into its error or exit (see `RpcFunction`). Never throws.
  [[nodiscard]] RpcResult apply(const codec::Term& module, const codec::Term& function,
                                const codec::Term& args) const;

 private:
  using Key = std::tuple<codec::Atom, codec::Atom, std::size_t>;
  mutable std::mutex mutex_;
  std::map<Key, std::shared_ptr<const RpcFunction>> functions_;
};

/// The `rex` server (start it with the local name `rex`): answers what BEAM nodes and C nodes
/// send to another node's `rex`, running `functions`:
/// - calls `{call | block_call, M, F, Args, GroupLeader}` (`rpc:block_call/4,5`, and
///   `gen_server:call({rex, Node}, ...)`) with `rpc:call`'s answer;
/// - casts `{cast, M, F, Args, GroupLeader}`: the result is dropped, failures are logged;
/// - `{From, {call, M, F, Args, GroupLeader}}` (ei_rpc, `servers::rpc`): answers `{rex, Reply}`;
/// - `{From, {sbcast, Name, Msg}}` (`rpc:sbcast`): `Name ! Msg`, answering `{rex, Node, Node}`
///   or `{rex, Node, {nonexisting_name, Name}}`;
/// - calls `{'$cppnode_apply', M, F, Args}` from the processes of `serve_rpc_spawns`, answered
///   `{return | exit | error, Value, Stack}`.
/// Anything else is ignored, as OTP's rex does. The group leader is ignored: C++ does no Erlang
/// I/O.
std::unique_ptr<GenServer> make_rex(std::shared_ptr<const RpcFunctions> functions);

/// Lets OTP 23+ `rpc:call`, `rpc:cast`, `rpc:multicall`, `erpc:*` and `spawn(Node, M, F, Args)`
/// reach the functions `rex` serves. These spawn a process on the target node (SPAWN_REQUEST)
/// instead of asking rex; this sets `node`'s spawn handler, whose processes run
/// `erpc:execute_call/4`, `erpc:execute_cast/3` or `M:F(Args...)` through the `rex` registered
/// on `node` (so functions still run on rex's strand) and exit as the BEAM's would: the caller
/// sees the same results and `{badrpc, ...}` errors as from a BEAM node.
void serve_rpc_spawns(cnode::Node& node);

}  // namespace cppnode::servers
