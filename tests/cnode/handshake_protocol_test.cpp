// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/handshake_protocol.hpp"

#include <gtest/gtest.h>

#include "cppnode/cnode/detail/dist_flags.hpp"
#include "cppnode/cnode/detail/framing.hpp"
#include "fails_with.hpp"

namespace cppnode::cnode::detail {
namespace {

std::vector<std::uint8_t> body_of(const std::string& message) {
  // Drop the 2-byte length after checking it.
  EXPECT_GE(message.size(), 2U);
  const auto* p = reinterpret_cast<const std::uint8_t*>(message.data());
  EXPECT_EQ(get_u16(p), message.size() - 2);
  return {p + 2, p + message.size()};
}

TEST(HandshakeDigest, MatchesErlangMd5) {
  // erlang:md5(["cookie" | integer_to_list(4294967295)]) on OTP 25.
  const Digest expected{222, 86, 255, 157, 17, 176, 113, 144, 91, 206, 89, 122, 133, 214, 127, 79};
  EXPECT_EQ(handshake_digest(4294967295U, "cookie"), expected);
  EXPECT_NE(handshake_digest(4294967295U, "cookiE"), expected);
  EXPECT_NE(handshake_digest(4294967294U, "cookie"), expected);
}

TEST(HandshakeDigest, ConstantTimeCompare) {
  const Digest d = handshake_digest(7, "x");
  EXPECT_TRUE(digest_equal(d, d));
  Digest other = d;
  other[15] ^= 1;
  EXPECT_FALSE(digest_equal(d, other));
  EXPECT_FALSE(digest_equal(d, std::span<const std::uint8_t>(d.data(), 15)));
}

TEST(HandshakeMessages, SendNameRoundTrip) {
  const auto body = body_of(encode_send_name(dflag::ours, 0xabcdef01, "a@b"));
  auto m = parse_send_name(body);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->flags, dflag::ours);
  EXPECT_EQ(m->creation, 0xabcdef01U);
  EXPECT_EQ(m->name, "a@b");
}

TEST(HandshakeMessages, ChallengeRoundTrip) {
  const auto body = body_of(encode_challenge(dflag::ours, 42, 7, "node@host"));
  auto m = parse_challenge(body);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->challenge, 42U);
  EXPECT_EQ(m->creation, 7U);
  EXPECT_EQ(m->name, "node@host");
  EXPECT_EQ(m->flags, dflag::ours);
}

TEST(HandshakeMessages, ReplyAckAndStatus) {
  const Digest d = handshake_digest(1, "c");
  auto reply_body = body_of(encode_challenge_reply(99, d));
  auto reply = parse_challenge_reply(reply_body);
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ(reply->challenge, 99U);
  EXPECT_TRUE(digest_equal(d, reply->digest));
  auto ack_body = body_of(encode_challenge_ack(d));
  auto ack = parse_challenge_ack(ack_body);
  ASSERT_TRUE(ack) << ack.error();
  EXPECT_TRUE(digest_equal(d, *ack));
  auto status_body = body_of(encode_status("ok_simultaneous"));
  EXPECT_EQ(parse_status(status_body).value(), "ok_simultaneous");
}

TEST(HandshakeMessages, BadInputIsAnErrorNamingWhatCame) {
  const std::vector<std::uint8_t> old_name{'n', 0, 5, 0, 0, 0, 0, 'a', '@', 'b'};
  EXPECT_TRUE(fails_with(parse_send_name(old_name), "'n'"));
  const std::vector<std::uint8_t> truncated{'N', 0, 0, 0};
  EXPECT_TRUE(fails_with(parse_send_name(truncated), "shorter"));
  auto body = body_of(encode_send_name(0, 0, "abc@def"));
  body.pop_back();
  EXPECT_TRUE(fails_with(parse_send_name(body), "7-byte name"));
  const std::vector<std::uint8_t> short_reply{'r', 0, 0, 0, 1};
  EXPECT_TRUE(fails_with(parse_challenge_reply(short_reply), "of 5 bytes"));
  const std::vector<std::uint8_t> binary{0x01};
  EXPECT_TRUE(fails_with(parse_status(binary), "byte 1"));
  EXPECT_TRUE(fails_with(parse_challenge_ack({}), "an empty message"));
}

TEST(HandshakeMessages, NodeNames) {
  EXPECT_TRUE(is_valid_node_name("a@b"));
  EXPECT_TRUE(is_valid_node_name("cppnode@host.example.com"));
  EXPECT_FALSE(is_valid_node_name("ab"));
  EXPECT_FALSE(is_valid_node_name("@b"));
  EXPECT_FALSE(is_valid_node_name("a@"));
  EXPECT_FALSE(is_valid_node_name("a@b@c"));
}

// The status that names a DFLAG_NAME_ME peer, as dist_util sends it (captured from OTP 25):
// 's' "named:" length:16 name creation:32 after the 2-byte length.
TEST(HandshakeProtocol, NamedStatusCarriesTheNameAndTheCreation) {
  EXPECT_EQ(encode_named_status("A5AXXBGMLDYG@vm", 0xa71336a3),
            std::string("\x00\x1c"
                        "snamed:\x00\x0f"
                        "A5AXXBGMLDYG@vm\xa7\x13\x36\xa3",
                        30));
  const std::string alive = random_alive();
  EXPECT_EQ(alive.size(), 12U);
  EXPECT_EQ(alive.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), std::string::npos);
  EXPECT_NE(random_alive(), alive);
}

TEST(DistFlags, OursCoverOtp25MandatoryAndNothingUnimplemented) {
  EXPECT_EQ(dflag::ours & dflag::mandatory_25, dflag::mandatory_25);
  EXPECT_EQ(missing_mandatory_flags(dflag::ours), "");
  for (auto unimplemented : {dflag::published, dflag::atom_cache, dflag::fragments,
                             dflag::send_sender, dflag::name_me, dflag::mandatory_25_digest}) {
    EXPECT_EQ(dflag::ours & unimplemented, 0U) << unimplemented;
  }
  EXPECT_NE(dflag::ours & dflag::spawn, 0U);                // OTP 23+ rpc:call needs it
  EXPECT_NE(dflag::ours & dflag::dist_hdr_atom_cache, 0U);  // what BEAM nodes use between them
  EXPECT_EQ(missing_mandatory_flags(dflag::mandatory_25_digest), "");
  EXPECT_EQ(missing_mandatory_flags(dflag::mandatory_25 & ~dflag::map_tag), "MAP_TAG");
}

}  // namespace
}  // namespace cppnode::cnode::detail
