// SPDX-License-Identifier: Apache-2.0
// The cookie as the executable handles it: wrong cookies refused both ways and logged without
// any cookie, the cookie never printed at any log level, and cookie files others can read
// refused as erl refuses them. Extends tests/cnode/live_connect_test.cpp (library level) and
// tests/cnode/app_test.cpp (mode 0644 only).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/child_process.hpp"
#include "fault_fixture.hpp"
#include "raw_peer.hpp"

namespace cppnode::fault_testing {
namespace {

using namespace std::chrono_literals;
using cnode::testing::RawPeer;
using test_support::BeamNode;
using test_support::ChildProcess;

/// A scratch HOME for one test, removed afterwards.
class ScratchHome {
 public:
  ScratchHome()
      : dir_(std::filesystem::temp_directory_path() / test_support::unique_name("fault_home")) {
    std::filesystem::create_directories(dir_ / "xdg");
  }
  ~ScratchHome() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScratchHome(const ScratchHome&) = delete;
  ScratchHome& operator=(const ScratchHome&) = delete;

  /// Writes `text` to `relative` with `mode`; returns the full path.
  std::string write(const std::string& relative, const std::string& text, mode_t mode) const {
    const auto path = dir_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::filesystem::remove(path);
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path.string();
  }
  [[nodiscard]] CppNodeProcess::Env env() const {
    return {{"HOME", dir_.string()}, {"XDG_CONFIG_HOME", (dir_ / "xdg").string()}};
  }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

TEST_F(Fault, WrongCookieIsRefusedBothWaysAndLoggedWithoutTheCookie) {
  auto wrong = beam("wrong");
  wrong.cookie = test_support::unique_name("wrong_cookie");
  BeamNode bad(epmd, wrong);
  // The C node also tries to connect out to the node with the other cookie, and keeps trying.
  auto cpp = start_cpp({"--connect", bad.node_name()});
  BeamNode good(epmd, beam("good"));
  ASSERT_EQ(good.eval("net_adm:ping(" + cpp->atom() + ")."), "pong");
  ASSERT_EQ(good.eval("erlang:monitor_node(" + cpp->atom() + ", true)."), "true");
  ASSERT_EQ(good.eval("put(callers, cppnode_fault:start_callers({kv_store, " + cpp->atom() +
                      "}, 4)), ok."),
            "ok");

  // Incoming with the wrong cookie: from a real node and from a raw peer.
  EXPECT_EQ(bad.eval("net_adm:ping(" + cpp->atom() + ")."), "pang");
  RawPeer raw(cpp->port());
  EXPECT_EQ(raw.handshake(test_support::unique_name("raw") + "@" + test_support::short_hostname(),
                          wrong.cookie, cpp->node_name()),
            "closed");
  EXPECT_TRUE(cpp->wait_log("rejected: invalid challenge reply (the cookies differ)", 10s, 2))
      << cpp->stderr_text();
  // Outgoing to the node with the other cookie: refused by it, logged here, retried.
  EXPECT_TRUE(cpp->wait_log("connection to " + bad.node_name() + " failed", 20s))
      << cpp->stderr_text();
  EXPECT_EQ(bad.eval("nodes(hidden)."), "[]");

  // The good node never noticed, and none of its calls failed.
  EXPECT_EQ(good.eval("receive {nodedown, N} -> {nodedown, N} after 0 -> none end."), "none");
  const std::string calls = good.eval("cppnode_fault:stop_callers(get(callers)).");
  EXPECT_TRUE(calls.starts_with("{") && calls.ends_with(",0}")) << calls;
  EXPECT_EQ(good.eval("gen_server:call({kv_store, " + cpp->atom() + "}, {put, still, ok})."), "ok");

  const std::string log = cpp->stderr_text() + cpp->stdout_text();
  EXPECT_EQ(log.find(cookie), std::string::npos) << log;
  EXPECT_EQ(log.find(wrong.cookie), std::string::npos) << log;
  EXPECT_NE(log.find(bad.node_name()), std::string::npos) << "the refused node is named";
}

TEST_F(Fault, CookieNeverAppearsInOutputAtTraceLevel) {
  // Trace is the most verbose level (it includes debug): every handshake step, every control
  // message, connection failures, global registration, shutdown.
  auto wrong = beam("wrong");
  wrong.cookie = test_support::unique_name("other_cookie");
  BeamNode bad(epmd, wrong);
  BeamNode good(epmd, beam("good"));
  ScratchHome home;
  const std::string file_cookie = test_support::unique_name("FILECOOKIE");
  home.write(".erlang.cookie", file_cookie + "\n", 0400);

  struct Run {
    std::vector<std::string> args;
    CppNodeProcess::Env env;
    std::string secret;
  };
  const Run runs[] = {
      {{"--cookie", cookie, "--log-level", "trace", "--connect", good.node_name()}, {}, cookie},
      {{"--log-level", "trace", "--connect", good.node_name()}, home.env(), file_cookie},
  };
  for (const auto& run : runs) {
    if (&run != &runs[0]) {
      // The second run takes its cookie from the file: tell the good node.
      ASSERT_EQ(good.eval("erlang:set_cookie('" + cpp_sname + "_2@" +
                          test_support::short_hostname() + "', '" + file_cookie + "'), ok."),
                "ok");
    }
    const std::string sname = &run == &runs[0] ? cpp_sname : cpp_sname + "_2";
    auto cpp = std::make_unique<CppNodeProcess>(epmd, sname, run.args, run.env);
    ASSERT_TRUE(cpp->wait_log("node " + good.node_name() + " is up", 20s)) << cpp->stderr_text();
    EXPECT_EQ(good.eval("gen_server:call({kv_store, " + cpp->atom() + "}, {put, k, v}, 5000)."),
              "ok");
    EXPECT_EQ(bad.eval("net_adm:ping(" + cpp->atom() + ")."), "pang");
    {
      RawPeer raw(cpp->port());
      EXPECT_EQ(
          raw.handshake(test_support::unique_name("raw") + "@" + test_support::short_hostname(),
                        "not_" + run.secret, cpp->node_name()),
          "closed");
    }
    {
      RawPeer raw(cpp->port());
      const std::string name =
          test_support::unique_name("raw") + "@" + test_support::short_hostname();
      EXPECT_EQ(raw.handshake(name, run.secret, cpp->node_name()), "");
      raw.send(std::string("\x00\x00\x00\x03\x70\x83\x00", 7));  // a broken control term
      EXPECT_TRUE(raw.closed_by_node(10s));
    }
    EXPECT_TRUE(cpp->wait_log("cookies differ", 10s, 2)) << cpp->stderr_text();
    EXPECT_EQ(cpp->terminate(10s), 0);
    const std::string out = cpp->stderr_text() + cpp->stdout_text();
    EXPECT_NE(out.find("[trace]"), std::string::npos) << "trace logging was on";
    EXPECT_EQ(out.find(run.secret), std::string::npos) << out;
    EXPECT_EQ(out.find(wrong.cookie), std::string::npos) << out;
    record_figure(&run == &runs[0] ? "trace_log_bytes_scanned_cookie_option"
                                   : "trace_log_bytes_scanned_cookie_file",
                  static_cast<double>(out.size()), "bytes");
  }
}

TEST_F(Fault, CookieFileOthersCanAccessIsRefusedLikeErl) {
  ScratchHome home;
  const std::string secret = test_support::unique_name("SECRETCOOKIE");
  auto start = [&](const CppNodeProcess::Env& env) {
    std::vector<std::string> argv{CPPNODE_EXECUTABLE, "--sname", cpp_sname, "--listen-address",
                                  "127.0.0.1"};
    auto e = env;
    e.emplace_back("ERL_EPMD_PORT", std::to_string(epmd.port()));
    return std::make_unique<ChildProcess>(argv, e);
  };
  auto refused = [&](const std::string& path, mode_t mode) {
    auto app = start(home.env());
    EXPECT_TRUE(app->wait_exit(ChildProcess::Clock::now() + 10s));
    const auto status = app->exit_status();
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 1)
        << "mode " << std::oct << mode;
    const std::string err = app->stderr_text();
    EXPECT_NE(err.find("cookie file " + path + " must be accessible by owner only"),
              std::string::npos)
        << "mode " << std::oct << mode << ": " << err;
    EXPECT_EQ(err.find(secret), std::string::npos) << err;
    EXPECT_EQ(epmd.port_of(cpp_sname), 0) << "a refused node must not register";
  };
  // Group- or world-accessible in any way: refused, as erl's auth module refuses it.
  for (const mode_t mode : {0644, 0640, 0604, 0660, 0606, 0444, 0410, 0401}) {
    refused(home.write(".erlang.cookie", secret, mode), mode);
  }
  // The XDG location is checked the same way when ~/.erlang.cookie does not exist.
  std::filesystem::remove(home.dir() / ".erlang.cookie");
  refused(home.write("xdg/erlang/.erlang.cookie", secret, 0640), 0640);
  std::filesystem::remove(home.dir() / "xdg/erlang/.erlang.cookie");

  // Not a regular file: refused with its own message.
  std::filesystem::create_directories(home.dir() / ".erlang.cookie");
  {
    auto app = start(home.env());
    EXPECT_TRUE(app->wait_exit(ChildProcess::Clock::now() + 10s));
    EXPECT_NE(app->stderr_text().find("is not a regular file"), std::string::npos)
        << app->stderr_text();
  }
  std::filesystem::remove(home.dir() / ".erlang.cookie");

  // Owner-only files are used, and a real node with that cookie gets in.
  for (const mode_t mode : {0400, 0600}) {
    home.write(".erlang.cookie", secret + "\n", mode);
    CppNodeProcess cpp(epmd, cpp_sname, {}, home.env());
    auto o = beam("owner");
    o.cookie = secret;
    BeamNode erl(epmd, o);
    EXPECT_EQ(erl.eval("net_adm:ping(" + cpp.atom() + ")."), "pong") << std::oct << mode;
    EXPECT_EQ(cpp.terminate(10s), 0);
    EXPECT_EQ(cpp.stderr_text().find(secret), std::string::npos);
  }
}

}  // namespace
}  // namespace cppnode::fault_testing
