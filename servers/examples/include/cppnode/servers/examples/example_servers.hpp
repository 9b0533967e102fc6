// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "cppnode/codec/result.hpp"
#include "cppnode/codec/term.hpp"
#include "cppnode/servers/gen_server.hpp"
#include "cppnode/servers/supervisor.hpp"

namespace cppnode::cnode {
class Node;
}

namespace cppnode::servers::examples {

using namespace std::chrono_literals;

/// Options of the seed servers (the node's `--rate-limit`, `--cart-timeout-ms`, ...).
struct ExampleOptions {
  /// rate_limiter: calls allowed per refill (seed: `rate_limiter:start_link(Name, 3)`).
  int rate_limit = 3;
  /// rate_limiter: how often the allowance is refilled (the seed's 1000 ms).
  std::chrono::milliseconds rate_interval{1'000};
  /// shopping_cart: inactivity after which the cart empties itself.
  std::chrono::milliseconds cart_timeout = 30min;
  /// Restart intensity of the servers' supervisor (OTP's defaults: 3 in 5 s).
  int max_restarts = 3;
  std::chrono::milliseconds restart_period{5'000};
  /// Register the `{global, Name}` names (through connected BEAM nodes) as well as local ones.
  bool global_names = true;
  /// Each server's mailbox bound (the node's `--max-mailbox`, `--overflow`); none by default.
  std::optional<cnode::MailboxLimit> mailbox_limit{};
  /// Called (on the supervisor's strand) if the supervisor gives up; the app stops the node.
  std::function<void(const codec::Term& reason)> on_give_up;
};

// The seed servers, each answering as its seed module does (see each source file).
std::unique_ptr<GenServer> make_counter();
std::unique_ptr<GenServer> make_stack();
std::unique_ptr<GenServer> make_kv_store();
std::unique_ptr<GenServer> make_erl_kv_store();
std::unique_ptr<GenServer> make_hashmap();
std::unique_ptr<GenServer> make_rate_limiter(int max_per_interval,
                                             std::chrono::milliseconds interval);
std::unique_ptr<GenServer> make_shopping_cart(std::chrono::milliseconds inactivity_timeout);
/// The README's 20-line example: `{greet, Name}` → `<<"Hello, Name!">>`.
std::unique_ptr<GenServer> make_greeter();

/// The child specs of the seven seed servers, with their local and global names: counter,
/// stack, kv_store, erl_kv_store, hashmap, rate_limiter, shopping_cart.
std::vector<ChildSpec> example_child_specs(const ExampleOptions& options);

/// Starts the seven seed servers under one one_for_one supervisor (registered locally as
/// `cppnode_sup`). Returns the supervisor, or the reason it could not start in `error`.
codec::Result<std::shared_ptr<Supervisor>, codec::Term> start_example_servers(
    cnode::Node& node, const ExampleOptions& options);

}  // namespace cppnode::servers::examples
