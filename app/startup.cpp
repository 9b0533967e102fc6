// SPDX-License-Identifier: Apache-2.0
#include "startup.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/signal_set.hpp>
#include <csignal>

#include "cppnode/cnode/cookie.hpp"
#include "cppnode/cnode/echo.hpp"
#include "cppnode/cnode/epmd.hpp"
#include "cppnode/servers/examples/example_servers.hpp"
#include "cppnode/servers/operations.hpp"

namespace cppnode::app {
namespace {

std::string short_hostname() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) {
    return "localhost";
  }
  std::string host(buf.data());
  if (auto dot = host.find('.'); dot != std::string::npos) {
    host.resize(dot);
  }
  return host;
}

bool valid_alive(std::string_view alive) {
  return !alive.empty() && alive.size() <= 255 && std::ranges::all_of(alive, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::error_code invalid(std::string& message, std::string text) {
  message = std::move(text);
  return std::make_error_code(std::errc::invalid_argument);
}

}  // namespace

std::error_code make_config(const Options& o, cnode::NodeConfig& config, std::string& message) {
  if (!o.name.empty()) {
    const auto at = o.name.find('@');
    // A long name's host is fully qualified (dotted) or an IPv6 literal (cpp@::1).
    if (at == std::string::npos || o.name.find_first_of(".:", at) == std::string::npos) {
      return invalid(message,
                     "--name needs NAME@HOST with a fully qualified (dotted) host or an IPv6 "
                     "address, got '" +
                         o.name + "'");
    }
    if (!valid_alive(o.name.substr(0, at))) {
      return invalid(message, "node name '" + o.name.substr(0, at) +
                                  "' may use only letters, digits, _ and -");
    }
    config.node_name = o.name;
  } else {
    std::string sname = o.sname.empty() ? "cppnode" : o.sname;
    const auto at = sname.find('@');
    if (at == std::string::npos) {
      sname += "@" + short_hostname();
    } else if (sname.find('.', at) != std::string::npos) {
      return invalid(message, "--sname takes a short host without dots, got '" + sname + "'");
    }
    if (!valid_alive(sname.substr(0, sname.find('@')))) {
      return invalid(message, "node name '" + sname.substr(0, sname.find('@')) +
                                  "' may use only letters, digits, _ and -");
    }
    config.node_name = sname;
  }
  if (o.cookie) {
    if (o.cookie->empty()) {
      return invalid(message, "--cookie must not be empty");
    }
    config.cookie = *o.cookie;
  } else {
    std::string path;
    if (auto ec = cnode::load_default_cookie(config.cookie, &path, &message)) {
      return ec;
    }
    spdlog::info("using the cookie from {}", path);
  }
  if (auto ec = cnode::epmd_port_from_env(config.epmd_port, &message)) {
    return ec;
  }
  config.listen_port = o.port;
  config.listen_address = o.listen_address;
  config.connect = o.connect;
  config.threads = o.threads;
  config.net_ticktime = std::chrono::seconds(o.net_ticktime_s);
  config.dist_buf_busy_limit = std::size_t{o.dist_buf_busy_limit_kib} * 1024;
  config.remote_monitors = o.remote_monitors == "full";
  config.batch_scheduling = o.scheduling == "batch";
  config.start_epmd = !o.no_epmd;  // like erl: start `epmd -daemon` when none answers
  config.register_with_epmd = !o.no_epmd;
  if (o.erl_epmd_port != 0) config.erl_epmd_port = o.erl_epmd_port;
  config.ipv6 = o.proto_dist.starts_with("inet6_");
  if (o.proto_dist.ends_with("_tls")) {
    if (o.ssl_certfile.empty() || o.ssl_keyfile.empty()) {
      return invalid(message,
                     "--proto-dist " + o.proto_dist + " needs --ssl-certfile and --ssl-keyfile");
    }
    config.tls = cnode::TlsConfig{.certfile = o.ssl_certfile,
                                  .keyfile = o.ssl_keyfile,
                                  .cacertfile = o.ssl_cacertfile,
                                  .verify_peer = o.ssl_verify == "verify_peer",
                                  .fail_if_no_peer_cert = o.ssl_fail_if_no_peer_cert,
                                  .check_server_name = o.ssl_verify == "verify_peer"};
  }
  return {};
}

void start_services(cnode::Node& node, const Options& options) {
  // A diagnostic `echo` process, so a fresh node can be tried from iex at once.
  node.register_name(codec::Atom("echo"), node.spawn(std::make_shared<cnode::EchoProcess>(node)));
  // rex (`:rpc` into C++ functions: register yours in `functions`) and the `cppnode` stats server.
  auto functions = std::make_shared<servers::RpcFunctions>();
  servers::register_node_functions(functions, node, CPPNODE_VERSION);
  auto ops = servers::start_operations(node, functions, [&node](const codec::Term& why) {
    spdlog::error("the operations supervisor gave up ({}); stopping", codec::to_string(why));
    node.stop();
  });
  if (!ops) {
    spdlog::error("rex and the stats server did not start: {}", codec::to_string(ops.error));
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
    spdlog::error("the seed servers did not start: {}", codec::to_string(sup.error));
    node.stop();
  }
}

int run(const Options& options) {
  auto logger = spdlog::stderr_logger_mt("cppnode");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  codec::set_atom_limit(options.max_atoms);

  cnode::NodeConfig config;
  std::string message;
  if (auto ec = make_config(options, config, message)) {
    spdlog::error("{}", message);
    return 1;
  }
  cnode::Node node(std::move(config));
  if (auto ec = node.start(&message)) {
    spdlog::error("cannot start node {}: {}", node.config().node_name, message);
    return 1;
  }
  boost::asio::signal_set signals(node.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) {
      return;
    }
    spdlog::info("got {}: shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
    node.stop();
  });
  start_services(node, options);
  spdlog::info("node {} is running (port {})", node.config().node_name, node.port());
  node.run();
  spdlog::info("node {} stopped", node.config().node_name);
  return 0;
}

}  // namespace cppnode::app
