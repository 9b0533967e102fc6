// SPDX-License-Identifier: Apache-2.0
// Peers that are not BEAM nodes (issue 13), against the real executable and a BEAM node hosting
// the same server in the same test: what the BEAM sends them is the expectation.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/child_process.hpp"
#include "cppnode/test_support/names.hpp"
#include "fault_fixture.hpp"
#include "raw_peer.hpp"

namespace cppnode::fault_testing {
namespace {

using cnode::testing::RawPeer;
using codec::Atom;
using codec::Term;
using test_support::BeamKind;
using test_support::BeamNode;
using test_support::ChildProcess;

/// What JInterface 1.13 (OTP 25) offers in its handshake (AbstractNode.flags): the OTP 25
/// mandatory set, UNLINK_ID and V4_NC; no DIST_MONITOR, EXIT_PAYLOAD, ALIAS or SPAWN.
constexpr std::uint64_t jinterface_flags = cnode::detail::dflag::mandatory_25 |
                                           cnode::detail::dflag::unlink_id |
                                           cnode::detail::dflag::v4_nc;

/// A hidden peer with JInterface's flags that makes `gen_server:call`s to a node and reports
/// every packet it gets back, the replies shown by value (their tags differ per peer).
class HiddenCaller {
 public:
  HiddenCaller(std::uint16_t port, const std::string& target, const std::string& cookie)
      : raw_(port),
        name_(test_support::unique_name("jlike") + "@" + test_support::short_hostname()) {
    raw_.flags = jinterface_flags;
    handshake = raw_.handshake(name_, cookie, target);
  }
  void call(Atom to, const Term& request) {
    const codec::Pid from{Atom(name_), 1, 0, 1};
    std::string packet;
    cnode::detail::encode_reg_send(
        packet, from, to,
        codec::tuple(Atom("$gen_call"), codec::tuple(from, tag(++calls_)), request));
    raw_.send(packet);
  }
  /// Everything received until the reply to the last call: "op reply-value" or "op payload".
  std::vector<std::string> received() {
    std::vector<std::string> out;
    const Term last = tag(calls_);
    raw_.read_packets_until([&](const cnode::detail::ControlMessage& m) {
      const auto* t = m.payload.get_if<codec::Tuple>();
      const bool reply = m.as<cnode::detail::incoming::Send>() != nullptr && t != nullptr &&
                         t->elements.size() == 2 && t->elements[0].is<codec::Reference>();
      out.push_back(std::to_string(m.op) + " " +
                    codec::to_string(reply ? t->elements[1] : m.payload));
      return reply && t->elements[0] == last;
    });
    return out;
  }

  std::string handshake;

 private:
  [[nodiscard]] Term tag(std::uint32_t n) const {
    codec::Reference r;
    r.node = Atom(name_);
    r.creation = 1;
    r.ids = {n, 0, 0};
    return r;
  }
  RawPeer raw_;
  std::string name_;
  std::uint32_t calls_ = 0;
};

// Before, the C node's global-name bookkeeping greeted every new hidden peer with a MONITOR_P
// (which JInterface does not negotiate and drops the connection for) and a
// `{call, init, get_argument, [hidden], user}` to its rex, which erl_call took for its answer.
// A BEAM node sends a hidden peer nothing it did not ask for.
TEST_F(Fault, HiddenPeerIsSentOnlyTheAnswersToItsCalls) {
  auto cpp = start_cpp();
  BeamNode reference(epmd, beam("reference"));
  ASSERT_NE(reference.eval("is_pid(cppnode_fault_kv:start())."), "false");
  std::vector<std::vector<std::string>> seen;
  for (const auto& [port, node] :
       {std::pair{cpp->port(), cpp->node_name()},
        std::pair{epmd.port_of(reference.sname()), reference.node_name()}}) {
    HiddenCaller caller(port, node, cookie);
    ASSERT_EQ(caller.handshake, "") << node;
    caller.call(Atom("net_kernel"), codec::tuple(Atom("is_auth"), Atom(node)));
    caller.call(Atom("kv_store"), codec::tuple(Atom("put"), Atom("k"), Term(std::int64_t{1})));
    caller.call(Atom("kv_store"), codec::tuple(Atom("get"), Atom("k")));
    seen.push_back(caller.received());
  }
  EXPECT_EQ(seen[1], (std::vector<std::string>{"2 yes", "2 ok", "2 1"}));
  EXPECT_EQ(seen[0], seen[1]);
}

/// Runs `argv` (a foreign client) with the fixture's epmd and returns its stdout once it has
/// exited; a failure if it is still running after two minutes.
std::string run_client(const test_support::Epmd& epmd, const std::vector<std::string>& argv) {
  ChildProcess client(argv, {{"ERL_EPMD_PORT", std::to_string(epmd.port())}});
  if (!client.wait_exit(ChildProcess::Clock::now() + std::chrono::minutes(2))) {
    ADD_FAILURE() << argv[0] << " did not finish; stdout: " << client.stdout_text()
                  << " stderr: " << client.stderr_text();
    client.kill_and_reap();
  }
  return client.stdout_text() + client.stderr_text();
}

/// The lines of `text`, minus those that start with `prefix`.
std::vector<std::string> lines_without(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(prefix)) out.push_back(line);
  }
  return out;
}

