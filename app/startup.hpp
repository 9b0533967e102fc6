// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cppnode/cnode/failure.hpp"
#include "cppnode/cnode/node.hpp"
#include "cppnode/codec/result.hpp"
#include "options.hpp"

namespace cppnode::app {

/// Turns the options into a node configuration: node name, cookie (never logged), epmd port.
/// A failure's message is for the user.
codec::Result<cnode::NodeConfig, cnode::Failure> make_config(const Options& options);

/// Starts the node's own services once it runs (the place to start servers).
void start_services(cnode::Node& node, const Options& options);

/// Configures logging, starts the node, serves until SIGINT/SIGTERM, shuts down cleanly.
/// Returns the process exit code.
int run(const Options& options);

}  // namespace cppnode::app
