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

std::error_code invalid(std::string* message, std::string text) {
  if (message != nullptr) *message = std::move(text);
  return std::make_error_code(std::errc::invalid_argument);
}

// erl's rule for the part before '@'.
bool valid_alive(std::string_view alive) {
  return !alive.empty() && alive.size() <= 255 && std::ranges::all_of(alive, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::error_code full_node_name(const StartOptions& o, std::string& full, std::string* message) {
  if (!o.name.empty()) {
    const auto at = o.name.find('@');
    if (at == std::string::npos || o.name.find_first_of(".:", at) == std::string::npos) {
      return invalid(message,
                     "--name needs NAME@HOST with a fully qualified (dotted) host or an IPv6 "
                     "address, got '" +
                         o.name + "'");
    }
    full = o.name;
  } else {
    full = o.sname;
    const auto at = full.find('@');
    if (at == std::string::npos) {
      full += "@" + short_hostname();
    } else if (full.find('.', at) != std::string::npos) {
      return invalid(message, "--sname takes a short host without dots, got '" + full + "'");
    }
  }
  const std::string alive = full.substr(0, full.find('@'));
  if (!valid_alive(alive)) {
    return invalid(message,
                   "node name '" + alive + "' may use only letters, digits, _ and - (at most 255)");
  }
  return {};
}

}  // namespace

std::string short_hostname() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string host(buf.data());
  return host.substr(0, host.find('.'));
}

std::error_code parse_start_options(int argc, const char* const* argv, StartOptions& options,
                                    std::string* message) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 == argc) return invalid(message, "option " + std::string(flag) + " needs a value");
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
      return invalid(message, "unknown option " + std::string(flag) +
                                  " (expected --sname, --name, --cookie or --connect)");
    }
  }
  return {};
}

std::error_code make_node_config(const StartOptions& options, NodeConfig& config,
                                 std::string* message, std::string* cookie_file) {
  if (auto ec = full_node_name(options, config.node_name, message)) return ec;
  if (options.cookie) {
    if (options.cookie->empty()) return invalid(message, "the cookie must not be empty");
    config.cookie = *options.cookie;
  } else if (auto ec = load_default_cookie(config.cookie, cookie_file, message)) {
    return ec;
  }
  if (auto ec = epmd_port_from_env(config.epmd_port, message)) return ec;
  config.connect = options.connect;
  config.start_epmd = true;
  return {};
}

std::error_code config_from_command_line(int argc, const char* const* argv,
                                         std::string_view default_sname, NodeConfig& config,
                                         std::string* message) {
  StartOptions options;
  options.sname = default_sname;
  if (auto ec = parse_start_options(argc, argv, options, message)) return ec;
  return make_node_config(options, config, message);
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
