// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the epmd answers the node parses: the ALIVE2 answer to its registration
// (read as epmd_client.cpp does: one byte, then as many as alive2_response_size says, into a
// 6-byte buffer) and the PORT2_RESP to a port lookup (everything until epmd closes, at most 1024
// bytes, as the outgoing handshake reads it). Each ends in a value or an error message.
//
// Run it (clang, ASan + UBSan), seeded from captured traffic (tests/data/fuzz_seeds/epmd):
//   cmake --build build-fuzz --target epmd_fuzz
//   ctest --test-dir build-fuzz -R epmd_fuzz_run --output-on-failure
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cppnode/cnode/detail/epmd_protocol.hpp"
#include "cppnode/cnode/detail/framing.hpp"
#include "fuzz_check.hpp"

namespace detail = cppnode::cnode::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, std::min<std::size_t>(size, 1024));
  if (auto port = detail::parse_port2_response(in)) {
    FUZZ_CHECK(in.size() >= 12 && in[0] == detail::epmd::port2_resp && in[1] == 0);
    FUZZ_CHECK(*port == detail::get_u16(&in[2]));
  } else {
    FUZZ_CHECK(!port.error().empty());
  }

  if (in.empty()) return 0;
  std::array<std::uint8_t, 6> reply{};
  reply[0] = in[0];
  const std::size_t need = detail::alive2_response_size(in[0]);
  FUZZ_CHECK(need <= reply.size());
  if (need != 0) {
    if (in.size() < need) return 0;  // "epmd's answer to the registration is truncated"
    std::copy_n(in.begin(), need, reply.begin());
  }
  if (auto creation = detail::parse_alive2_response(reply)) {
    FUZZ_CHECK(need != 0 && reply[1] == 0);
  } else {
    FUZZ_CHECK(!creation.error().empty());
  }
  // The parser must also cope with exactly the bytes that came, however few.
  if (auto creation = detail::parse_alive2_response(in.first(std::min(in.size(), need)));
      !creation) {
    FUZZ_CHECK(!creation.error().empty());
  }
  return 0;
}
