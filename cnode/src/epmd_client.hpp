// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace cppnode::cnode::detail {

/// Registers `alive` with listen port `port` at the epmd on 127.0.0.1:`epmd_port` (ALIVE2_REQ as
/// a hidden node). On success `fd` is the registration's socket, which must stay open for as long
/// as the node wants to be found, and `creation` is what epmd assigned. Blocking with `timeout`.
std::error_code register_with_epmd(std::uint16_t epmd_port, std::string_view alive,
                                   std::uint16_t port, std::chrono::milliseconds timeout, int& fd,
                                   std::uint32_t& creation, std::string& message);

}  // namespace cppnode::cnode::detail
