// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/epmd_protocol.hpp"

#include "cppnode/cnode/detail/framing.hpp"

namespace cppnode::cnode::detail {

std::string encode_alive2_req(std::uint16_t port, std::string_view alive) {
  std::string body(1, static_cast<char>(epmd::alive2_req));
  put_u16(body, port);
  body.push_back(static_cast<char>(epmd::node_type_hidden));
  body.push_back(0);  // protocol: TCP/IPv4
  put_u16(body, epmd::dist_version);
  put_u16(body, epmd::dist_version_lowest);
  put_u16(body, static_cast<std::uint16_t>(alive.size()));
  body += alive;
  put_u16(body, 0);  // no extra
  std::string out;
  put_u16(out, static_cast<std::uint16_t>(body.size()));
  return out + body;
}

std::string encode_port_please2_req(std::string_view alive) {
  std::string out;
  put_u16(out, static_cast<std::uint16_t>(alive.size() + 1));
  out.push_back(static_cast<char>(epmd::port_please2_req));
  out += alive;
  return out;
}

std::size_t alive2_response_size(std::uint8_t first_byte) noexcept {
  if (first_byte == epmd::alive2_x_resp) {
    return 6;  // 118, Result, Creation:32
  }
  if (first_byte == epmd::alive2_resp) {
    return 4;  // 121, Result, Creation:16
  }
  return 0;
}

codec::Result<std::uint32_t, std::string> parse_alive2_response(
    std::span<const std::uint8_t> bytes) {
  const std::size_t need = bytes.empty() ? 0 : alive2_response_size(bytes[0]);
  if (need == 0) {
    return codec::unexpected("epmd answered ALIVE2_REQ with code " +
                             (bytes.empty() ? std::string("<nothing>") : std::to_string(bytes[0])) +
                             " instead of ALIVE2_X_RESP (118) or ALIVE2_RESP (121)");
  }
  if (bytes.size() < need) {
    return codec::unexpected("epmd's ALIVE2 answer is truncated");
  }
  if (bytes[1] != 0) {
    return codec::unexpected("epmd refused the registration (result " + std::to_string(bytes[1]) +
                             "): the name is already in use by another node");
  }
  return need == 6 ? get_u32(&bytes[2]) : std::uint32_t{get_u16(&bytes[2])};
}

codec::Result<std::uint16_t, std::string> parse_port2_response(
    std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 2 || bytes[0] != epmd::port2_resp) {
    return codec::unexpected(bytes.empty()
                                 ? "epmd closed the connection without answering PORT_PLEASE2_REQ"
                                 : "epmd answered PORT_PLEASE2_REQ with code " +
                                       std::to_string(bytes[0]) + " instead of PORT2_RESP (119)");
  }
  if (bytes[1] != 0) {
    return codec::unexpected("the node is not registered with epmd");
  }
  // 119, 0, PortNo:16, NodeType, Protocol, HighestVersion:16, LowestVersion:16, Nlen:16, ...
  if (bytes.size() < 12) {
    return codec::unexpected("epmd's PORT2_RESP is truncated");
  }
  const std::uint16_t highest = get_u16(&bytes[6]);
  const std::uint16_t lowest = get_u16(&bytes[8]);
  if (highest < epmd::dist_version || lowest > epmd::dist_version) {
    return codec::unexpected("the node speaks distribution versions " + std::to_string(lowest) +
                             ".." + std::to_string(highest) +
                             ", this node needs 6 (OTP 23 or later)");
  }
  return get_u16(&bytes[2]);
}

}  // namespace cppnode::cnode::detail
