// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cppnode/codec/term.hpp"

namespace cppnode::cnode {
class Node;
}

namespace cppnode::servers {

/// The caller of a `GenServer.call`: the `{Pid, Tag}` of `{'$gen_call', {Pid, Tag}, Request}`.
/// A small copyable handle; `reply` may be called from any thread, at any time, also after the
/// server has ended (as `gen_server:reply/2`). The Node must outlive it.
class From {
 public:
  From() = default;
  From(cnode::Node& node, codec::Pid server, codec::Pid caller, codec::Term tag)
      : node_(&node), server_(server), caller_(caller), tag_(std::move(tag)) {}

  /// Sends `{Tag, Reply}`: to the alias when Tag is `[alias | Ref]` (OTP 24+ callers; the node
  /// falls back to the pid if the peer has no aliases), else to the caller's pid. Thread-safe.
  /// Does nothing on a default-constructed From.
  void reply(codec::Term reply) const&;
  /// The same, moving the tag into the reply instead of copying it.
  void reply(codec::Term reply) &&;

  /// The calling process.
  [[nodiscard]] const codec::Pid& pid() const noexcept { return caller_; }
  /// The tag, unchanged: any term (`[alias | Ref]` from OTP 24+, a plain Ref from older callers).
  [[nodiscard]] const codec::Term& tag() const noexcept { return tag_; }
  /// `{Pid, Tag}`, as an Erlang callback would see From.
  [[nodiscard]] codec::Term to_term() const;

 private:
  cnode::Node* node_ = nullptr;
  codec::Pid server_;
  codec::Pid caller_;
  codec::Term tag_;
};

}  // namespace cppnode::servers
