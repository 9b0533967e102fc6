// SPDX-License-Identifier: Apache-2.0
// Faults on the C node's connections, against the real executable: many silent TCP peers,
// garbage and oversized length fields after a completed handshake, and many connect/disconnect
// cycles. Extends tests/cnode/live_robustness_test.cpp (library level, few peers) with the
// executable's own limits, descriptor counts and memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cppnode/test_support/beam_node.hpp"
#include "fault_fixture.hpp"
#include "raw_peer.hpp"

namespace cppnode::fault_testing {
namespace {

using namespace std::chrono_literals;
using cnode::testing::RawPeer;
using test_support::BeamNode;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// A raw peer that completed a real handshake with the C node (with the right cookie).
std::unique_ptr<RawPeer> handshaken_peer(CppNodeProcess& cpp, const std::string& cookie,
                                         std::string& name) {
  auto raw = std::make_unique<RawPeer>(cpp.port());
  name = test_support::unique_name("raw") + "@" + test_support::short_hostname();
  EXPECT_EQ(raw->handshake(name, cookie, cpp.node_name()), "");
  EXPECT_TRUE(cpp.wait_log("node " + name + " is up", 10s)) << cpp.stderr_text();
  return raw;
}

std::string packet_header(std::uint32_t length) {
  std::string h;
  cnode::detail::put_u32(h, length);
  return h;
}

TEST_F(Fault, FiftySilentPeersDoNotDelayARealNode) {
  auto cpp = start_cpp();
  BeamNode erl(epmd, beam("erl"));
  const std::uint16_t port = epmd.port_of(cpp_sname);
  ASSERT_EQ(port, cpp->port());
  const int fds_before = cpp->open_fds();

  constexpr int silent_count = 50;
  const auto opened = Clock::now();
  std::vector<std::unique_ptr<RawPeer>> silent;
  for (int i = 0; i < silent_count; ++i) silent.push_back(std::make_unique<RawPeer>(port));
  // The node accepted every one of them (each holds a descriptor while its handshake waits).
  ASSERT_TRUE(wait_until([&] { return cpp->open_fds() >= fds_before + silent_count; }, 10s))
      << cpp->open_fds() << " fds, " << fds_before << " before";
  record_figure("silent_peers_fds_while_open", cpp->open_fds(), "fds");

  const auto ping_start = Clock::now();
  EXPECT_EQ(erl.eval("net_adm:ping(" + cpp->atom() + ")."), "pong");
  record_figure("ping_with_50_silent_peers", ms_since(ping_start), "ms");
  const std::string kv = "{kv_store, " + cpp->atom() + "}";
  EXPECT_EQ(erl.eval("gen_server:call(" + kv + ", {put, fault, silent_peers})."), "ok");
  EXPECT_EQ(erl.eval("gen_server:call(" + kv + ", {get, fault})."), "silent_peers");
  // All of that happened while the silent peers were still waiting (handshake timeout 5 s).
  const auto still_open = std::count_if(silent.begin(), silent.end(),
                                        [](const auto& p) { return !p->closed_by_node(1ms); });
  EXPECT_EQ(still_open, silent_count);

  // The node drops each one after its handshake timeout: every peer reads EOF.
  int closed = 0;
  for (auto& p : silent) closed += p->closed_by_node(30s) ? 1 : 0;
  EXPECT_EQ(closed, silent_count);
  record_figure("silent_peers_closed_after", ms_since(opened), "ms");
  silent.clear();
  // One descriptor more than before: the erl node's connection.
  EXPECT_TRUE(wait_until([&] { return cpp->open_fds() <= fds_before + 1; }, 10s))
      << cpp->open_fds() << " fds, " << fds_before << " before";
  record_figure("fds_before_silent_peers", fds_before, "fds");
  record_figure("fds_after_silent_peers", cpp->open_fds(), "fds");
  EXPECT_EQ(erl.eval("gen_server:call(" + kv + ", {get, fault})."), "silent_peers");
  // Each drop is logged (a warning: a timeout is not routine).
  EXPECT_EQ(cpp->log_count("dropped: handshake not finished within 5000 ms"),
            static_cast<std::size_t>(silent_count))
      << cpp->stderr_text();
}

TEST_F(Fault, GarbageAndOversizedLengthsCloseOnlyThatConnection) {
  auto cpp = start_cpp();
  BeamNode other(epmd, beam("other"));
  ASSERT_EQ(other.eval("net_adm:ping(" + cpp->atom() + ")."), "pong");
  ASSERT_EQ(other.eval("erlang:monitor_node(" + cpp->atom() + ", true)."), "true");
  // The other node keeps calling the C node through every fault below.
  ASSERT_EQ(other.eval("put(callers, cppnode_fault:start_callers({kv_store, " + cpp->atom() +
                       "}, 4)), ok."),
            "ok");
  ASSERT_EQ(other.eval("cppnode_fault:wait_until(fun() -> cppnode_fault:calls_made(get(callers)) "
                       ">= 200 end, 30000)."),
            "true");
  const long rss_before = cpp->rss_kib();
  const int fds_before = cpp->open_fds();
  long rss_peak = rss_before;
  auto watch_rss = [&](std::chrono::milliseconds window, long limit_kib) {
    // True if RSS passed `limit_kib` within `window` (polling, so a short spike shows too).
    return wait_until(
        [&] {
          rss_peak = std::max(rss_peak, cpp->rss_kib());
          return rss_peak > limit_kib;
        },
        window);
  };

  // 1. A length field just under max_packet_size (64 MiB) with only 1 KiB behind it: a
  // well-formed start of a packet, so the connection stays open, and only what arrived is
  // buffered — the announced 60 MiB are never allocated.
  constexpr std::uint32_t announced = 60U << 20;
  {
    std::string name;
    auto raw = handshaken_peer(*cpp, cookie, name);
    raw->send(packet_header(announced) + "p" + std::string(1023, '\x83'));
    EXPECT_FALSE(rss_is_meaningful && watch_rss(2s, rss_before + 16 * 1024))
        << "RSS went from " << rss_before << " KiB to " << rss_peak << " KiB";
    EXPECT_FALSE(raw->closed_by_node(1ms));
    // A MiB more arrives: the buffer grows by about that much, not to the announced size.
    raw->send(std::string(1U << 20, '\0'));
    EXPECT_FALSE(rss_is_meaningful && watch_rss(1s, rss_before + 16 * 1024))
        << "RSS went from " << rss_before << " KiB to " << rss_peak << " KiB";
  }  // the test closes it: an ordinary nodedown for that peer only
  record_figure("rss_before_partial_60MiB_packet", static_cast<double>(rss_before), "KiB");
  record_figure("rss_peak_with_partial_60MiB_packet", static_cast<double>(rss_peak), "KiB");

  // 2. A length field above max_packet_size: closed at once, nothing allocated.
  {
    std::string name;
    auto raw = handshaken_peer(*cpp, cookie, name);
    raw->send(packet_header(0xfffffff0U) + "p" + std::string(100, '\x83'));
    EXPECT_TRUE(raw->closed_by_node(10s));
    EXPECT_TRUE(cpp->wait_log("exceeds max_packet_size", 10s)) << cpp->stderr_text();
    EXPECT_FALSE(rss_is_meaningful && watch_rss(500ms, rss_before + 16 * 1024));
  }

  // 3. A complete packet of garbage (no pass-through byte, no term): closed.
  {
    std::string name;
    auto raw = handshaken_peer(*cpp, cookie, name);
    std::string junk;
    for (int i = 0; i < 64; ++i) junk.push_back(static_cast<char>((i * 37 + 11) & 0xff));
    raw->send(packet_header(static_cast<std::uint32_t>(junk.size())) + junk);
    EXPECT_TRUE(raw->closed_by_node(10s));
    EXPECT_TRUE(cpp->wait_log("node " + name + " is down", 10s)) << cpp->stderr_text();
  }

  // 4. Garbage in place of a handshake (an HTTP request): closed, nothing else touched.
  {
    RawPeer http(cpp->port());
    http.send("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 4294967295\r\n\r\n");
    EXPECT_TRUE(http.closed_by_node(10s));
  }

  // The other node never lost its connection and none of its calls failed.
  EXPECT_EQ(other.eval("receive {nodedown, N} -> {nodedown, N} after 0 -> none end."), "none");
  const std::string made = other.eval("cppnode_fault:stop_callers(get(callers)).");
  EXPECT_EQ(made.find("{") == 0 && made.ends_with(",0}"), true) << made;
  EXPECT_TRUE(wait_until([&] { return cpp->open_fds() <= fds_before; }, 10s))
      << cpp->open_fds() << " fds, " << fds_before << " before";
  record_figure("rss_after_bad_packets", static_cast<double>(cpp->rss_kib()), "KiB");
  EXPECT_TRUE(cpp->running());
}

TEST_F(Fault, HundredConnectDisconnectCyclesLeakNothing) {
  // Debug level logs how each simultaneous connect was settled: the C node dials back right after
  // a disconnect (RPCs its registry started, or replies, going out just too late) and races the
  // cycler's next connect_node. A pair of BEAM nodes settles that race without a failed cycle.
  auto cpp = start_cpp({"--log-level", "debug"});
  BeamNode erl(epmd, beam("cycler"));
  const std::string up = "node " + erl.node_name() + " is up";
  const std::string down = "node " + erl.node_name() + " is down";
  auto cycles = [&](int from, int to) {
    return erl.eval("cppnode_fault:connect_cycles(" + cpp->atom() + ", kv_store, " +
                    std::to_string(from) + ", " + std::to_string(to) + ").");
  };
  auto node_state = [&] {
    return (cpp->running() ? std::string() : "the C node is gone (crashed?)\n") +
           cpp->stderr_text();
  };
  constexpr int warm_up = 10;
  constexpr int total = 100;
  ASSERT_EQ(cycles(1, warm_up), "{ok," + std::to_string(warm_up) + "}") << node_state();
  ASSERT_TRUE(cpp->wait_log(down, 20s, warm_up)) << node_state();
  // Measured while connected (asking for the count connects; the next cycle ends it): the BEAM
  // node may dial back after its last cycle to deliver a reply it still owed the C node, so only
  // the connected state is the same before and after.
  const long procs_warm = process_count(erl, *cpp);
  const int fds_warm = cpp->open_fds();
  const long rss_warm = cpp->rss_kib();

  const auto t0 = Clock::now();
  ASSERT_EQ(cycles(warm_up + 1, total), "{ok," + std::to_string(total - warm_up) + "}")
      << node_state();
  record_figure("connect_disconnect_cycles_90", ms_since(t0), "ms");
  // Every connection came up and went down on the C node too (a reply the BEAM node still owed
  // the C node can make it dial back once more: at least, not exactly).
  EXPECT_TRUE(cpp->wait_log(down, 30s, total)) << cpp->log_count(down) << " downs";
  EXPECT_GE(cpp->log_count(up), static_cast<std::size_t>(total));
  // No process left behind by the registrations and RPCs each new connection starts.
  long procs_end = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        procs_end = process_count(erl, *cpp);
        return procs_end <= procs_warm;
      },
      10s))
      << procs_end << " processes after " << total << " cycles, " << procs_warm << " after "
      << warm_up;
  record_figure("processes_after_10_cycles", static_cast<double>(procs_warm), "procs");
  record_figure("processes_after_100_cycles", static_cast<double>(procs_end), "procs");
  EXPECT_TRUE(wait_until([&] { return cpp->open_fds() <= fds_warm; }, 10s))
      << cpp->open_fds() << " fds after " << total << " cycles, " << fds_warm << " after "
      << warm_up;
  const long rss_end = cpp->rss_kib();
  record_figure("fds_after_10_cycles", fds_warm, "fds");
  record_figure("fds_after_100_cycles", cpp->open_fds(), "fds");
  record_figure("rss_after_10_cycles", static_cast<double>(rss_warm), "KiB");
  record_figure("rss_after_100_cycles", static_cast<double>(rss_end), "KiB");
  if (rss_is_meaningful) {
    EXPECT_LT(rss_end - rss_warm, 16 * 1024) << rss_warm << " KiB -> " << rss_end << " KiB";
  }
  // How often the C node's own attempt crossed the cycler's and lost (settled, not failed).
  record_figure("simultaneous_connects_in_100_cycles",
                static_cast<double>(cpp->log_count("simultaneous connect") +
                                    cpp->log_count("superseded by the connection")),
                "connects");
  // Still serving after all that.
  EXPECT_EQ(erl.eval("gen_server:call({kv_store, " + cpp->atom() + "}, {get, cycle})."),
            std::to_string(total));
}

}  // namespace
}  // namespace cppnode::fault_testing
