// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "cppnode/cnode/failure.hpp"
#include "cppnode/codec/result.hpp"

namespace cppnode::cnode::detail {

/// A registration with epmd: its socket, which must stay open for as long as the node wants to be
/// found, and the creation epmd assigned.
struct EpmdRegistration {
  int fd = -1;
  std::uint32_t creation = 0;
};

/// Registers `alive` with listen port `port` at the epmd on 127.0.0.1:`epmd_port` (ALIVE2_REQ as
/// a hidden node). Blocking with `timeout`.
codec::Result<EpmdRegistration, Failure> register_with_epmd(std::uint16_t epmd_port,
                                                            std::string_view alive,
                                                            std::uint16_t port,
                                                            std::chrono::milliseconds timeout);

}  // namespace cppnode::cnode::detail
