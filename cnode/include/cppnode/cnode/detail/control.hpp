// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "cppnode/codec/codec.hpp"
#include "cppnode/codec/dist_header.hpp"
#include "cppnode/codec/term.hpp"

namespace cppnode::cnode::detail {

/// Control message operations (first element of the control tuple).
namespace op {
inline constexpr int link = 1;
inline constexpr int send = 2;
inline constexpr int exit = 3;
inline constexpr int unlink = 4;
inline constexpr int node_link = 5;
inline constexpr int reg_send = 6;
inline constexpr int group_leader = 7;
inline constexpr int exit2 = 8;
inline constexpr int send_tt = 12;
inline constexpr int exit_tt = 13;
inline constexpr int reg_send_tt = 16;
inline constexpr int exit2_tt = 18;
inline constexpr int monitor_p = 19;
inline constexpr int demonitor_p = 20;
inline constexpr int monitor_p_exit = 21;
inline constexpr int send_sender = 22;
inline constexpr int send_sender_tt = 23;
inline constexpr int payload_exit = 24;
inline constexpr int payload_exit_tt = 25;
inline constexpr int payload_exit2 = 26;
inline constexpr int payload_exit2_tt = 27;
inline constexpr int payload_monitor_p_exit = 28;
inline constexpr int spawn_request = 29;
inline constexpr int spawn_request_tt = 30;
inline constexpr int spawn_reply = 31;
inline constexpr int spawn_reply_tt = 32;
inline constexpr int alias_send = 33;
inline constexpr int alias_send_tt = 34;
inline constexpr int unlink_id = 35;
inline constexpr int unlink_id_ack = 36;
/// OTP 28+, under DFLAG_ALTACT_SIG: `{37, Flags, From, To[, Token]}` then a message or, with
/// `altact::exit`, an exit reason. Replaces ALIAS_SEND and carries priority signals.
inline constexpr int altact_sig_send = 37;
}  // namespace op

/// ALTACT_SIG_SEND's flag bits (erts dist.h); `To` is a reference with `alias`, an atom with
/// `name`, else a pid. Other bits are for later releases and ignored, as erts does.
namespace altact {
inline constexpr std::uint8_t priority = 1U << 0U;
inline constexpr std::uint8_t token = 1U << 1U;
inline constexpr std::uint8_t alias = 1U << 2U;
inline constexpr std::uint8_t name = 1U << 3U;
inline constexpr std::uint8_t exit = 1U << 4U;
}  // namespace altact

/// The pass-through byte that starts every packet when no distribution header is negotiated
/// (with one, packets start with 131, 68: dist_header.hpp).
inline constexpr std::uint8_t pass_through = 112;

/// What an incoming control message asks, one struct per operation, normalised: `_TT` variants
/// drop their trace token, the PAYLOAD_ forms and the old forms of exits look alike, SEND_SENDER
/// looks like SEND, ALTACT_SIG_SEND looks like the SEND, REG_SEND, ALIAS_SEND or EXIT2 it stands
/// for (a priority signal is an ordinary one here: this node never enables priority reception).
/// The payload term (message, reason or arguments) is ControlMessage::payload.
namespace incoming {
/// A message to a pid.
struct Send {
  codec::Pid to;
  bool operator==(const Send&) const = default;
};
/// A message to a registered name.
struct RegSend {
  codec::Pid from;
  codec::Atom to_name;
  bool operator==(const RegSend&) const = default;
};
/// A message to an alias.
struct AliasSend {
  codec::Pid from;
  codec::Reference alias;
  bool operator==(const AliasSend&) const = default;
};
struct Link {
  codec::Pid from;
  codec::Pid to;
  bool operator==(const Link&) const = default;
};
/// The old UNLINK, without an id.
struct Unlink {
  codec::Pid from;
  codec::Pid to;
  bool operator==(const Unlink&) const = default;
};
struct UnlinkId {
  std::uint64_t id = 0;
  codec::Pid from;
  codec::Pid to;
  bool operator==(const UnlinkId&) const = default;
};
struct UnlinkIdAck {
  std::uint64_t id = 0;
  codec::Pid from;
  codec::Pid to;
  bool operator==(const UnlinkIdAck&) const = default;
};
/// A link broken; the payload is the reason.
struct Exit {
  codec::Pid from;
  codec::Pid to;
  bool operator==(const Exit&) const = default;
};
/// exit/2 to a pid, a registered name (Atom) or an alias (Reference); the payload is the reason.
struct Exit2 {
  codec::Pid from;
  codec::Term to;
  bool operator==(const Exit2&) const = default;
};
/// `watcher` monitors `target`, a pid or a registered name.
struct Monitor {
  codec::Pid watcher;
  codec::Term target;
  codec::Reference ref;
  bool operator==(const Monitor&) const = default;
};
struct Demonitor {
  codec::Pid watcher;
  codec::Term target;
  codec::Reference ref;
  bool operator==(const Demonitor&) const = default;
};
/// The monitored `target` (a pid or a name) is gone; the payload is the reason.
struct MonitorExit {
  codec::Term target;
  codec::Pid watcher;
  codec::Reference ref;
  bool operator==(const MonitorExit&) const = default;
};
/// `spawn_request`: the payload is the argument list.
struct SpawnRequest {
  codec::Reference req_id;
  codec::Pid parent;
  codec::Term mfa;  // {Module, Function, Arity}
  codec::Term options;
  bool operator==(const SpawnRequest&) const = default;
};
/// Well-formed and harmless, not acted on (NODE_LINK, GROUP_LEADER).
struct Ignored {
  bool operator==(const Ignored&) const = default;
};
using Operation = std::variant<Send, RegSend, AliasSend, Link, Unlink, UnlinkId, UnlinkIdAck, Exit,
                               Exit2, Monitor, Demonitor, MonitorExit, SpawnRequest, Ignored>;
}  // namespace incoming

/// An incoming control message: its operation and its payload term, if it has one.
struct ControlMessage {
  /// The operation number as sent (op::...).
  int op = 0;
  incoming::Operation operation{incoming::Ignored{}};
  /// The message (sends), the reason (exits) or the argument list (SPAWN_REQUEST); for an
  /// operation with a payload term, set by decode_payload; for the old exit forms, taken from
  /// the control tuple.
  codec::Term payload;
  /// The payload term's bytes (from its 131 to the end of the packet), not yet decoded; empty
  /// for operations without one. Points into the packet given to parse_control.
  std::span<const std::uint8_t> payload_bytes;
  /// Set when the packet began with a distribution header: the payload has no version byte and
  /// its ATOM_CACHE_REFs name the header's atoms (valid until the connection reads its next
  /// packet).
  codec::AtomCacheIn* atom_cache = nullptr;

