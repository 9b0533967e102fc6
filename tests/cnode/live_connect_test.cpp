// SPDX-License-Identifier: Apache-2.0
// Connections: out on demand, several peers at once, cookies, simultaneous connects, ticks.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <boost/asio/ip/tcp.hpp>
#include <thread>

#include "cppnode/cnode/echo.hpp"
#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/child_process.hpp"
#include "live_node.hpp"

namespace cppnode::cnode::testing {
namespace {

using codec::Atom;
using codec::Term;
using test_support::BeamKind;
using test_support::BeamNode;
using test_support::Epmd;

bool connected_to(Node& node, const std::string& name) {
  for (const auto& e : node.connected_nodes()) {
    if (e.node.name() == name) return true;
  }
  return false;
}

TEST(LiveConnect, ConnectsOutExplicitlyAndOnDemand) {
  Epmd epmd;
  LiveNode cpp(epmd);
  BeamNode first(epmd);
  BeamNode second(epmd, {.kind = BeamKind::elixir, .name_prefix = "ex"});
  ASSERT_EQ(first.eval("register(evaler, self())."), "true");
  ASSERT_EQ(second.eval("Process.register(self(), :evaler)"), "true");
  auto probe = std::make_shared<Probe>(cpp.node());
  cpp->spawn(probe);

  cpp->connect(Atom(first.node_name()));
  ASSERT_TRUE(wait_until([&] { return connected_to(cpp.node(), first.node_name()); }));
  EXPECT_EQ(first.eval("lists:member(" + cpp.atom() + ", nodes(hidden))."), "true");
  cpp->send(probe->self(), Atom("evaler"), Atom(first.node_name()), codec::binary("hello"));
  EXPECT_EQ(first.eval("receive M -> M after 5000 -> timeout end."), "<<\"hello\">>");

  // No connect call: sending connects, queueing the message meanwhile.
  cpp->send(probe->self(), Atom("evaler"), Atom(second.node_name()),
            codec::tuple(Atom("from"), probe->self()));
  EXPECT_EQ(second.eval("receive do {:from, p} -> node(p) after 5000 -> :timeout end"),
            cpp.printed());
  EXPECT_TRUE(connected_to(cpp.node(), second.node_name()));
}

// `erl -sname undefined` asks the node it connects to for a name (DFLAG_NAME_ME): it gets a
// random one on this host, as from a BEAM node, and is a node like any other from then on.
TEST(LiveConnect, APeerThatAsksForANameIsGivenOne) {
  Epmd epmd;
  LiveNode cpp(epmd);
  cpp->register_name(Atom("echo"), cpp->spawn(std::make_shared<EchoProcess>(cpp.node())));
  const std::string script = "true = net_kernel:connect_node(" + cpp.atom() +
                             "), io:format(\"named ~s~n\", [node()]), "
                             "io:format(\"echo ~p~n\", [gen_server:call({echo, " +
                             cpp.atom() + "}, hello)]), halt().";
  test_support::ChildProcess erl({CPPNODE_ERL, "-sname", "undefined", "-setcookie",
                                  std::string(cpp->config().cookie), "-noshell", "-eval", script},
                                 {{"ERL_EPMD_PORT", std::to_string(epmd.port())}});
  ASSERT_TRUE(erl.wait_exit(std::chrono::steady_clock::now() + 30s)) << erl.stderr_text();
  const std::string out = erl.stdout_text();
  const auto at = out.find("named ");
  ASSERT_NE(at, std::string::npos) << out << erl.stderr_text();
  const std::string name = out.substr(at + 6, out.find('\n', at) - at - 6);
  EXPECT_EQ(name.size(), 12 + 1 + test_support::short_hostname().size()) << name;
  EXPECT_EQ(name.substr(13), test_support::short_hostname());
  EXPECT_NE(out.find("echo hello"), std::string::npos) << out;
}

// A free TCP port on `address` right now.
std::uint16_t free_port(const char* address) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address(address), 0});
  return a.local_endpoint().port();
}

