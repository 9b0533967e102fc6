// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cppnode/codec/result.hpp"

namespace cppnode::cnode::detail {

/// epmd request/response codes (the ERTS "Distribution Protocol" document).
namespace epmd {
inline constexpr std::uint8_t alive2_req = 120;
inline constexpr std::uint8_t alive2_resp = 121;
inline constexpr std::uint8_t alive2_x_resp = 118;
inline constexpr std::uint8_t port_please2_req = 122;
inline constexpr std::uint8_t port2_resp = 119;
inline constexpr std::uint8_t node_type_hidden = 72;
inline constexpr std::uint8_t node_type_normal = 77;
inline constexpr std::uint16_t dist_version = 6;
inline constexpr std::uint16_t dist_version_lowest = 5;
}  // namespace epmd

/// ALIVE2_REQ for `alive` (the part before `@`) listening on `port`, as a hidden node.
std::string encode_alive2_req(std::uint16_t port, std::string_view alive);
/// PORT_PLEASE2_REQ for `alive`.
std::string encode_port_please2_req(std::string_view alive);

/// How many bytes the ALIVE2 response needs (it depends on its first byte), or 0 if unknown.
[[nodiscard]] std::size_t alive2_response_size(std::uint8_t first_byte) noexcept;
/// Parses ALIVE2_X_RESP / ALIVE2_RESP: the creation, or why not (e.g. the name is taken).
codec::Result<std::uint32_t, std::string> parse_alive2_response(
    std::span<const std::uint8_t> bytes);

/// The node's distribution port from a complete PORT2_RESP (epmd closes after it), or why not
/// (the name is not registered, or the answer is malformed).
codec::Result<std::uint16_t, std::string> parse_port2_response(std::span<const std::uint8_t> bytes);

}  // namespace cppnode::cnode::detail
