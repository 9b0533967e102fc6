// SPDX-License-Identifier: Apache-2.0
// Memory per idle C++ GenServer: starts N seed Counters on a node with no network and reports
// the growth of the process's resident set. Usage: idle_servers N
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "cppnode/cnode/node.hpp"
#include "cppnode/servers/examples/example_servers.hpp"
#include "cppnode/servers/start.hpp"

namespace {

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  long count = 0;
  if (argc != 2 ||
      std::from_chars(argv[1], argv[1] + std::char_traits<char>::length(argv[1]), count).ec !=
          std::errc{} ||
      count <= 0) {
    std::fprintf(stderr, "usage: idle_servers N (N > 0)\n");
    return 2;
  }
  cppnode::cnode::NodeConfig config;
  config.node_name = "idle_bench@localhost";
  config.cookie = "unused";
  config.threads = 1;
  cppnode::cnode::Node node(config);
  std::thread loop([&] { node.run(); });
  const long before = rss_kib();
  for (long i = 0; i < count; ++i) {
    if (!cppnode::servers::start(node, cppnode::servers::examples::make_counter())) {
      std::fprintf(stderr, "server %ld did not start\n", i);
      return 1;
    }
  }
  // Let every server's start-up run on the loop before measuring.
  while (node.process_count() < static_cast<std::size_t>(count)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const long after = rss_kib();
  std::printf("%ld %ld %.1f\n", count, after - before,
              static_cast<double>(after - before) * 1024.0 / static_cast<double>(count));
  node.stop();
  loop.join();
  return 0;
}
