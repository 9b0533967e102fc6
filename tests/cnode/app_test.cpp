// SPDX-License-Identifier: Apache-2.0
// The `cppnode` executable as a user runs it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/child_process.hpp"
#include "cppnode/test_support/epmd.hpp"
#include "cppnode/test_support/names.hpp"

namespace cppnode::cnode::testing {
namespace {

using namespace std::chrono_literals;
using test_support::BeamKind;
using test_support::BeamNode;
using test_support::ChildProcess;
using test_support::Epmd;

class App : public ::testing::Test {
 protected:
  std::unique_ptr<ChildProcess> start(std::vector<std::string> args,
                                      std::vector<std::pair<std::string, std::string>> env = {}) {
    args.insert(args.begin(), CPPNODE_APP_PATH);
    env.emplace_back("ERL_EPMD_PORT", std::to_string(epmd.port()));
    return std::make_unique<ChildProcess>(std::move(args), env);
  }
  static bool wait_log(ChildProcess& app, const std::string& text) {
    return app.wait_stderr(
        [&](const std::string& err) { return err.find(text) != std::string::npos; },
        ChildProcess::Clock::now() + 10s);
  }
  static int exit_code(ChildProcess& app) {
    EXPECT_TRUE(app.wait_exit(ChildProcess::Clock::now() + 10s)) << app.stderr_text();
    const auto status = app.exit_status();
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  Epmd epmd;
  std::string sname = test_support::unique_name("app");
  std::string node = sname + "@" + test_support::short_hostname();
};

TEST_F(App, ServesPingsAndShutsDownCleanlyOnSigterm) {
  auto app = start({"--sname", sname, "--cookie", "app_cookie", "--log-level", "debug"});
  ASSERT_TRUE(wait_log(*app, "is running")) << app->stderr_text();
  EXPECT_NE(epmd.port_of(sname), 0);
  BeamNode ex(epmd, {.kind = BeamKind::elixir, .name_prefix = "ex", .cookie = "app_cookie"});
  EXPECT_EQ(ex.eval("Node.ping(:\"" + node + "\")"), "pong");
  EXPECT_EQ(ex.eval("Enum.member?(Node.list(:hidden), :\"" + node + "\")"), "true");
  // The README's iex round trip with the built-in echo process.
  EXPECT_EQ(ex.eval("send({:echo, :\"" + node +
                    "\"}, {self(), :hi})\n"
                    "receive do {:echo, pid, msg} -> {node(pid), msg} after 5000 -> :timeout end"),
            "{" + node + ",hi}");
  EXPECT_EQ(ex.eval("GenServer.call({:echo, :\"" + node + "\"}, {:put, \"a\", 1})"),
            "{put,<<\"a\">>,1}");
  app->kill(SIGTERM);
  EXPECT_EQ(exit_code(*app), 0);
  EXPECT_EQ(epmd.port_of(sname), 0);
  const std::string log = app->stderr_text();
  EXPECT_NE(log.find("SIGTERM"), std::string::npos) << log;
  EXPECT_EQ(log.find("app_cookie"), std::string::npos) << log;
  EXPECT_EQ(ex.eval("Enum.member?(Node.list(:hidden), :\"" + node + "\")"), "false");
}

TEST_F(App, NameInUseIsAClearError) {
  auto first = start({"--sname", sname, "--cookie", "c"});
  ASSERT_TRUE(wait_log(*first, "is running")) << first->stderr_text();
  auto second = start({"--sname", sname, "--cookie", "c"});
  EXPECT_EQ(exit_code(*second), 1);
  EXPECT_NE(second->stderr_text().find("already in use"), std::string::npos)
      << second->stderr_text();
  first->kill(SIGINT);
  EXPECT_EQ(exit_code(*first), 0);
}

TEST_F(App, ConnectOptionKeepsAPeerConnected) {
  BeamNode beam(epmd, {.cookie = "c"});
  auto app = start({"--sname", sname, "--cookie", "c", "--connect", beam.node_name()});
  ASSERT_TRUE(wait_log(*app, "node " + beam.node_name() + " is up")) << app->stderr_text();
  // The BEAM side marks the node up a moment after we do.
  auto beam_sees_app = [&] {
    const auto deadline = ChildProcess::Clock::now() + 10s;
    while (ChildProcess::Clock::now() < deadline) {
      if (beam.eval("lists:member('" + node +
                    "', nodes(hidden)) orelse "
                    "(timer:sleep(20) =:= never).") == "true") {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(beam_sees_app());
  // Dropped from the BEAM side, the node comes back by itself.
  EXPECT_EQ(beam.eval("erlang:disconnect_node('" + node + "')."), "true");
  const std::string up = "node " + beam.node_name() + " is up";
  ASSERT_TRUE(app->wait_stderr(
      [&](const std::string& err) {
        const auto first = err.find(up);
        return first != std::string::npos && err.find(up, first + 1) != std::string::npos;
      },
      ChildProcess::Clock::now() + 30s))
      << app->stderr_text();
  EXPECT_TRUE(beam_sees_app()) << app->stderr_text();
  app->kill(SIGTERM);
  EXPECT_EQ(exit_code(*app), 0);
}

TEST_F(App, RefusesACookieFileOthersCanRead) {
  const auto home = std::filesystem::temp_directory_path() / test_support::unique_name("home");
  std::filesystem::create_directories(home);
  const auto cookie = home / ".erlang.cookie";
  std::ofstream(cookie) << "SECRETCOOKIE";
  ::chmod(cookie.c_str(), 0644);
  auto app = start({"--sname", sname}, {{"HOME", home.string()}});
  EXPECT_EQ(exit_code(*app), 1);
  const std::string log = app->stderr_text();
  EXPECT_NE(log.find("owner only"), std::string::npos) << log;
  EXPECT_EQ(log.find("SECRETCOOKIE"), std::string::npos) << log;
  std::filesystem::remove_all(home);
}

TEST_F(App, BadOptionsAreUsageErrors) {
  auto app = start({"--sname", "bad name!"});
  EXPECT_NE(exit_code(*app), 0);
  EXPECT_NE(app->stderr_text().find("may use only letters"), std::string::npos)
      << app->stderr_text();
  auto version = start({"--version"});
  EXPECT_EQ(exit_code(*version), 0);
  EXPECT_NE(version->stdout_text().find("cppnode "), std::string::npos);
}

TEST_F(App, MaxMailboxBoundsTheSeedServers) {
  auto alone = start({"--sname", sname, "--cookie", "c", "--overflow", "exit"});
  EXPECT_NE(exit_code(*alone), 0);
  EXPECT_NE(alone->stderr_text().find("--max-mailbox"), std::string::npos) << alone->stderr_text();
  auto app = start({"--sname", sname, "--cookie", "c", "--max-mailbox", "7", "--overflow", "exit"});
  ASSERT_TRUE(wait_log(*app, "is running")) << app->stderr_text();
  BeamNode beam(epmd, {.cookie = "c"});
  EXPECT_EQ(
      beam.eval("{status, _, _, [_, _, _, _, [_, {data, D} | _]]} = sys:get_status({counter, '" +
                node + "'}), proplists:get_value(\"Mailbox limit\", D)."),
      "{7,exit}");
  app->kill(SIGTERM);
  EXPECT_EQ(exit_code(*app), 0);
}

}  // namespace
}  // namespace cppnode::cnode::testing
