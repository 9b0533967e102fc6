// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cppnode/codec/atom.hpp"

namespace cppnode::app {

/// Command-line options of the `cppnode` executable.
struct Options {
  std::string sname;  // --sname NAME[@HOST]
  std::string name;   // --name NAME@HOST
  std::optional<std::string> cookie;
  std::uint16_t port = 0;
  std::string listen_address = "0.0.0.0";
  std::vector<std::string> connect;
  std::string log_level = "info";
  unsigned threads = 1;
  unsigned net_ticktime_s = 60;
  unsigned dist_buf_busy_limit_kib = 1024;
  std::string remote_monitors = "full";      // --remote-monitors: full or calls
  std::string scheduling = "normal";         // --scheduling: normal or batch
  unsigned busy_wait_us = 50;                // --busy-wait-us
  unsigned coalesce_us = 50;                 // --coalesce-us
  int rate_limit = 3;                        // --rate-limit: rate_limiter calls per second
  std::int64_t cart_timeout_ms = 1'800'000;  // --cart-timeout-ms: shopping_cart inactivity
  int max_restarts = 3;                      // --max-restarts: within 5 s, as OTP's default
  std::size_t max_mailbox = 0;               // --max-mailbox: each seed server's bound; 0 = none
  std::string overflow = "drop";             // --overflow: drop or exit at the bound
  std::size_t max_atoms = codec::default_atom_limit;  // --max-atoms: the atom table's bound
  bool no_epmd = false;                               // --no-epmd: do not register with epmd
  std::uint16_t erl_epmd_port = 0;                    // --erl-epmd-port: OTP's -erl_epmd_port
  std::string proto_dist = "inet_tcp";                // --proto-dist: inet_tcp or inet_tls
  std::string ssl_certfile;                           // --ssl-certfile (with inet_tls)
  std::string ssl_keyfile;                            // --ssl-keyfile
  std::string ssl_cacertfile;                         // --ssl-cacertfile
  std::string ssl_verify = "verify_peer";             // --ssl-verify: verify_peer or verify_none
  bool ssl_fail_if_no_peer_cert = true;               // --ssl-fail-if-no-peer-cert
};

/// Declares the options on `cli` (extend here: add servers' options next to these).
void add_options(CLI::App& cli, Options& options);

}  // namespace cppnode::app