// A cluster without epmd (`erl -start_epmd false -erl_epmd_port N`): every node listens on port
// N of its own address and reaches the others there. The C node neither registers nor asks epmd
// (nothing runs for these names), and the connection works both ways.
TEST(LiveConnect, WithoutEpmdEveryNodeIsReachedAtTheAgreedPort) {
  Epmd unused_epmd;  // LiveNode's defaults want one; nothing registers with it here
  const std::uint16_t port = free_port("127.0.0.2");
  const std::string beam = test_support::unique_name("noepmd") + "@127.0.0.2";
  const std::string cpp_name = test_support::unique_name("cpp") + "@127.0.0.3";
  LiveNode cpp(unused_epmd, [&](NodeConfig& c) {
    c.node_name = cpp_name;
    c.listen_address = "127.0.0.3";
    c.register_with_epmd = false;
    c.erl_epmd_port = port;
  });
  cpp->register_name(Atom("echo"), cpp->spawn(std::make_shared<EchoProcess>(cpp.node())));
  const std::string to = "'" + cpp_name + "'";
  // In: the BEAM node connects to us. Out: it drops the connection and waits for ours.
  const std::string script =
      "io:format(\"in ~p~n\", [net_adm:ping(" + to +
      ")]), "
      "io:format(\"echo ~p~n\", [gen_server:call({echo, " +
      to +
      "}, hello)]), "
      "erlang:disconnect_node(" +
      to +
      "), "
      "W = fun W(0) -> timeout; W(N) -> case lists:member(" +
      to +
      ", nodes(hidden)) of true -> ok; false -> timer:sleep(50), W(N - 1) end end, "
      "io:format(\"back ~p~n\", [W(400)]), halt().";
  test_support::ChildProcess erl(
      {CPPNODE_ERL, "-name", beam, "-setcookie", std::string(cpp->config().cookie), "-noshell",
       "-start_epmd", "false", "-erl_epmd_port", std::to_string(port), "-kernel",
       "inet_dist_use_interface", "{127,0,0,2}", "-eval", script},
      {{"ERL_EPMD_PORT", std::to_string(unused_epmd.port())}});
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  ASSERT_TRUE(erl.wait_stdout(
      [](const std::string& out) { return out.find("echo") != std::string::npos; }, deadline))
      << erl.stdout_text() << erl.stderr_text();
  EXPECT_TRUE(testing::wait_until([&] { return cpp->connected_nodes().empty(); }));
  cpp->connect(Atom(beam));
  ASSERT_TRUE(erl.wait_exit(deadline)) << erl.stderr_text();
  const std::string out = erl.stdout_text();
  EXPECT_NE(out.find("in pong"), std::string::npos) << out << erl.stderr_text();
  EXPECT_NE(out.find("echo hello"), std::string::npos) << out;
  EXPECT_NE(out.find("back ok"), std::string::npos) << out;
  EXPECT_EQ(unused_epmd.names().find("cpp"), std::string::npos) << unused_epmd.names();
}

