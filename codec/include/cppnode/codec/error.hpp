// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <system_error>

#include "cppnode/codec/result.hpp"

namespace cppnode::codec {

/// Why decoding failed.
enum class errc {
  truncated = 1,       // the input ended inside a term
  bad_version,         // the first byte is not 131
  unknown_tag,         // a tag byte this decoder does not know
  bad_value,           // a field holds a value the format forbids
  too_deep,            // nesting deeper than DecodeOptions::max_depth
  too_large,           // a size above a limit (decompressed size, atom length, ...)
  bad_atom,            // atom text that is not valid UTF-8/Latin-1, or over 255 characters
  duplicate_map_key,   // a map with the same key twice
  bad_compression,     // zlib data that does not inflate to the announced size
  trailing_bytes,      // bytes left after the term
  atom_table_full,     // a new atom while the atom table holds atom_limit() atoms
  compressed_refused,  // COMPRESSED (tag 80) where DecodeOptions::allow_compressed is false
};

const std::error_category& codec_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

/// A decoding error: the code, the byte offset where it was found, and a message naming what was
/// expected and what came.
struct Error {
  std::error_code code;
  std::size_t offset = 0;
  std::string message;
  /// "offset N: message".
  [[nodiscard]] std::string what() const;
};

}  // namespace cppnode::codec

template <>
struct std::is_error_code_enum<cppnode::codec::errc> : std::true_type {};
