// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

namespace cppnode::cnode::detail {

/// Distribution capability flags (kernel/include/dist.hrl of OTP 25).
namespace dflag {
inline constexpr std::uint64_t published = 0x01;
inline constexpr std::uint64_t atom_cache = 0x02;
inline constexpr std::uint64_t extended_references = 0x04;
inline constexpr std::uint64_t dist_monitor = 0x08;
inline constexpr std::uint64_t fun_tags = 0x10;
inline constexpr std::uint64_t dist_monitor_name = 0x20;
inline constexpr std::uint64_t hidden_atom_cache = 0x40;
inline constexpr std::uint64_t new_fun_tags = 0x80;
inline constexpr std::uint64_t extended_pids_ports = 0x100;
inline constexpr std::uint64_t export_ptr_tag = 0x200;
inline constexpr std::uint64_t bit_binaries = 0x400;
inline constexpr std::uint64_t new_floats = 0x800;
inline constexpr std::uint64_t unicode_io = 0x1000;
inline constexpr std::uint64_t dist_hdr_atom_cache = 0x2000;
inline constexpr std::uint64_t small_atom_tags = 0x4000;
inline constexpr std::uint64_t utf8_atoms = 0x10000;
inline constexpr std::uint64_t map_tag = 0x20000;
inline constexpr std::uint64_t big_creation = 0x40000;
inline constexpr std::uint64_t send_sender = 0x80000;
inline constexpr std::uint64_t big_seqtrace_labels = 0x100000;
inline constexpr std::uint64_t exit_payload = 0x400000;
inline constexpr std::uint64_t fragments = 0x800000;
inline constexpr std::uint64_t handshake_23 = 0x1000000;
inline constexpr std::uint64_t unlink_id = 0x2000000;
/// OTP 25 sends this bit as shorthand for `mandatory_25`; later releases moved it to bit 36.
inline constexpr std::uint64_t mandatory_25_digest = 0x4000000;
inline constexpr std::uint64_t mandatory_25_digest_new = std::uint64_t{1} << 36;
inline constexpr std::uint64_t spawn = std::uint64_t{1} << 32;
inline constexpr std::uint64_t name_me = std::uint64_t{1} << 33;
inline constexpr std::uint64_t v4_nc = std::uint64_t{1} << 34;
inline constexpr std::uint64_t alias = std::uint64_t{1} << 35;
/// OTP 28+: ALTACT_SIG_SEND (op 37), which replaces ALIAS_SEND (removed in OTP 30).
inline constexpr std::uint64_t altact_sig = std::uint64_t{1} << 37;

/// What an OTP 25 node refuses to connect without.
inline constexpr std::uint64_t mandatory_25 =
    extended_references | fun_tags | extended_pids_ports | new_fun_tags | export_ptr_tag |
    bit_binaries | new_floats | utf8_atoms | map_tag | big_creation | handshake_23;

/// Exactly what this node implements. Not published (a hidden node, like every C node), no
/// fragments, no SEND_SENDER. DIST_HDR_ATOM_CACHE: distribution headers both ways, as between
/// two BEAM nodes (codec/dist_header.hpp). SPAWN: OTP 23+ `rpc:call` and `erpc` need it (without
/// it they fail with `notsup` before sending anything); a node without a spawn handler answers
/// every SPAWN_REQUEST with `notsup`.
inline constexpr std::uint64_t ours = mandatory_25 | dist_monitor | dist_monitor_name |
                                      exit_payload | unlink_id | v4_nc | alias | spawn |
                                      altact_sig | dist_hdr_atom_cache;
}  // namespace dflag

/// The peer's flags with the "mandatory 25" shorthand bit expanded, as dist_util does.
[[nodiscard]] constexpr std::uint64_t expand_peer_flags(std::uint64_t flags) noexcept {
  if ((flags & (dflag::mandatory_25_digest | dflag::mandatory_25_digest_new)) != 0) {
    flags |= dflag::mandatory_25;
  }
  return flags;
}

/// The names of the mandatory flags missing from `peer_flags` ("" if none), for error messages.
std::string missing_mandatory_flags(std::uint64_t peer_flags);

}  // namespace cppnode::cnode::detail
