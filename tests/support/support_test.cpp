// SPDX-License-Identifier: Apache-2.0
// Self-test of the live-node fixtures: if these fail, every live test is suspect.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/epmd.hpp"
#include "cppnode/test_support/names.hpp"

namespace cppnode::test_support {
namespace {

TEST(Names, UniqueAndShortHost) {
  EXPECT_NE(unique_name("x"), unique_name("x"));
  const std::string host = short_hostname();
  EXPECT_FALSE(host.empty());
  EXPECT_EQ(host.find('.'), std::string::npos);
}

TEST(EpmdFixture, AcceptsAndDiesWithTheObject) {
  std::uint16_t port = 0;
  {
    Epmd epmd;
    port = epmd.port();
    EXPECT_TRUE(accepts_on(port));
    EXPECT_EQ(epmd.names(), "");
  }
  EXPECT_FALSE(accepts_on(port));
}

TEST(BeamNodeFixture, ErlangNodesEvalAndPingEachOther) {
  Epmd epmd;
  BeamNode a(epmd);
  BeamNode b(epmd);
  EXPECT_NE(epmd.port_of(a.sname()), 0);
  EXPECT_EQ(a.eval("1 + 1."), "2");
  EXPECT_EQ(a.eval("X = <<\"multi\nline\">>, {X, 'quoted atom'}"),
            "{<<\"multi\\nline\">>,'quoted atom'}");
  EXPECT_EQ(a.eval("put(x, {kept, <<\"multi\\nline\">>})"), "undefined");
  EXPECT_EQ(a.eval("X = 1, {X, get(x)}"), "{1,{kept,<<\"multi\\nline\">>}}");  // fresh bindings
  EXPECT_EQ(a.eval("net_adm:ping('" + b.node_name() + "')."), "pong");
  EXPECT_EQ(a.eval("erlang:error(boom)").rfind("{eval_error,error,boom,", 0), 0U);
}

TEST(BeamNodeFixture, ElixirNodeEvalsElixir) {
  Epmd epmd;
  BeamNode e(epmd, {.kind = BeamKind::elixir, .name_prefix = "ex"});
  EXPECT_EQ(e.eval("x = %{a: 1}\nMap.get(x, :a) + 1"), "2");
  EXPECT_EQ(e.eval("Node.self() |> to_string()"), "<<\"" + e.node_name() + "\">>");
}

TEST(BeamNodeFixture, TimeoutFailsInsteadOfHanging) {
  Epmd epmd;
  BeamNode a(epmd);
  std::string r;
  EXPECT_NONFATAL_FAILURE(r = a.eval("receive never -> ok end", std::chrono::milliseconds(200)),
                          "no answer within 200 ms");
  EXPECT_EQ(r.rfind("<eval failed", 0), 0U);
  a.kill();
  EXPECT_FALSE(a.running());
  EXPECT_NONFATAL_FAILURE(r = a.eval("ok"), "the node is not running");
}

}  // namespace
}  // namespace cppnode::test_support
