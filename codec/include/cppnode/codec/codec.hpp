// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cppnode/codec/error.hpp"
#include "cppnode/codec/term.hpp"

namespace cppnode::codec {

class AtomCacheIn;
class AtomCacheOut;

/// Limits that keep hostile input from costing more than it is worth.
///
/// Whatever the input, decoding returns a term or an Error (offset, and what was expected and
/// what came); it never throws, crashes or reads out of bounds. Besides these options:
/// - a length or count field may never exceed the bytes that remain, so memory stays within a
///   small multiple of the input (about 48 bytes per term, the size of a Term);
/// - atoms hold at most 255 characters of valid UTF-8 (Latin-1 for ATOM_EXT/SMALL_ATOM_EXT);
/// - a COMPRESSED term is inflated as it really expands, never beyond its announced size nor
///   beyond what deflate can produce from the bytes given (1032:1);
/// - an integer (SMALL_BIG_EXT / LARGE_BIG_EXT) holds at most max_integer_bytes digit bytes,
///   leading zero bytes included, as in OTP 25;
/// - an atom not yet in the atom table is refused (errc::atom_table_full) once the table holds
///   atom_limit() atoms (atom.hpp);
/// - input OTP 25's binary_to_term rejects is rejected, and so are maps with a key twice.
struct DecodeOptions {
  /// Deepest nesting of tuples, lists, maps and fun environments (a list's tail does not
  /// count, so long improper chains are fine). Decoding recurses once per level: the default
  /// uses well under 1 MiB of stack even with AddressSanitizer.
  std::size_t max_depth = 512;
  /// Largest size a compressed term (ETF tag 80) may inflate to.
  std::size_t max_decompressed_size = std::size_t{64} << 20;
  /// Whether COMPRESSED (tag 80) is accepted at all, as binary_to_term does. The BEAM refuses it
  /// in distribution messages (term_to_binary never compresses there) and closes the connection;
  /// false gives errc::compressed_refused before anything is inflated.
  bool allow_compressed = true;
  /// The connection's atom cache, holding the atoms that the distribution header in front of
  /// the term lists, which ATOM_CACHE_REF (tag 82) indexes (dist_header.hpp). Null outside
  /// distribution, where tag 82 is an error.
  AtomCacheIn* atom_cache = nullptr;
};

/// Most digit bytes an integer may have: OTP 25 on a 64-bit host holds at most 524,287 64-bit
/// digits (2^33,554,368 - 1); binary_to_term refuses a longer SMALL_BIG_EXT / LARGE_BIG_EXT and
/// integer arithmetic beyond it raises system_limit. `encode` refuses a longer BigInt too.
inline constexpr std::size_t max_integer_bytes = std::size_t{524'287} * 8;

/// Decodes one term in External Term Format, starting with the version byte 131, that must fill
/// `bytes` exactly. Never throws on bad input: the Error names the offset and the problem.
Result<Term> decode(std::span<const std::uint8_t> bytes, const DecodeOptions& options = {});

/// Decodes one term starting with 131 at `offset` and advances `offset` past it (for packets that
/// carry several terms back to back, like distribution messages).
Result<Term> decode_prefix(std::span<const std::uint8_t> bytes, std::size_t& offset,
                           const DecodeOptions& options = {});

/// Decodes one term without the version byte at `offset` (the terms after a distribution
/// header have none) and advances `offset` past it. COMPRESSED cannot appear there.
Result<Term> decode_unversioned_prefix(std::span<const std::uint8_t> bytes, std::size_t& offset,
                                       const DecodeOptions& options = {});
/// The same for one term that must fill `bytes` exactly (a payload after a distribution header).
Result<Term> decode_unversioned(std::span<const std::uint8_t> bytes,
                                const DecodeOptions& options = {});

/// Appends the term, with the leading 131, as `term_to_binary/1` of OTP 25 encodes it (maps of
/// more than 32 keys are encoded in their stored order, which `binary_to_term` accepts).
/// Throws `std::invalid_argument` for what Erlang cannot hold: NaN or infinite floats,
/// references with more than 5 ids, integers of more than max_integer_bytes.
void encode(const Term& term, std::string& out);
/// Appends the term without the leading 131.
void encode_body(const Term& term, std::string& out);
/// The same, for the terms after a distribution header: atoms that `cache` takes into the header
/// being built are written as ATOM_CACHE_REF (dist_header.hpp).
void encode_body(const Term& term, std::string& out, AtomCacheOut& cache);
/// The term as `term_to_binary/1` bytes.
std::string encode(const Term& term);

/// `term_to_binary(T, [compressed])`: the zlib-compressed form (ETF tag 80) at the default level,
/// or the plain form when compressing does not make it smaller, as `term_to_binary/2` does.
std::string encode_compressed(const Term& term, int level = 6);

/// The bytes of a `std::string` (such as `encode`'s output) as decoder input.
inline std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace cppnode::codec
