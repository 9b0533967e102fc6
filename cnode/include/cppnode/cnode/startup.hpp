// SPDX-License-Identifier: Apache-2.0
// What the `main` of every node needs, so that a program of one's own starts in a few lines:
// the node name, cookie and epmd port from the places `erl` takes them, and a run that ends on
// SIGINT or SIGTERM. The `cppnode` executable and examples/custom_server both start this way.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cppnode/cnode/failure.hpp"
#include "cppnode/cnode/node.hpp"
#include "cppnode/codec/result.hpp"

namespace cppnode::cnode {

/// This machine's host name up to its first dot: the host of a short node name, as `erl -sname`
/// takes it ("localhost" if the system has none).
std::string short_hostname();

/// The options a node's command line usually carries, with `erl`'s meaning.
struct StartOptions {
  /// `-sname`: NAME or NAME@HOST with a short host; this host is added when missing.
  std::string sname;
  /// `-name`: NAME@HOST with a fully qualified (dotted) host or an IPv6 literal. Wins over sname.
  std::string name;
  /// `-setcookie`; without it the cookie file erl reads (made as erl makes it when missing).
  std::optional<std::string> cookie;
  /// Nodes to connect to at start (and to keep connected).
  std::vector<std::string> connect;
};

/// Reads `--sname N`, `--name N`, `--cookie C` and `--connect NODE` (repeatable; also spelt
/// `-sname`, `-name`, `-setcookie` as erl spells them) from `argv[1..argc)` over `defaults`. An
/// unknown option or one without its value is an error naming it.
codec::Result<StartOptions, Failure> parse_start_options(int argc, const char* const* argv,
                                                         StartOptions defaults = {});

/// What make_node_config made: the configuration, and the cookie file it read or created (empty
/// when the options gave the cookie).
struct NodeSetup {
  NodeConfig config;
  std::string cookie_file;
};

/// A configuration from `options`, the cookie file when no cookie is given, `ERL_EPMD_PORT`, and
/// epmd started when none answers, as erl does. A malformed name is an error that quotes it.
codec::Result<NodeSetup, Failure> make_node_config(const StartOptions& options);

/// Both of the above, with `default_sname` when the command line names no node.
codec::Result<NodeConfig, Failure> config_from_command_line(int argc, const char* const* argv,
                                                            std::string_view default_sname);

/// Runs `node` on this thread until SIGINT or SIGTERM (stopping it then) or until `stop()`.
/// `on_signal`, if given, is told which signal came before the node stops.
void run_until_signal(Node& node, const std::function<void(int signal)>& on_signal = {});

}  // namespace cppnode::cnode
