// SPDX-License-Identifier: Apache-2.0
// CPU-bound servers for bench/run: a node hosting K servers `burn_1`..`burn_K`, each answering
// `burn` with `ok` after a loop that takes BURN_US microseconds of CPU, as bench/burn_beam.erl
// does on the BEAM. The loop's length is calibrated once at start, so that a call costs the same
// CPU however the threads are scheduled (a wall-clock spin would do less work when preempted).
// Measures how the node spreads busy servers over its threads.
// Usage: burn_node NAME@HOST COOKIE THREADS K BURN_US (ERL_EPMD_PORT is honoured).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "cppnode/cnode/epmd.hpp"
#include "cppnode/cnode/node.hpp"
#include "cppnode/servers/servers.hpp"

namespace {

using cppnode::codec::Term;
using cppnode::servers::CallResult;
using cppnode::servers::From;
using cppnode::servers::GenServer;

// A loop the optimiser cannot remove or shorten.
void spin(std::uint64_t iterations) {
  volatile std::uint64_t x = 0;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    x = x + i;
  }
}

// Iterations of spin() per microsecond on this machine: the best of 500 probes of ~30 us, so
// that a probe or two without interruption is enough even on a busy machine.
double iterations_per_us() {
  constexpr std::uint64_t probe = 100'000;
  double best = 0;
  for (int i = 0; i < 500; ++i) {
    const auto start = std::chrono::steady_clock::now();
    spin(probe);
    const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
    best = std::max(best, static_cast<double>(probe) / took.count());
  }
  return best;
}

// What one loop of `iterations` takes here, alone on its thread: the mean of 50 (bench/run
// prints it beside the BEAM's, to show the two loops cost the same).
double loop_us(std::uint64_t iterations) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    spin(iterations);
  }
  const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
  return took.count() / 50;
}

class Burner : public GenServer {
 public:
  explicit Burner(std::uint64_t iterations) : iterations_(iterations) {}

 protected:
  CallResult handle_call(const Term& request, const From& /*from*/) override {
    if (!request.is_atom("burn")) return no_match();
    spin(iterations_);
    return reply(Term(cppnode::codec::Atom("ok")));
  }

 private:
  std::uint64_t iterations_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: burn_node NAME@HOST COOKIE THREADS K BURN_US\n");
    return 2;
  }
  cppnode::cnode::NodeConfig config;
  config.node_name = argv[1];
  config.cookie = argv[2];
  config.threads = static_cast<unsigned>(std::stoul(argv[3]));
  config.listen_address = "127.0.0.1";
  const auto epmd_port = cppnode::cnode::epmd_port_from_env();
  if (!epmd_port) {
    std::fprintf(stderr, "%s\n", epmd_port.error().message.c_str());
    return 2;
  }
  config.epmd_port = *epmd_port;
  const auto burn = static_cast<std::uint64_t>(iterations_per_us() * std::stod(argv[5]));
  std::printf("loop_us %.1f\n", loop_us(burn));
  std::fflush(stdout);
  cppnode::cnode::Node node(config);
  if (auto started = node.start(); !started) {
    std::fprintf(stderr, "node did not start: %s\n", started.error().message.c_str());
    return 1;
  }
  for (int i = 1; i <= std::stoi(argv[4]); ++i) {
    const cppnode::codec::Atom name("burn_" + std::to_string(i));
    if (!cppnode::servers::start(node, std::make_unique<Burner>(burn), {.local_name = name})) {
      std::fprintf(stderr, "burn_%d did not start\n", i);
      return 1;
    }
  }
  node.run();
  return 0;
}
