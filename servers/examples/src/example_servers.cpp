// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/examples/example_servers.hpp"

#include <utility>

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;

std::vector<ChildSpec> example_child_specs(const ExampleOptions& options) {
  auto spec = [&](const char* name, std::function<std::unique_ptr<GenServer>()> make) {
    const Atom a(name);
    ChildSpec c{a, std::move(make), Restart::permanent, a, std::nullopt};
    if (options.global_names) c.global_name = codec::Term(a);
    c.mailbox_limit = options.mailbox_limit;
    return c;
  };
  const int rate = options.rate_limit;
  const auto interval = options.rate_interval;
  const auto cart_timeout = options.cart_timeout;
  std::vector<ChildSpec> specs;
  specs.push_back(spec("counter", make_counter));
  specs.push_back(spec("stack", make_stack));
  specs.push_back(spec("kv_store", make_kv_store));
  specs.push_back(spec("erl_kv_store", make_erl_kv_store));
  specs.push_back(spec("hashmap", make_hashmap));
  specs.push_back(
      spec("rate_limiter", [rate, interval] { return make_rate_limiter(rate, interval); }));
  specs.push_back(
      spec("shopping_cart", [cart_timeout] { return make_shopping_cart(cart_timeout); }));
  return specs;
}

codec::Result<std::shared_ptr<Supervisor>, codec::Term> start_example_servers(
    cnode::Node& node, const ExampleOptions& options) {
  SupervisorOptions sup;
  sup.max_restarts = options.max_restarts;
  sup.period = options.restart_period;
  sup.local_name = "cppnode_sup"_a;
  sup.on_give_up = options.on_give_up;
  return Supervisor::start(node, example_child_specs(options), std::move(sup));
}

}  // namespace cppnode::servers::examples
