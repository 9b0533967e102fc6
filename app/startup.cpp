// SPDX-License-Identifier: Apache-2.0
#include "startup.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>

#include "cppnode/cnode/echo.hpp"
#include "cppnode/cnode/startup.hpp"
#include "cppnode/servers/examples/example_servers.hpp"
#include "cppnode/servers/operations.hpp"

namespace cppnode::app {

using namespace codec::literals;

codec::Result<cnode::NodeConfig, cnode::Failure> make_config(const Options& o) {
  const cnode::StartOptions start{.sname = o.sname.empty() ? "cppnode" : o.sname,
                                  .name = o.name,
                                  .cookie = o.cookie,
                                  .connect = o.connect};
  auto setup = cnode::make_node_config(start);
  if (!setup) return codec::unexpected(std::move(setup).error());
  if (!setup->cookie_file.empty()) spdlog::info("using the cookie from {}", setup->cookie_file);
  cnode::NodeConfig& config = setup->config;
  config.listen_port = o.port;
  config.listen_address = o.listen_address;
  config.threads = o.threads;
  config.net_ticktime = std::chrono::seconds(o.net_ticktime_s);
  config.dist_buf_busy_limit = std::size_t{o.dist_buf_busy_limit_kib} * 1024;
  config.remote_monitors = o.remote_monitors == "full";
  config.batch_scheduling = o.scheduling == "batch";
  config.busy_wait = std::chrono::microseconds(o.busy_wait_us);
  config.coalesce = std::chrono::microseconds(o.coalesce_us);
  config.start_epmd = !o.no_epmd;
  config.register_with_epmd = !o.no_epmd;
  if (o.erl_epmd_port != 0) config.erl_epmd_port = o.erl_epmd_port;
  config.ipv6 = o.proto_dist.starts_with("inet6_");
  if (o.proto_dist.ends_with("_tls")) {
    if (o.ssl_certfile.empty() || o.ssl_keyfile.empty()) {
      return cnode::failed(
          std::make_error_code(std::errc::invalid_argument),
          "--proto-dist " + o.proto_dist + " needs --ssl-certfile and --ssl-keyfile");
    }
    config.tls = cnode::TlsConfig{.certfile = o.ssl_certfile,
                                  .keyfile = o.ssl_keyfile,
                                  .cacertfile = o.ssl_cacertfile,
                                  .verify_peer = o.ssl_verify == "verify_peer",
                                  .fail_if_no_peer_cert = o.ssl_fail_if_no_peer_cert,
                                  .check_server_name = o.ssl_verify == "verify_peer"};
  }
  return std::move(config);
}

void start_services(cnode::Node& node, const Options& options) {
  // A diagnostic `echo` process, so a fresh node can be tried from iex at once.
  node.register_name("echo"_a, node.spawn(std::make_shared<cnode::EchoProcess>(node)));
  // rex (`:rpc` into C++ functions: register yours in `functions`) and the `cppnode` stats server.
  auto functions = std::make_shared<servers::RpcFunctions>();
  servers::register_node_functions(functions, node, CPPNODE_VERSION);
  auto ops = servers::start_operations(node, functions, [&node](const codec::Term& why) {
    spdlog::error("the operations supervisor gave up ({}); stopping", codec::to_string(why));
    node.stop();
  });
  if (!ops) {
    spdlog::error("rex and the stats server did not start: {}", codec::to_string(ops.error()));
    node.stop();
  }
  servers::examples::ExampleOptions examples;
  examples.rate_limit = options.rate_limit;
  examples.cart_timeout = std::chrono::milliseconds(options.cart_timeout_ms);
  examples.max_restarts = options.max_restarts;
  if (options.max_mailbox > 0) {
    examples.mailbox_limit = cnode::MailboxLimit{
        options.max_mailbox,
        options.overflow == "exit" ? cnode::OverflowPolicy::exit : cnode::OverflowPolicy::drop};
  }
  examples.on_give_up = [&node](const codec::Term& why) {
    spdlog::error("the servers' supervisor gave up ({}); stopping", codec::to_string(why));
    node.stop();
  };
  if (auto sup = servers::examples::start_example_servers(node, examples); !sup) {
    spdlog::error("the seed servers did not start: {}", codec::to_string(sup.error()));
    node.stop();
  }
}

int run(const Options& options) {
  auto logger = spdlog::stderr_logger_mt("cppnode");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  codec::set_atom_limit(options.max_atoms);

  auto config = make_config(options);
  if (!config) {
    spdlog::error("{}", config.error().message);
    return 1;
  }
  cnode::Node node(std::move(*config));
  if (auto started = node.start(); !started) {
    spdlog::error("cannot start node {}: {}", node.config().node_name, started.error().message);
    return 1;
  }
  start_services(node, options);
  spdlog::info("node {} is running (port {})", node.config().node_name, node.port());
  cnode::run_until_signal(node, [](int signal) {
    spdlog::info("got {}: shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  });
  spdlog::info("node {} stopped", node.config().node_name);
  return 0;
}

}  // namespace cppnode::app
