// SPDX-License-Identifier: Apache-2.0
// A C node of its own for the pg tests that kill one (kill -9 leaves no chance to leave):
//   cppnode_pg_member_node NODE_NAME COOKIE EPMD_PORT CONNECT_TO GROUP COUNT
// starts the scope `pg`, joins COUNT idle processes to the atom GROUP, connects to CONNECT_TO,
// prints "ready" and runs until killed. A NODE_NAME at ::1 (the IPv6 runs) puts it on IPv6.
#include <iostream>
#include <memory>
#include <string>

#include "cppnode/cnode/node.hpp"
#include "cppnode/servers/pg.hpp"

namespace {

class Idle : public cppnode::cnode::Process {
 public:
  using Process::Process;

 protected:
  void on_signal(cppnode::cnode::Signal signal) override { (void)signal; }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace cppnode;
  if (argc != 7) {
    std::cerr << "usage: " << argv[0] << " NODE_NAME COOKIE EPMD_PORT CONNECT_TO GROUP COUNT\n";
    return 2;
  }
  cnode::NodeConfig config;
  config.node_name = argv[1];
  config.cookie = argv[2];
  config.epmd_port = static_cast<std::uint16_t>(std::stoi(argv[3]));
  config.listen_address = "127.0.0.1";
  if (config.node_name.ends_with("@::1")) {  // the IPv6 runs (CPPNODE_TEST_DIST=ipv6)
    config.listen_address = "::1";
    config.ipv6 = true;
  }
  config.connect = {argv[4]};
  cnode::Node node(config);
  if (auto started = node.start(); !started) {
    std::cerr << "cppnode_pg_member_node: " << started.error().message << "\n";
    return 1;
  }
  auto scope = servers::PgScope::start(node, codec::Atom("pg"));
  const codec::Atom group(argv[5]);
  std::vector<codec::Pid> pids;
  for (int i = 0; i < std::stoi(argv[6]); ++i) {
    pids.push_back(node.spawn(std::make_shared<Idle>(node)));
  }
  scope->join(group, pids);
  std::cout << "ready" << std::endl;
  node.run();
}
