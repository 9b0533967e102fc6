// SPDX-License-Identifier: Apache-2.0
// The `cppnode` executable: options in, node out. Startup logic lives in startup.cpp.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "options.hpp"
#include "startup.hpp"

int main(int argc, char** argv) {
  try {
    CLI::App cli{"cppnode: a C++ node for Erlang and Elixir clusters"};
    cli.set_version_flag("--version", std::string("cppnode ") + CPPNODE_VERSION);
    cppnode::app::Options options;
    cppnode::app::add_options(cli, options);
    CLI11_PARSE(cli, argc, argv);
    return cppnode::app::run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cppnode: %s\n", e.what());
    return 1;
  }
}