/// A BEAM node hosting the real seed modules under the C node's registered names.
class Foreign : public Fault {
 protected:
  void SetUp() override {
    ASSERT_EQ(reference.eval(":cppnode_harness.start_local_references()"), "ok");
  }
  [[nodiscard]] test_support::BeamOptions reference_options() const {
    auto o = beam("reference", {"-pa", CPPNODE_HARNESS_EBIN});
    o.kind = BeamKind::elixir;  // the seeds are mostly Elixir modules
    return o;
  }
  std::unique_ptr<CppNodeProcess> cpp = start_cpp();
  BeamNode reference{epmd, reference_options()};
};

// JInterface (Debian erlang-jinterface): OtpNode.ping, calls and casts to every seed server by
// name, a link to the counter that a bad increment crashes, and OtpConnection.sendRPC into
// cppnode:version/0. Before, ping was false and every call timed out: the C node sent MONITOR_P,
// which JInterface does not negotiate, and dropped the connection.
TEST_F(Foreign, JInterfaceGetsFromTheCNodeWhatTheBeamGivesIt) {
  const auto run = [&](const std::string& target, std::vector<std::string> rpc) {
    std::vector<std::string> argv{CPPNODE_JAVA,
                                  "-cp",
                                  std::string(CPPNODE_JINTERFACE_JAR) + ":" + CPPNODE_JPROBE_DIR,
                                  "JInterfaceProbe",
                                  test_support::unique_name("jprobe"),
                                  cookie,
                                  target};
    argv.insert(argv.end(), rpc.begin(), rpc.end());
    return run_client(epmd, argv);
  };
  const std::string at_cpp = run(cpp->node_name(), {"cppnode", "version"});
  const std::string at_beam = run(reference.node_name(), {});
  EXPECT_NE(at_beam.find("ping -> true"), std::string::npos) << at_beam;
  EXPECT_NE(at_beam.find("linked counter -> exit badarith from the counter"), std::string::npos)
      << at_beam;
  EXPECT_EQ(lines_without(at_cpp, "rpc "), lines_without(at_beam, "rpc ")) << at_cpp;
  const std::string version =
      reference.eval(":rpc.call(:\"" + cpp->node_name() + "\", :cppnode, :version, [])");
  EXPECT_NE(at_cpp.find("rpc cppnode:version() -> " + version), std::string::npos)
      << at_cpp << "\nversion from the BEAM: " << version;
}

// erl_call (erl_interface's own client, ei_rpc underneath). Before, it failed in most runs: the
// first message it got was the C node's unasked rpc to its rex, not the {rex, Reply} it waited
// for. Ten runs against the C node, each printed as erl_call prints the same answer from the BEAM.
TEST_F(Foreign, ErlCallRpcAnswersEveryTime) {
  const std::string version = reference.eval(":erlang.binary_to_list(:rpc.call(:\"" +
                                             cpp->node_name() + "\", :cppnode, :version, []))");
  const std::string from_beam =
      run_client(epmd, {CPPNODE_ERL_CALL, "-sname", reference.sname(), "-c", cookie, "-a",
                        "erlang list_to_binary [" + version + "]"});
  EXPECT_NE(from_beam.find("#Bin<"), std::string::npos) << from_beam;
  const std::string sname = cpp->node_name().substr(0, cpp->node_name().find('@'));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(run_client(
                  epmd, {CPPNODE_ERL_CALL, "-sname", sname, "-c", cookie, "-a", "cppnode version"}),
              from_beam)
        << "run " << i;
  }
}

}  // namespace
}  // namespace cppnode::fault_testing
