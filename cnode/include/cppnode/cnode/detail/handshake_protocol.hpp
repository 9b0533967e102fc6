// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cppnode/codec/result.hpp"

namespace cppnode::cnode::detail {

/// An MD5 digest as the handshake sends it.
using Digest = std::array<std::uint8_t, 16>;

/// MD5(cookie ++ decimal challenge), as dist_util:gen_digest/2.
[[nodiscard]] Digest handshake_digest(std::uint32_t challenge, std::string_view cookie);
/// Compares digests in constant time.
[[nodiscard]] bool digest_equal(const Digest& a, std::span<const std::uint8_t> b) noexcept;
/// A random 32-bit challenge from the OpenSSL generator.
[[nodiscard]] std::uint32_t random_challenge();
/// A random alive part for a peer that asks to be named (DFLAG_NAME_ME), as dist_util makes one.
[[nodiscard]] std::string random_alive();

/// Handshake messages, each with its 2-byte length header (the handshake uses {packet, 2}).
std::string encode_send_name(std::uint64_t flags, std::uint32_t creation, std::string_view name);
std::string encode_status(std::string_view status);
/// The `named:` status that gives a DFLAG_NAME_ME peer its name and creation.
std::string encode_named_status(std::string_view name, std::uint32_t creation);
std::string encode_challenge(std::uint64_t flags, std::uint32_t challenge, std::uint32_t creation,
                             std::string_view name);
std::string encode_challenge_reply(std::uint32_t challenge, const Digest& digest);
std::string encode_challenge_ack(const Digest& digest);

/// The initiator's `N` message (the body after the length header).
struct NameMessage {
  std::uint64_t flags = 0;
  std::uint32_t creation = 0;
  std::string name;
};
/// The acceptor's `N` challenge message.
struct ChallengeMessage {
  std::uint64_t flags = 0;
  std::uint32_t challenge = 0;
  std::uint32_t creation = 0;
  std::string name;
};
struct ChallengeReply {
  std::uint32_t challenge = 0;
  std::span<const std::uint8_t> digest;
};

/// Parsers fail with a message naming what was expected and what came.
codec::Result<NameMessage, std::string> parse_send_name(std::span<const std::uint8_t> body);
codec::Result<ChallengeMessage, std::string> parse_challenge(std::span<const std::uint8_t> body);
codec::Result<ChallengeReply, std::string> parse_challenge_reply(
    std::span<const std::uint8_t> body);
codec::Result<std::span<const std::uint8_t>, std::string> parse_challenge_ack(
    std::span<const std::uint8_t> body);
/// The text of an `s` status message.
codec::Result<std::string, std::string> parse_status(std::span<const std::uint8_t> body);

/// Whether `name` is `alive@host` with both parts non-empty and no second `@`.
[[nodiscard]] bool is_valid_node_name(std::string_view name) noexcept;

}  // namespace cppnode::cnode::detail
