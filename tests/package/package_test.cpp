// SPDX-License-Identifier: Apache-2.0
// cppnode as an installed package: examples/custom_server is configured and built out of tree
// against a fresh `cmake --install` of this build tree, then a real erl node calls its server.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/child_process.hpp"
#include "cppnode/test_support/epmd.hpp"
#include "cppnode/test_support/names.hpp"

namespace {

using namespace std::chrono_literals;
using cppnode::test_support::BeamNode;
using cppnode::test_support::ChildProcess;
using cppnode::test_support::Epmd;

std::string read_file(const std::filesystem::path& path) {
  std::ostringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

class Package : public ::testing::Test {
 protected:
  ~Package() override { std::filesystem::remove_all(dir); }

  // Runs a tool to completion; a failure names the command and shows its output.
  static bool run(const std::vector<std::string>& argv, std::chrono::seconds limit) {
    ChildProcess tool(argv, {});
    std::string command;
    for (const auto& a : argv) command += a + " ";
    if (!tool.wait_exit(ChildProcess::Clock::now() + limit)) {
      ADD_FAILURE() << command << "did not finish in " << limit.count() << " s\n"
                    << tool.stdout_text() << tool.stderr_text();
      return false;
    }
    const auto status = tool.exit_status();
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      ADD_FAILURE() << command << "failed\n" << tool.stdout_text() << tool.stderr_text();
      return false;
    }
    return true;
  }

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / cppnode::test_support::unique_name("cppnode_pkg");
  const std::string prefix = (dir / "prefix").string();
  const std::string build = (dir / "build").string();
  const std::string cookie = "package_cookie";
  const std::string sname = cppnode::test_support::unique_name("leaderboard");
  const std::string node = sname + "@" + cppnode::test_support::short_hostname();
};

TEST_F(Package, OutOfTreeExample) {
  ASSERT_TRUE(run({CPPNODE_CMAKE, "--install", CPPNODE_BUILD_DIR, "--prefix", prefix}, 120s));
  // The same compiler and flags as this build (a sanitizer build installs instrumented libraries).
  const std::string compiler = CPPNODE_CXX_COMPILER;
  const std::string build_type = CPPNODE_BUILD_TYPE;
  const std::string flags = CPPNODE_CXX_FLAGS;
  ASSERT_TRUE(
      run({CPPNODE_CMAKE, "-S", CPPNODE_EXAMPLE_DIR, "-B", build, "-DCMAKE_PREFIX_PATH=" + prefix,
           "-DCMAKE_CXX_COMPILER=" + compiler, "-DCMAKE_BUILD_TYPE=" + build_type,
           "-DCMAKE_CXX_FLAGS=" + flags, "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"},
          120s));
  // The package came from the prefix, and the example sees only its installed headers.
  EXPECT_NE(read_file(build + "/CMakeCache.txt").find("cppnode_DIR:PATH=" + prefix),
            std::string::npos);
  const std::string commands = read_file(build + "/compile_commands.json");
  EXPECT_NE(commands.find("-isystem " + prefix + "/include"), std::string::npos) << commands;
  for (const char* tree : {"/codec/", "/cnode/", "/servers/"}) {
    EXPECT_EQ(commands.find(std::string(CPPNODE_SOURCE_DIR) + tree), std::string::npos) << commands;
  }
  ASSERT_TRUE(run({CPPNODE_CMAKE, "--build", build, "-j2"}, 240s));

  Epmd epmd;
  BeamNode erl(epmd, {.cookie = cookie});
  ChildProcess example({build + "/leaderboard_node", "--sname", sname, "--cookie", cookie,
                        "--connect", erl.node_name()},
                       {{"ERL_EPMD_PORT", std::to_string(epmd.port())}});
  ASSERT_TRUE(example.wait_stdout(
      [&](const std::string& out) { return out.find("running on node " + node) != out.npos; },
      ChildProcess::Clock::now() + 30s))
      << example.stdout_text() << example.stderr_text();
  // The global name is registered through the node in --connect once it is up.
  EXPECT_EQ(
      erl.eval("Wait = fun W(0) -> undefined; W(N) -> case global:whereis_name(leaderboard) of "
               "undefined -> timer:sleep(20), W(N - 1); Pid -> node(Pid) end end, Wait(500)."),
      node)
      << example.stderr_text();

  const std::string by_name = "{leaderboard, '" + node + "'}";
  EXPECT_EQ(
      erl.eval("[gen_server:call({global, leaderboard}, R) || R <- [{submit, <<\"ann\">>, 10}, "
               "{submit, <<\"bob\">>, 30}, {submit, <<\"ann\">>, 25}, "
               "{submit, <<\"cid\">>, 25}, {submit, <<\"bob\">>, 20}]]."),
      "[ok,ok,ok,ok,ok]");
  EXPECT_EQ(erl.eval("gen_server:call(" + by_name + ", {top, 3})."),
            "[{<<\"bob\">>,30},{<<\"ann\">>,25},{<<\"cid\">>,25}]");
  EXPECT_EQ(erl.eval("gen_server:call({global, leaderboard}, {top, 1})."), "[{<<\"bob\">>,30}]");
  EXPECT_EQ(erl.eval("sys:get_state(" + by_name + ")."),
            "[{<<\"bob\">>,30},{<<\"ann\">>,25},{<<\"cid\">>,25}]");
  EXPECT_EQ(erl.eval("gen_server:cast(" + by_name + ", reset), gen_server:call(" + by_name +
                     ", {top, 10})."),
            "[]");

  example.kill(SIGTERM);
  ASSERT_TRUE(example.wait_exit(ChildProcess::Clock::now() + 10s)) << example.stderr_text();
  const auto status = example.exit_status();
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << example.stderr_text();
}

}  // namespace
