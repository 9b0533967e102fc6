// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/handshake_protocol.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

#include "cppnode/cnode/detail/framing.hpp"

namespace cppnode::cnode::detail {
namespace {

std::string with_length(const std::string& body) {
  std::string out;
  out.reserve(body.size() + 2);
  put_u16(out, static_cast<std::uint16_t>(body.size()));
  out += body;
  return out;
}

std::string describe_tag(std::span<const std::uint8_t> body) {
  if (body.empty()) {
    return "an empty message";
  }
  const auto c = body[0];
  if (c >= 0x20 && c < 0x7f) {
    return std::string("a '") + static_cast<char>(c) + "' message";
  }
  return "a message starting with byte " + std::to_string(c);
}

}  // namespace

Digest handshake_digest(std::uint32_t challenge, std::string_view cookie) {
  const std::string decimal = std::to_string(challenge);
  Digest out{};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), cookie.data(), cookie.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), decimal.data(), decimal.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    throw std::runtime_error("OpenSSL MD5 failed (is MD5 disabled by the crypto policy?)");
  }
  return out;
}

bool digest_equal(const Digest& a, std::span<const std::uint8_t> b) noexcept {
  return b.size() == a.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::uint32_t random_challenge() {
  std::array<unsigned char, 4> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return get_u32(bytes.data());
}

std::string random_alive() {
  // As dist_util's dynamic names: 12 characters of A-Z and 0-9.
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::array<unsigned char, 12> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  std::string alive;
  for (unsigned char b : bytes) alive += alphabet[b % alphabet.size()];
  return alive;
}

std::string encode_send_name(std::uint64_t flags, std::uint32_t creation, std::string_view name) {
  std::string body(1, 'N');
  put_u64(body, flags);
  put_u32(body, creation);
  put_u16(body, static_cast<std::uint16_t>(name.size()));
  body += name;
  return with_length(body);
}

std::string encode_status(std::string_view status) {
  std::string body(1, 's');
  body += status;
  return with_length(body);
}

std::string encode_named_status(std::string_view name, std::uint32_t creation) {
  std::string body = "snamed:";
  put_u16(body, static_cast<std::uint16_t>(name.size()));
  body += name;
  put_u32(body, creation);
  return with_length(body);
}

std::string encode_challenge(std::uint64_t flags, std::uint32_t challenge, std::uint32_t creation,
                             std::string_view name) {
  std::string body(1, 'N');
  put_u64(body, flags);
  put_u32(body, challenge);
  put_u32(body, creation);
  put_u16(body, static_cast<std::uint16_t>(name.size()));
  body += name;
  return with_length(body);
}

std::string encode_challenge_reply(std::uint32_t challenge, const Digest& digest) {
  std::string body(1, 'r');
  put_u32(body, challenge);
  body.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return with_length(body);
}

std::string encode_challenge_ack(const Digest& digest) {
  std::string body(1, 'a');
  body.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return with_length(body);
}

codec::Result<NameMessage, std::string> parse_send_name(std::span<const std::uint8_t> body) {
  // 'N', Flags:64, Creation:32, NameLen:16, Name (extra bytes are ignored, as the spec says).
  if (body.empty() || body[0] != 'N') {
    return codec::unexpected("expected a send_name 'N' message (OTP 23+ handshake), got " +
                             describe_tag(body));
  }
  if (body.size() < 15) {
    return codec::unexpected("send_name message of " + std::to_string(body.size()) +
                             " bytes is shorter than its 15-byte header");
  }
  NameMessage m;
  m.flags = get_u64(&body[1]);
  m.creation = get_u32(&body[9]);
  const std::size_t len = get_u16(&body[13]);
  if (body.size() < 15 + len) {
    return codec::unexpected("send_name announces a " + std::to_string(len) +
                             "-byte name but carries " + std::to_string(body.size() - 15));
  }
  m.name.assign(reinterpret_cast<const char*>(&body[15]), len);
  return m;
}

codec::Result<ChallengeMessage, std::string> parse_challenge(std::span<const std::uint8_t> body) {
  // 'N', Flags:64, Challenge:32, Creation:32, NameLen:16, Name.
  if (body.empty() || body[0] != 'N') {
    return codec::unexpected("expected a challenge 'N' message, got " + describe_tag(body));
  }
  if (body.size() < 19) {
    return codec::unexpected("challenge message of " + std::to_string(body.size()) +
                             " bytes is shorter than its 19-byte header");
  }
  ChallengeMessage m;
  m.flags = get_u64(&body[1]);
  m.challenge = get_u32(&body[9]);
  m.creation = get_u32(&body[13]);
  const std::size_t len = get_u16(&body[17]);
  if (body.size() < 19 + len) {
    return codec::unexpected("challenge announces a " + std::to_string(len) +
                             "-byte name but carries " + std::to_string(body.size() - 19));
  }
  m.name.assign(reinterpret_cast<const char*>(&body[19]), len);
  return m;
}

codec::Result<ChallengeReply, std::string> parse_challenge_reply(
    std::span<const std::uint8_t> body) {
  if (body.size() != 21 || body[0] != 'r') {
    return codec::unexpected("expected a 21-byte challenge_reply 'r' message, got " +
                             describe_tag(body) + " of " + std::to_string(body.size()) + " bytes");
  }
  return ChallengeReply{get_u32(&body[1]), body.subspan(5)};
}

codec::Result<std::span<const std::uint8_t>, std::string> parse_challenge_ack(
    std::span<const std::uint8_t> body) {
  if (body.size() != 17 || body[0] != 'a') {
    return codec::unexpected("expected a 17-byte challenge_ack 'a' message, got " +
                             describe_tag(body) + " of " + std::to_string(body.size()) + " bytes");
  }
  return body.subspan(1);
}

codec::Result<std::string, std::string> parse_status(std::span<const std::uint8_t> body) {
  if (body.empty() || body[0] != 's') {
    return codec::unexpected("expected a status 's' message, got " + describe_tag(body));
  }
  return std::string(reinterpret_cast<const char*>(body.data() + 1), body.size() - 1);
}

bool is_valid_node_name(std::string_view name) noexcept {
  const auto at = name.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < name.size() &&
         name.find('@', at + 1) == std::string_view::npos;
}

}  // namespace cppnode::cnode::detail