// IPv6 distribution against `erl -proto_dist inet6_tcp`, with IPv6 literals as hosts
// (`name@::1`): epmd over ::1, both directions, and the connection really on ::1.
TEST(LiveConnect, Ipv6BothWaysWithIpv6LiteralNames) {
  Epmd epmd;
  BeamNode out(epmd, {.name_prefix = "v6out", .ipv6 = true});
  LiveNode cpp(epmd, [&](NodeConfig& c) {
    c.node_name = test_support::unique_name("cpp") + "@::1";
    c.listen_address = "::1";
    c.ipv6 = true;
    c.connect = {out.node_name()};
  });
  cpp->register_name(Atom("echo"), cpp->spawn(std::make_shared<EchoProcess>(cpp.node())));
  EXPECT_EQ(out.eval("init:get_argument(proto_dist)."), "{ok,[[\"inet6_tcp\"]]}");
  EXPECT_TRUE(testing::wait_until(
      [&] { return out.eval("lists:member(" + cpp.atom() + ", nodes(hidden)).") == "true"; }));
  const std::string peer_address = "{ok, {A, _}} = inet:peername(proplists:get_value(" +
                                   cpp.atom() + ", erlang:system_info(dist_ctrl))), A.";
  EXPECT_EQ(out.eval(peer_address), "{0,0,0,0,0,0,0,1}");
  EXPECT_EQ(out.eval("gen_server:call({echo, " + cpp.atom() + "}, hello)."), "hello");
  BeamNode in(epmd, {.name_prefix = "v6in", .ipv6 = true});
  EXPECT_EQ(in.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  EXPECT_EQ(in.eval(peer_address), "{0,0,0,0,0,0,0,1}");
  EXPECT_EQ(in.eval("gen_server:call({echo, " + cpp.atom() + "}, hello)."), "hello");
}

TEST(LiveConnect, UnreachableNodeGivesNoconnection) {
  Epmd epmd;
  LiveNode cpp(epmd);
  auto probe = std::make_shared<Probe>(cpp.node());
  cpp->spawn(probe);
  const Atom nowhere("nobody_" + std::to_string(::getpid()) + "@" + test_support::short_hostname());
  cpp->send(probe->self(), Atom("x"), nowhere, Term(Atom("lost")));
  const auto ref = cpp->monitor(probe->self(), Term(Atom("x")), nowhere);
  auto down = probe->take_down();
  ASSERT_TRUE(down);
  EXPECT_EQ(down->ref, ref);
  EXPECT_EQ(down->reason, Term(Atom("noconnection")));
  EXPECT_EQ(down->object, codec::tuple(Atom("x"), nowhere));
}

TEST(LiveConnect, ThreeBeamNodesAtOnce) {
  Epmd epmd;
  LiveNode cpp(epmd);
  cpp->register_name(Atom("echo"), cpp->spawn(std::make_shared<Echo>(cpp.node())));
  BeamNode a(epmd);
  BeamNode b(epmd);
  BeamNode c(epmd, {.kind = BeamKind::elixir, .name_prefix = "ex"});
  for (BeamNode* n : {&a, &b}) {
    EXPECT_EQ(n->eval("gen_server:call({echo, " + cpp.atom() + "}, {n, node()})."),
              "{n," + n->node_name() + "}");
  }
  EXPECT_EQ(c.eval("GenServer.call({:echo, :\"" + cpp.name() + "\"}, {:n, node()})"),
            "{n," + c.node_name() + "}");
  EXPECT_TRUE(wait_until([&] { return cpp->connected_nodes().size() == 3; }));
  // They still work after each other's traffic.
  EXPECT_EQ(a.eval("gen_server:call({echo, " + cpp.atom() + "}, again)."), "again");
}

TEST(LiveConnect, WrongCookieIsRefusedAndNotLogged) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
  spdlog::default_logger()->sinks().push_back(sink);
  {
    Epmd epmd;
    LiveNode cpp(epmd, [](NodeConfig& c) { c.cookie = "the_right_cookie_4711"; });
    BeamNode bad(epmd, {.cookie = "a_wrong_cookie_0815"});
    BeamNode good(epmd, {.cookie = "the_right_cookie_4711"});
    EXPECT_EQ(bad.eval("net_adm:ping(" + cpp.atom() + ")."), "pang");
    EXPECT_EQ(good.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
    EXPECT_TRUE(connected_to(cpp.node(), good.node_name()));
    EXPECT_FALSE(connected_to(cpp.node(), bad.node_name()));
  }
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  bool saw_rejection = false;
  for (const auto& line : sink->last_formatted()) {
    EXPECT_EQ(line.find("the_right_cookie_4711"), std::string::npos) << line;
    EXPECT_EQ(line.find("a_wrong_cookie_0815"), std::string::npos) << line;
    if (line.find("cookies differ") != std::string::npos) saw_rejection = true;
  }
  EXPECT_TRUE(saw_rejection);
}

TEST(LiveConnect, SimultaneousConnectsEndWithOneWorkingConnection) {
  Epmd epmd;
  LiveNode cpp(epmd);
  cpp->register_name(Atom("echo"), cpp->spawn(std::make_shared<Echo>(cpp.node())));
  auto probe = std::make_shared<Probe>(cpp.node());
  cpp->spawn(probe);
  for (int round = 0; round < 3; ++round) {
    BeamNode beam(epmd);
    ASSERT_EQ(beam.eval("register(evaler, self())."), "true");
    std::thread out([&] { cpp->connect(Atom(beam.node_name())); });
    const std::string pinged = beam.eval("net_adm:ping(" + cpp.atom() + ").");
    out.join();
    EXPECT_EQ(pinged, "pong");
    EXPECT_EQ(beam.eval("gen_server:call({echo, " + cpp.atom() + "}, round)."), "round");
    cpp->send(probe->self(), Atom("evaler"), Atom(beam.node_name()), Term(Atom("back")));
    EXPECT_EQ(beam.eval("receive back -> ok after 5000 -> timeout end."), "ok");
    EXPECT_EQ(beam.eval("length([N || N <- nodes(hidden), N =:= " + cpp.atom() + "])."), "1");
  }
}

TEST(LiveConnect, IdleConnectionSurvivesOnTicks) {
  std::atomic<bool> went_down{false};  // outlives the node, whose handler sets it
  Epmd epmd;
  LiveNode cpp(epmd, [](NodeConfig& c) { c.net_ticktime = std::chrono::seconds(1); });
  BeamNode beam(epmd, {.erl_args = {"-kernel", "net_ticktime", "1"}});
  cpp->on_node_event([&](const NodeEvent& e) {
    if (!e.up) went_down = true;
  });
  ASSERT_EQ(beam.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  // Idle for twice net_ticktime: only ticks keep both sides from declaring the other down.
  EXPECT_EQ(beam.eval("timer:sleep(2500), lists:member(" + cpp.atom() + ", nodes(hidden))."),
            "true");
  EXPECT_FALSE(went_down.load());
}

TEST(LiveConnect, SilentPeerIsDownAfterNetTicktime) {
  std::atomic<bool> went_down{false};  // outlives the node, whose handler sets it
  Epmd epmd;
  LiveNode cpp(epmd, [](NodeConfig& c) { c.net_ticktime = std::chrono::seconds(1); });
  BeamNode beam(epmd);
  cpp->on_node_event([&](const NodeEvent& e) {
    if (!e.up) went_down = true;
  });
  ASSERT_EQ(beam.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  beam.kill(SIGSTOP);  // the socket stays open, the node just stops talking
  EXPECT_TRUE(wait_until([&] { return went_down.load(); }, std::chrono::seconds(10)));
  EXPECT_TRUE(cpp->connected_nodes().empty());
  beam.kill(SIGKILL);
}

}  // namespace
}  // namespace cppnode::cnode::testing