  /// The operation as `T`, or null if it is another.
  template <class T>
  [[nodiscard]] const T* as() const noexcept {
    return std::get_if<T>(&operation);
  }
  /// Whether the payload is a message (a send of any kind).
  [[nodiscard]] bool is_message() const noexcept {
    return as<incoming::Send>() != nullptr || as<incoming::RegSend>() != nullptr ||
           as<incoming::AliasSend>() != nullptr;
  }
};

/// Parses one distribution packet up to its payload term, which is left undecoded in
/// `payload_bytes`: the BEAM decodes a message only once it knows the receiver exists. The
/// packet starts with the pass-through byte, or, given the connection's incoming atom cache
/// (DFLAG_DIST_HDR_ATOM_CACHE negotiated), with a distribution header. A bad header, an unknown
/// operation, a tuple of the wrong shape, an undecodable control term (COMPRESSED included:
/// distribution never compresses) or a missing payload fail with a message naming what was
/// expected and what came.
codec::Result<ControlMessage, std::string> parse_control(std::span<const std::uint8_t> packet,
                                                         const codec::DecodeOptions& options,
                                                         codec::AtomCacheIn* cache = nullptr);

/// Decodes `m.payload_bytes` into `m.payload`; the term must fill them. COMPRESSED is refused
/// (errc::compressed_refused) whatever `options` say.
codec::Result<void> decode_payload(ControlMessage& m, const codec::DecodeOptions& options);

/// parse_control then decode_payload, for tools and tests that want the whole message; a payload
/// that does not decode is an error too.
codec::Result<ControlMessage, std::string> parse_control_full(std::span<const std::uint8_t> packet,
                                                              const codec::DecodeOptions& options,
                                                              codec::AtomCacheIn* cache = nullptr);

/// Encoders: each appends one complete packet to `out`: 4-byte length, then the pass-through
/// byte, the control term and the payload term if any, each with its version byte; or, given the
/// connection's outgoing atom cache (DFLAG_DIST_HDR_ATOM_CACHE negotiated), a distribution
/// header and the terms without version bytes.
void encode_send(std::string& out, const codec::Pid& to, const codec::Term& message,
                 codec::AtomCacheOut* cache = nullptr);
void encode_reg_send(std::string& out, const codec::Pid& from, codec::Atom to_name,
                     const codec::Term& message, codec::AtomCacheOut* cache = nullptr);
void encode_alias_send(std::string& out, const codec::Pid& from, const codec::Reference& alias,
                       const codec::Term& message, codec::AtomCacheOut* cache = nullptr);
/// ALTACT_SIG_SEND of a message to an alias (flags = altact::alias), for a peer with
/// DFLAG_ALTACT_SIG.
void encode_altact_alias_send(std::string& out, const codec::Pid& from,
                              const codec::Reference& alias, const codec::Term& message,
                              codec::AtomCacheOut* cache = nullptr);
void encode_link(std::string& out, const codec::Pid& from, const codec::Pid& to,
                 codec::AtomCacheOut* cache = nullptr);
void encode_unlink(std::string& out, const codec::Pid& from, const codec::Pid& to,
                   codec::AtomCacheOut* cache = nullptr);
void encode_unlink_id(std::string& out, int operation, std::uint64_t id, const codec::Pid& from,
                      const codec::Pid& to, codec::AtomCacheOut* cache = nullptr);
/// EXIT (`is_link`) or EXIT2, in the PAYLOAD_ form when `payload_form`.
void encode_exit(std::string& out, bool payload_form, bool is_link, const codec::Pid& from,
                 const codec::Pid& to, const codec::Term& reason,
                 codec::AtomCacheOut* cache = nullptr);
/// MONITOR_P or DEMONITOR_P (`operation`); `target` is a Pid or an Atom.
void encode_monitor(std::string& out, int operation, const codec::Pid& from,
                    const codec::Term& target, const codec::Reference& ref,
                    codec::AtomCacheOut* cache = nullptr);
/// MONITOR_P_EXIT, in the PAYLOAD_ form when `payload_form`; `from_proc` is a Pid or an Atom.
void encode_monitor_exit(std::string& out, bool payload_form, const codec::Term& from_proc,
                         const codec::Pid& to, const codec::Reference& ref,
                         const codec::Term& reason, codec::AtomCacheOut* cache = nullptr);
/// SPAWN_REPLY: `result` is the new Pid or an error atom; `flags` 1 = linked, 2 = monitored.
void encode_spawn_reply(std::string& out, const codec::Reference& ref, const codec::Pid& to,
                        std::int64_t flags, const codec::Term& result,
                        codec::AtomCacheOut* cache = nullptr);
/// A zero-length packet.
void encode_tick(std::string& out);

}  // namespace cppnode::cnode::detail
