// SPDX-License-Identifier: Apache-2.0
// Soak: 1,000,000 casts and 1,000,000 calls from three erl nodes to C++ servers in the real
// cppnode executable; nothing lost, nothing duplicated, memory flat after a 100,000 warm-up.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cppnode/test_support/beam_node.hpp"
#include "fault_fixture.hpp"

namespace cppnode::fault_testing {
namespace {

using namespace std::chrono_literals;
using test_support::BeamNode;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t total_messages = 1'000'000;
constexpr std::int64_t warm_up_messages = 100'000;
constexpr int procs_per_node = 16;
constexpr long rss_slack_kib = 20 * 1024;

/// Three client nodes; each addresses the server its own way (by pid from two, by registered
/// name from the third), so SEND and REG_SEND both carry the load.
class SoakCluster {
 public:
  SoakCluster(const test_support::Epmd& epmd, const test_support::BeamOptions& options,
              const CppNodeProcess& cpp, const std::string& server) {
    for (int i = 0; i < 3; ++i) {
      auto o = options;
      o.name_prefix = "soak" + std::to_string(i);
      o.eval_timeout = 600s;
      nodes_.push_back(std::make_unique<BeamNode>(epmd, o));
    }
    const std::string by_name = "{" + server + ", " + cpp.atom() + "}";
    for (int i = 0; i < 3; ++i) {
      auto& n = *nodes_[static_cast<std::size_t>(i)];
      EXPECT_EQ(n.eval("net_adm:ping(" + cpp.atom() + ")."), "pong");
      const std::string dest = i < 2 ? "element(2, sys:get_status(" + by_name + "))" : by_name;
      EXPECT_EQ(n.eval("put(dest, " + dest + "), ok."), "ok");
    }
  }

  /// Runs `code(i, count)` on the three nodes at once, node i getting its share of `count`;
  /// returns the three answers.
  template <class Code>
  std::vector<std::string> run(std::int64_t count, Code code) {
    std::vector<std::string> answers(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      const std::int64_t share = count / 3 + (i < count % 3 ? 1 : 0);
      threads.emplace_back([&, i, share] {
        answers[static_cast<std::size_t>(i)] =
            nodes_[static_cast<std::size_t>(i)]->eval(code(i, share));
      });
    }
    for (auto& t : threads) t.join();
    return answers;
  }
  BeamNode& node(int i) { return *nodes_[static_cast<std::size_t>(i)]; }

 private:
  std::vector<std::unique_ptr<BeamNode>> nodes_;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

TEST_F(Soak, MillionCastsFromThreeNodesAreCountedExactly) {
  auto cpp = start_cpp();
  SoakCluster cluster(epmd, beam("soak"), *cpp, "counter");
  std::int64_t expected = 0;
  auto casts = [&](std::int64_t count) {
    const auto answers = cluster.run(count, [](int, std::int64_t share) {
      return "cppnode_fault:cast_load(get(dest), " + std::to_string(procs_per_node) + ", " +
             std::to_string(share) + ").";
    });
    for (const auto& a : answers) {
      EXPECT_FALSE(a.empty() || a[0] == '<' || a[0] == '{') << a;
      if (!a.empty() && a[0] != '<' && a[0] != '{') expected += std::stoll(a);
    }
  };
  const auto t0 = Clock::now();
  casts(warm_up_messages);
  const double warm_s = seconds_since(t0);
  const long rss_warm = cpp->rss_kib();
  const auto t1 = Clock::now();
  casts(total_messages - warm_up_messages);
  const double main_s = seconds_since(t1);
  const long rss_end = cpp->rss_kib();

  // Every cast counted once: the count is the exact sum of the amounts sent, seen from all.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(cluster.node(i).eval("gen_server:call(get(dest), get_count)."),
              std::to_string(expected));
  }
  record_figure("casts_total", static_cast<double>(total_messages), "casts");
  record_figure("casts_warm_up_100k", warm_s, "s");
  record_figure("casts_900k", main_s, "s");
  record_figure("casts_per_second", static_cast<double>(total_messages - warm_up_messages) / main_s,
                "casts/s");
  record_figure("casts_rss_after_warm_up", static_cast<double>(rss_warm), "KiB");
  record_figure("casts_rss_after_1M", static_cast<double>(rss_end), "KiB");
  if (rss_is_meaningful) {
    EXPECT_LT(rss_end - rss_warm, rss_slack_kib) << rss_warm << " KiB -> " << rss_end << " KiB";
  }
  EXPECT_EQ(cpp->log_count("terminating"), 0U) << cpp->stderr_text();
}

TEST_F(Soak, MillionCallsGetEveryReplyExactlyOnce) {
  auto cpp = start_cpp();
  SoakCluster cluster(epmd, beam("soak"), *cpp, "hashmap");
  std::int64_t phase_base = 0;
  auto calls = [&](std::int64_t count) {
    const std::int64_t base = phase_base;
    phase_base += 1'000'000'000;
    const auto answers = cluster.run(count, [base](int i, std::int64_t share) {
      // Values unique across nodes and phases.
      const std::int64_t first = base + i * 100'000'000LL;
      return "cppnode_fault:call_load(get(dest), " + std::to_string(procs_per_node) + ", " +
             std::to_string(share) + ", " + std::to_string(first) + ").";
    });
    for (int i = 0; i < 3; ++i) {
      const std::int64_t share = count / 3 + (i < count % 3 ? 1 : 0);
      EXPECT_EQ(answers[static_cast<std::size_t>(i)], "#{first_error => none,lost => 0,ok => " +
                                                          std::to_string(share) +
                                                          ",stray => 0,wrong => 0}");
    }
  };
  const auto t0 = Clock::now();
  calls(warm_up_messages);
  const double warm_s = seconds_since(t0);
  const long rss_warm = cpp->rss_kib();
  const auto t1 = Clock::now();
  calls(total_messages - warm_up_messages);
  const double main_s = seconds_since(t1);
  const long rss_end = cpp->rss_kib();

  record_figure("calls_total", static_cast<double>(total_messages), "calls");
  record_figure("calls_warm_up_100k", warm_s, "s");
  record_figure("calls_900k", main_s, "s");
  record_figure("calls_per_second", static_cast<double>(total_messages - warm_up_messages) / main_s,
                "calls/s");
  record_figure("calls_rss_after_warm_up", static_cast<double>(rss_warm), "KiB");
  record_figure("calls_rss_after_1M", static_cast<double>(rss_end), "KiB");
  if (rss_is_meaningful) {
    EXPECT_LT(rss_end - rss_warm, rss_slack_kib) << rss_warm << " KiB -> " << rss_end << " KiB";
  }
  EXPECT_EQ(cpp->log_count("terminating"), 0U) << cpp->stderr_text();
}

}  // namespace
}  // namespace cppnode::fault_testing
