// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/startup.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/signal_set.hpp>
#include <csignal>

#include "cppnode/cnode/cookie.hpp"
#include "cppnode/cnode/epmd.hpp"

namespace cppnode::cnode {
namespace {

codec::Unexpected<Failure> invalid(std::string message) {
  return failed(std::make_error_code(std::errc::invalid_argument), std::move(message));
}

// erl's rule for the part before '@'.
bool valid_alive(std::string_view alive) {
  return !alive.empty() && alive.size() <= 255 && std::ranges::all_of(alive, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

codec::Result<std::string, Failure> full_node_name(const StartOptions& o) {
  std::string full;
  if (!o.name.empty()) {
    const auto at = o.name.find('@');
    if (at == std::string::npos || o.name.find_first_of(".:", at) == std::string::npos) {
      return invalid(
          "--name needs NAME@HOST with a fully qualified (dotted) host or an IPv6 address, got '" +
          o.name + "'");
    }
    full = o.name;
  } else {
    full = o.sname;
    const auto at = full.find('@');
    if (at == std::string::npos) {
      full += "@" + short_hostname();
    } else if (full.find('.', at) != std::string::npos) {
      return invalid("--sname takes a short host without dots, got '" + full + "'");
    }
  }
  const std::string alive = full.substr(0, full.find('@'));
  if (!valid_alive(alive)) {
    return invalid("node name '" + alive + "' may use only letters, digits, _ and - (at most 255)");
  }
  return full;
}

}  // namespace

std::string short_hostname() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string host(buf.data());
  return host.substr(0, host.find('.'));
}

codec::Result<StartOptions, Failure> parse_start_options(int argc, const char* const* argv,
                                                         StartOptions defaults) {
  StartOptions options = std::move(defaults);
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 == argc) return invalid("option " + std::string(flag) + " needs a value");
    std::string value = argv[i + 1];
    if (flag == "--sname" || flag == "-sname") {
      options.sname = std::move(value);
    } else if (flag == "--name" || flag == "-name") {
      options.name = std::move(value);
    } else if (flag == "--cookie" || flag == "-setcookie") {
      options.cookie = std::move(value);
    } else if (flag == "--connect") {
      options.connect.push_back(std::move(value));
    } else {
      return invalid("unknown option " + std::string(flag) +
                     " (expected --sname, --name, --cookie or --connect)");
    }
  }
  return options;
}

codec::Result<NodeSetup, Failure> make_node_config(const StartOptions& options) {
  NodeSetup setup;
  auto name = full_node_name(options);
  if (!name) return codec::unexpected(std::move(name).error());
  setup.config.node_name = std::move(*name);
  if (options.cookie) {
    if (options.cookie->empty()) return invalid("the cookie must not be empty");
    setup.config.cookie = *options.cookie;
  } else {
    auto cookie = load_default_cookie();
    if (!cookie) return codec::unexpected(std::move(cookie).error());
    setup.config.cookie = std::move(cookie->cookie);
    setup.cookie_file = std::move(cookie->path);
  }
  auto epmd_port = epmd_port_from_env();
  if (!epmd_port) return codec::unexpected(std::move(epmd_port).error());
  setup.config.epmd_port = *epmd_port;
  setup.config.connect = options.connect;
  setup.config.start_epmd = true;
  return setup;
}

codec::Result<NodeConfig, Failure> config_from_command_line(int argc, const char* const* argv,
                                                            std::string_view default_sname) {
  StartOptions defaults;
  defaults.sname = default_sname;
  auto options = parse_start_options(argc, argv, std::move(defaults));
  if (!options) return codec::unexpected(std::move(options).error());
  auto setup = make_node_config(*options);
  if (!setup) return codec::unexpected(std::move(setup).error());
  return std::move(setup->config);
}

void run_until_signal(Node& node, const std::function<void(int signal)>& on_signal) {
  boost::asio::signal_set signals(node.io(), SIGINT, SIGTERM);
  signals.async_wait([&node, &on_signal](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (on_signal) on_signal(signal);
    node.stop();
  });
  node.run();
}

}  // namespace cppnode::cnode
