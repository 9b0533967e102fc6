// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cppnode/codec/error.hpp"
#include "cppnode/codec/term.hpp"

namespace cppnode::codec {

/// Limits that keep hostile input from costing more than it is worth.
struct DecodeOptions {
  /// Deepest nesting of tuples, lists, maps and fun environments.
  std::size_t max_depth = 512;
  /// Largest size a compressed term (ETF tag 80) may inflate to.
  std::size_t max_decompressed_size = std::size_t{64} << 20;
};

/// Decodes one term in External Term Format, starting with the version byte 131, that must fill
/// `bytes` exactly. Never throws on bad input: the Error names the offset and the problem.
Result<Term> decode(std::span<const std::uint8_t> bytes, const DecodeOptions& options = {});

/// Decodes one term starting with 131 at `offset` and advances `offset` past it (for packets that
/// carry several terms back to back, like distribution messages).
Result<Term> decode_prefix(std::span<const std::uint8_t> bytes, std::size_t& offset,
                           const DecodeOptions& options = {});

/// Appends the term, with the leading 131, as `term_to_binary/1` of OTP 25 encodes it (maps of
/// more than 32 keys are encoded in their stored order, which `binary_to_term` accepts).
void encode(const Term& term, std::string& out);
/// Appends the term without the leading 131.
void encode_body(const Term& term, std::string& out);
/// The term as `term_to_binary/1` bytes.
std::string encode(const Term& term);

/// `term_to_binary(T, [compressed])`: the zlib-compressed form (ETF tag 80) at the default level.
std::string encode_compressed(const Term& term, int level = 6);

}  // namespace cppnode::codec
