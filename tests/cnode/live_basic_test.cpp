// SPDX-License-Identifier: Apache-2.0
// Real BEAM nodes talking to the C node: ping, echo by name and by pid, gen_server calls.
#include <gtest/gtest.h>

#include "cppnode/test_support/beam_node.hpp"
#include "live_node.hpp"

namespace cppnode::cnode::testing {
namespace {

using test_support::BeamKind;
using test_support::BeamNode;
using test_support::Epmd;

class LiveBasic : public ::testing::Test {
 protected:
  Epmd epmd;
  LiveNode cpp{epmd};
  codec::Pid echo_pid = [this] {
    auto pid = cpp->spawn(std::make_shared<Echo>(cpp.node()));
    cpp->register_name(codec::Atom("echo"), pid);
    return pid;
  }();
};

TEST_F(LiveBasic, PingFromErlangShowsHiddenNode) {
  BeamNode beam(epmd);
  EXPECT_EQ(beam.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  EXPECT_EQ(beam.eval("lists:member(" + cpp.atom() + ", nodes(hidden))."), "true");
  EXPECT_EQ(beam.eval("lists:member(" + cpp.atom() + ", nodes())."), "false");
  ASSERT_TRUE(wait_until([&] { return cpp->connected_nodes().size() == 1; }));
  EXPECT_FALSE(cpp->connected_nodes().front().hidden);
  BeamNode hidden(epmd, {.hidden = true});
  EXPECT_EQ(hidden.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  ASSERT_TRUE(wait_until([&] { return cpp->connected_nodes().size() == 2; }));
  for (const auto& e : cpp->connected_nodes()) {
    EXPECT_EQ(e.hidden, e.node.name() == hidden.node_name()) << e.node.name();
  }
}

TEST_F(LiveBasic, PingFromElixir) {
  BeamNode ex(epmd, {.kind = BeamKind::elixir, .name_prefix = "ex"});
  EXPECT_EQ(ex.eval("Node.ping(:\"" + cpp.name() + "\")"), "pong");
  EXPECT_EQ(ex.eval("Enum.member?(Node.list(:hidden), :\"" + cpp.name() + "\")"), "true");
}

TEST_F(LiveBasic, EchoByRegisteredNameAndByPid) {
  BeamNode beam(epmd);
  EXPECT_EQ(beam.eval("{echo, " + cpp.atom() +
                      "} ! {self(), <<\"hi\">>}, "
                      "receive {echo, P, M} -> put(echo, P), M after 5000 -> timeout end."),
            "<<\"hi\">>");
  EXPECT_EQ(beam.eval("node(get(echo))."), cpp.printed());
  EXPECT_EQ(beam.eval("get(echo) ! {self(), [1, 2.5, #{a => \"x\"}]}, "
                      "receive {echo, _, M} -> M after 5000 -> timeout end."),
            "[1,2.5,#{a => \"x\"}]");
}

TEST_F(LiveBasic, GenServerCallsGetAliasReplies) {
  BeamNode beam(epmd);
  EXPECT_EQ(beam.eval("gen_server:call({echo, " + cpp.atom() + "}, {put, <<\"a\">>, 1})."),
            "{put,<<\"a\">>,1}");
  // The reply goes to the alias (ALIAS_SEND), not to the pid: here the pid is another process.
  EXPECT_EQ(beam.eval("A = alias(), Other = spawn(fun() -> ok end), {echo, " + cpp.atom() +
                      "} ! {'$gen_call', {Other, [alias | A]}, x}, receive {[alias | A], R} -> "
                      "{via_alias, R} after 5000 -> timeout end."),
            "{via_alias,x}");
  BeamNode ex(epmd, {.kind = BeamKind::elixir, .name_prefix = "ex"});
  EXPECT_EQ(ex.eval("GenServer.call({:echo, :\"" + cpp.name() + "\"}, :ping)"), "ping");
}

}  // namespace
}  // namespace cppnode::cnode::testing
