// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <system_error>

#include "cppnode/cnode/node.hpp"
#include "options.hpp"

namespace cppnode::app {

/// Turns the options into a node configuration: node name, cookie (never logged), epmd port.
/// Errors come back with a message for the user.
std::error_code make_config(const Options& options, cnode::NodeConfig& config,
                            std::string& message);

/// Starts the node's own services once it runs (the place to start servers).
void start_services(cnode::Node& node, const Options& options);

/// Configures logging, starts the node, serves until SIGINT/SIGTERM, shuts down cleanly.
/// Returns the process exit code.
int run(const Options& options);

}  // namespace cppnode::app
