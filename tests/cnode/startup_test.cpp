// SPDX-License-Identifier: Apache-2.0
// cppnode/cnode/startup.hpp: the command line and environment a node's main starts from, and a
// run that a signal ends.
#include "cppnode/cnode/startup.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/post.hpp>
#include <csignal>
#include <cstdlib>

namespace cppnode::cnode {
namespace {

// ERL_EPMD_PORT set for one test and restored after it.
class EpmdPortEnv {
 public:
  explicit EpmdPortEnv(const char* value) {
    if (const char* old = std::getenv("ERL_EPMD_PORT")) saved_ = old;
    if (value != nullptr) {
      ::setenv("ERL_EPMD_PORT", value, 1);
    } else {
      ::unsetenv("ERL_EPMD_PORT");
    }
  }
  ~EpmdPortEnv() {
    if (saved_.empty()) {
      ::unsetenv("ERL_EPMD_PORT");
    } else {
      ::setenv("ERL_EPMD_PORT", saved_.c_str(), 1);
    }
  }
  EpmdPortEnv(const EpmdPortEnv&) = delete;
  EpmdPortEnv& operator=(const EpmdPortEnv&) = delete;

 private:
  std::string saved_;
};

TEST(Startup, ACommandLineAsErlWritesIt) {
  const std::array<const char*, 9> argv{"prog",      "-sname",  "board",     "-setcookie", "c1",
                                        "--connect", "a@host1", "--connect", "b@host2"};
  EpmdPortEnv port("4400");
  const auto config =
      config_from_command_line(static_cast<int>(argv.size()), argv.data(), "unused");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->node_name, "board@" + short_hostname());
  EXPECT_EQ(config->cookie, "c1");
  EXPECT_EQ(config->connect, (std::vector<std::string>{"a@host1", "b@host2"}));
  EXPECT_EQ(config->epmd_port, 4400);
  EXPECT_TRUE(config->start_epmd);
}

TEST(Startup, TheDefaultNameAndLongNames) {
  EpmdPortEnv port(nullptr);
  const std::array<const char*, 3> bare{"prog", "--cookie", "c"};
  const auto config = config_from_command_line(static_cast<int>(bare.size()), bare.data(), "board");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->node_name, "board@" + short_hostname());
  EXPECT_EQ(config->epmd_port, 4369);
  for (const char* name : {"n@example.com", "n@::1", "n@10.0.0.1"}) {
    const std::array<const char*, 5> argv{"prog", "--name", name, "--cookie", "c"};
    const auto named =
        config_from_command_line(static_cast<int>(argv.size()), argv.data(), "board");
    ASSERT_TRUE(named) << name << ": " << named.error().message;
    EXPECT_EQ(named->node_name, name);
  }
  EXPECT_FALSE(short_hostname().empty());
  EXPECT_EQ(short_hostname().find('.'), std::string::npos);
}

TEST(Startup, MistakesAreNamed) {
  const auto error_for = [](std::vector<const char*> argv) {
    argv.insert(argv.begin(), "prog");
    const auto config =
        config_from_command_line(static_cast<int>(argv.size()), argv.data(), "board");
    if (config) return std::string("no error");
    EXPECT_EQ(config.error().code, std::errc::invalid_argument) << config.error().message;
    return config.error().message;
  };
  EXPECT_EQ(error_for({"--verbose", "yes"}),
            "unknown option --verbose (expected --sname, --name, --cookie or --connect)");
  EXPECT_EQ(error_for({"--cookie"}), "option --cookie needs a value");
  EXPECT_EQ(error_for({"--cookie", ""}), "the cookie must not be empty");
  EXPECT_EQ(error_for({"--name", "n@shorthost", "--cookie", "c"}),
            "--name needs NAME@HOST with a fully qualified (dotted) host or an IPv6 address, got "
            "'n@shorthost'");
  EXPECT_EQ(error_for({"--sname", "n@a.b", "--cookie", "c"}),
            "--sname takes a short host without dots, got 'n@a.b'");
  EXPECT_EQ(error_for({"--sname", "bad name", "--cookie", "c"}),
            "node name 'bad name' may use only letters, digits, _ and - (at most 255)");
  EpmdPortEnv port("not-a-port");
  EXPECT_NE(error_for({"--cookie", "c"}).find("ERL_EPMD_PORT"), std::string::npos);
}

TEST(Startup, ASignalEndsTheRun) {
  NodeConfig config;
  config.node_name = "startup_signal@" + short_hostname();
  config.cookie = "c";
  config.listen_address = "127.0.0.1";
  config.register_with_epmd = false;
  Node node(config);
  const auto started = node.start();
  ASSERT_TRUE(started) << started.error().message;
  int seen = 0;
  // Raised from inside the run, once the signal set is in place.
  boost::asio::post(node.io(), [] { std::raise(SIGTERM); });
  run_until_signal(node, [&seen](int signal) { seen = signal; });
  EXPECT_EQ(seen, SIGTERM);
}

}  // namespace
}  // namespace cppnode::cnode
