// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "cppnode/cnode/failure.hpp"
#include "cppnode/codec/result.hpp"

namespace cppnode::cnode {

/// Whether an epmd accepts connections on 127.0.0.1:`port` (blocking, at most `timeout`).
[[nodiscard]] bool epmd_running(std::uint16_t port,
                                std::chrono::milliseconds timeout = std::chrono::seconds(2));

/// Starts `epmd -daemon -port <port>` if none answers, as `erl` does, and waits until it accepts.
/// Blocking: call it at start-up, not on a node thread. The failure says what failed.
codec::Result<void, Failure> ensure_epmd(std::uint16_t port);

/// The epmd port from `ERL_EPMD_PORT`, else 4369. A malformed value is an error.
codec::Result<std::uint16_t, Failure> epmd_port_from_env();

}  // namespace cppnode::cnode
