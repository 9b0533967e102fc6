// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/epmd_protocol.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "fails_with.hpp"

namespace cppnode::cnode::detail {
namespace {

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(EpmdProtocol, Alive2RequestLayout) {
  const auto req = bytes(encode_alive2_req(0x1234, "cpp"));
  const std::vector<std::uint8_t> expected{0, 16, 120, 0x12, 0x34, 72,  0,   0, 6,
                                           0, 5,  0,   3,    'c',  'p', 'p', 0, 0};
  EXPECT_EQ(req, expected);
}

TEST(EpmdProtocol, PortPlease2RequestLayout) {
  EXPECT_EQ(bytes(encode_port_please2_req("ab")), (std::vector<std::uint8_t>{0, 3, 122, 'a', 'b'}));
}

TEST(EpmdProtocol, Alive2Responses) {
  EXPECT_EQ(parse_alive2_response(std::vector<std::uint8_t>{118, 0, 0x6b, 4, 0x44, 0xc0}).value(),
            0x6b0444c0U);
  EXPECT_EQ(parse_alive2_response(std::vector<std::uint8_t>{121, 0, 0, 3}).value(), 3U);
  EXPECT_TRUE(fails_with(parse_alive2_response(std::vector<std::uint8_t>{118, 1, 0, 0, 0, 0}),
                         "already in use"));
  EXPECT_TRUE(fails_with(parse_alive2_response(std::vector<std::uint8_t>{99}), "code 99"));
  EXPECT_EQ(alive2_response_size(118), 6U);
  EXPECT_EQ(alive2_response_size(5), 0U);
}

TEST(EpmdProtocol, Port2Responses) {
  const std::vector<std::uint8_t> ok{119, 0, 0x9c, 0x40, 77, 0, 0, 6, 0, 5, 0, 1, 'x', 0, 0};
  EXPECT_EQ(parse_port2_response(ok).value(), 0x9c40);
  EXPECT_TRUE(
      fails_with(parse_port2_response(std::vector<std::uint8_t>{119, 1}), "not registered"));
  EXPECT_TRUE(fails_with(parse_port2_response({}), "closed"));
  const std::vector<std::uint8_t> old{119, 0, 0x9c, 0x40, 77, 0, 0, 5, 0, 5, 0, 1, 'x', 0, 0};
  EXPECT_TRUE(fails_with(parse_port2_response(old), "5..5"));
}

}  // namespace
}  // namespace cppnode::cnode::detail
