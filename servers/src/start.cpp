// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/start.hpp"

#include <stdexcept>

#include "server_process.hpp"

namespace cppnode::servers {

codec::Result<codec::Pid, codec::Term> start(cnode::Node& node, std::unique_ptr<GenServer> server,
                                             StartOptions options) {
  if (!server) throw std::invalid_argument("servers::start: expected a server, got null");
  auto process =
      std::make_shared<detail::ServerProcess>(node, std::move(server), std::move(options));
  return process->start();
}

}  // namespace cppnode::servers
