// SPDX-License-Identifier: Apache-2.0
// A real erl node floods casts to a slow C++ server with a mailbox bound: the bound holds, the
// figures show in sys:get_status, and the node keeps serving its other servers meanwhile.
#include <gtest/gtest.h>

#include "cppnode/servers/examples/example_servers.hpp"
#include "cppnode/servers/servers.hpp"
#include "cppnode/test_support/beam_node.hpp"
#include "live_node.hpp"
#include "slow_server.hpp"

namespace cppnode::servers {
namespace {

using namespace codec::literals;
using cnode::testing::LiveNode;
using cnode::testing::wait_until;
using codec::Term;
using test_support::BeamNode;
using test_support::Epmd;

class LiveOverload : public ::testing::Test {
 protected:
  ~LiveOverload() override { gate->open(); }

  Epmd epmd;
  BeamNode erl{epmd, {.name_prefix = "flood"}};
  LiveNode cpp{epmd};
  std::shared_ptr<testing::Gate> gate = std::make_shared<testing::Gate>();
};

TEST_F(LiveOverload, FloodFromErlIsBoundedShownInSysStatusAndOthersStillServed) {
  auto slow = start(cpp.node(), std::make_unique<testing::Slow>(gate),
                    {.local_name = "slow"_a,
                     .mailbox_limit = cnode::MailboxLimit{100, cnode::OverflowPolicy::drop}});
  ASSERT_TRUE(slow) << slow.error();
  auto other = start(cpp.node(), examples::make_counter(), {.local_name = "other"_a});
  ASSERT_TRUE(other) << other.error();
  const auto process = cpp->find(*slow);
  // Busy from here on (one of the node's two threads is held). The cast is local, so that no
  // connection's reader is the thread held.
  auto probe = std::make_shared<cnode::testing::Probe>(cpp.node());
  cpp->spawn(probe);
  cpp->send(probe->self(), *slow, codec::tuple("$gen_cast"_a, "block"_a));
  ASSERT_TRUE(gate->wait_entered(1));

  // Ten casts, a sys:get_status request (its reply is taken later), then 5000 casts: the
  // mailbox fills at 100 (10 + the request + 89), the other 4911 are dropped.
  ASSERT_EQ(erl.eval("N = " + cpp.atom() +
                     ", [gen_server:cast({slow, N}, {n, I}) || I <- lists:seq(1, 10)], "
                     "Ref = make_ref(), put(status_ref, Ref), "
                     "{slow, N} ! {system, {self(), Ref}, get_status}, "
                     "[gen_server:cast({slow, N}, {n, I}) || I <- lists:seq(1, 5000)], ok."),
            "ok");
  ASSERT_TRUE(wait_until([&] { return process->dropped() == 4911; }))
      << process->dropped() << " dropped";
  EXPECT_EQ(process->queued(), 100U);

  // The node still answers: another server, net_kernel, and sys on another server.
  const std::string other_dest = "{other, " + cpp.atom() + "}";
  EXPECT_EQ(erl.eval("gen_server:cast(" + other_dest + ", {increment, 5}), gen_server:call(" +
                     other_dest + ", get_count)."),
            "5");
  EXPECT_EQ(erl.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
  EXPECT_EQ(erl.eval("element(1, sys:get_status(" + other_dest + "))."), "status");

  gate->release();
  const std::string figures =
      "{status, _, {module, gen_server}, [_, running, _, [], [_, {data, D}, {data, [{\"State\", "
      "St}]}]]} = S, [proplists:get_value(K, D) || K <- [\"Message queue length\", \"Mailbox "
      "limit\", \"Dropped messages\"]] ++ [St].";
  // When the server got to the request, the 89 casts behind it were waiting.
  EXPECT_EQ(erl.eval("Ref = get(status_ref), S = receive {Ref, X} -> X after 10000 -> timeout "
                     "end, " +
                     figures),
            "[89,{100,drop},4911,10]");
  // Drained: 99 casts handled, nothing waiting, the dropped count kept.
  EXPECT_EQ(erl.eval("S = sys:get_status({slow, " + cpp.atom() + "}), " + figures),
            "[0,{100,drop},4911,99]");
}

}  // namespace
}  // namespace cppnode::servers
