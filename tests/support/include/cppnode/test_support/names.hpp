// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cppnode/cnode/startup.hpp"

namespace cppnode::test_support {

/// `prefix_<getpid()>_<counter>`: unique across concurrently running test processes.
std::string unique_name(std::string_view prefix);
/// The host part of short node names (`-sname`), as `erl` derives it from gethostname().
using cnode::short_hostname;
/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it).
std::uint16_t free_tcp_port();
/// Whether something accepts TCP connections on 127.0.0.1:`port` right now.
bool accepts_on(std::uint16_t port);

}  // namespace cppnode::test_support
