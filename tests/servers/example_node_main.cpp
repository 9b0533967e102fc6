// SPDX-License-Identifier: Apache-2.0
// A stand-alone C node with the seed servers, for the cluster harness: what app/main.cpp does
// once it starts the example servers, with the few options the harness needs.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>

#include "cppnode/cnode/epmd.hpp"
#include "cppnode/cnode/node.hpp"
#include "cppnode/servers/examples/example_servers.hpp"

int main(int argc, char** argv) {
  using namespace cppnode;
  CLI::App cli{"cppnode_example_node: a C node running the seed servers"};
  cnode::NodeConfig config;
  servers::examples::ExampleOptions options;
  std::int64_t cart_timeout_ms = options.cart_timeout.count();
  cli.add_option("--name", config.node_name, "full node name alive@host")->required();
  cli.add_option("--cookie", config.cookie, "the cluster's cookie")->required();
  cli.add_option("--connect", config.connect, "BEAM nodes to connect to");
  cli.add_option("--rate-limit", options.rate_limit, "rate_limiter calls per second");
  cli.add_option("--cart-timeout-ms", cart_timeout_ms, "shopping_cart inactivity timeout");
  cli.add_option("--max-restarts", options.max_restarts, "restart intensity (per 5 s)");
  config.threads = 2;
  cli.add_option("--threads", config.threads, "node threads (0: one per core)");
  CLI11_PARSE(cli, argc, argv);
  options.cart_timeout = std::chrono::milliseconds(cart_timeout_ms);
  config.listen_address = "127.0.0.1";
  std::string message;
  if (auto ec = cnode::epmd_port_from_env(config.epmd_port, &message)) {
    spdlog::error("{}", message);
    return 1;
  }
  cnode::Node node(config);
  if (node.start(&message)) {
    spdlog::error("cannot start node {}: {}", config.node_name, message);
    return 1;
  }
  options.on_give_up = [&node](const codec::Term&) { node.stop(); };
  auto sup = servers::examples::start_example_servers(node, options);
  if (!sup) {
    spdlog::error("the seed servers did not start: {}", codec::to_string(sup.error));
    return 1;
  }
  boost::asio::signal_set signals(node.io(), SIGINT, SIGTERM);
  signals.async_wait([&node](const boost::system::error_code& ec, int) {
    if (!ec) node.stop();
  });
  std::printf("cppnode_example_node ready\n");
  std::fflush(stdout);
  node.run();
  return 0;
}
