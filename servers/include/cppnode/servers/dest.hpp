// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>

#include "cppnode/codec/term.hpp"

namespace cppnode::servers {

/// Where a message, cast or call goes, as in `GenServer.call(Dest, ...)`: a pid, a name
/// registered on this node, `{Name, Node}`, or `{global, Name}`.
class Dest {
 public:
  enum class Kind : std::uint8_t { pid, name, global };

  Dest(codec::Pid pid) : kind_(Kind::pid), pid_(pid) {}  // NOLINT(google-explicit-constructor)
  /// A name registered on this node.
  // NOLINTNEXTLINE(google-explicit-constructor)
  Dest(codec::Atom local_name) : kind_(Kind::name), name_(local_name) {}
  /// `{Name, Node}`: a name registered on `node` (which may be this node).
  static Dest remote(codec::Atom name, codec::Atom node) {
    Dest d(name);
    d.node_ = node;
    return d;
  }
  /// `{global, Name}`: resolved with `global:whereis_name/1` on a connected BEAM node.
  static Dest global(codec::Term name) {
    Dest d(codec::Atom{});
    d.kind_ = Kind::global;
    d.global_ = std::move(name);
    return d;
  }
  /// Reads the forms `GenServer.call` accepts: a pid, an atom, `{Name, Node}`,
  /// `{global, Name}`; nullopt for anything else.
  static std::optional<Dest> from_term(const codec::Term& t);

  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  /// The pid (kind pid).
  [[nodiscard]] const codec::Pid& pid() const noexcept { return pid_; }
  /// The registered name (kind name).
  [[nodiscard]] codec::Atom name() const noexcept { return name_; }
  /// The node of `{Name, Node}`, or nullopt for this node (kind name).
  [[nodiscard]] const std::optional<codec::Atom>& node() const noexcept { return node_; }
  /// The global name (kind global).
  [[nodiscard]] const codec::Term& global_name() const noexcept { return global_; }
  /// The destination as `GenServer.call` would be given it.
  [[nodiscard]] codec::Term to_term() const;

 private:
  Kind kind_;
  codec::Pid pid_;
  codec::Atom name_;
  std::optional<codec::Atom> node_;
  codec::Term global_;
};

}  // namespace cppnode::servers
