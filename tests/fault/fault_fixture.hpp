// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/epmd.hpp"
#include "cppnode/test_support/names.hpp"
#include "cppnode_process.hpp"

namespace cppnode::fault_testing {

// Under ASan or TSan the C node's RSS holds shadow memory and a quarantine of freed blocks, so it
// says nothing about what the node keeps; there the sanitizer itself reports leaks and overflows.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool rss_is_meaningful = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool rss_is_meaningful = false;
#else
inline constexpr bool rss_is_meaningful = true;
#endif
#else
inline constexpr bool rss_is_meaningful = true;
#endif
// Likewise its CPU time: ASan at -O0 and TSan multiply it several times over, so a bound relative
// to the BEAM's (which catches quadratic costs in the normal build) holds only without them.
inline constexpr bool cpu_is_meaningful = rss_is_meaningful;

/// A private epmd, a cookie, and starters for the cppnode executable and BEAM nodes that load
/// erlang_test_harness/cppnode_fault.erl.
class Fault : public ::testing::Test {
 protected:
  /// Options for an erl node with this test's cookie and the fault helpers on its code path.
  [[nodiscard]] test_support::BeamOptions beam(const std::string& prefix,
                                               std::vector<std::string> erl_args = {}) const {
    test_support::BeamOptions o;
    o.name_prefix = prefix;
    o.cookie = cookie;
    o.erl_args = {"-pa", CPPNODE_FAULT_EBIN};
    o.erl_args.insert(o.erl_args.end(), erl_args.begin(), erl_args.end());
    o.eval_timeout = std::chrono::seconds(120);  // a whole load phase runs in one eval
    return o;
  }
  /// The C node named `cpp_sname` with this test's cookie and `args`.
  std::unique_ptr<CppNodeProcess> start_cpp(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"--cookie", cookie});
    return std::make_unique<CppNodeProcess>(epmd, cpp_sname, std::move(args));
  }

  /// The C node's process count (its `{cppnode, Node}` stats call), asked from `beam`; -1 and
  /// a test failure if there is no number.
  static long process_count(test_support::BeamNode& beam, const CppNodeProcess& cpp) {
    const std::string n = beam.eval("cppnode_fault:process_count(" + cpp.atom() + ").");
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) {
      ADD_FAILURE() << "no process count from " << cpp.node_name() << ": " << n;
      return -1;
    }
    return std::stol(n);
  }

  test_support::Epmd epmd;
  std::string cookie = test_support::unique_name("fault_cookie");
  std::string cpp_sname = test_support::unique_name("cpp");
};

/// Long-running load tests (1,000,000 messages each); run alone by ctest.
class Soak : public Fault {};

}  // namespace cppnode::fault_testing
