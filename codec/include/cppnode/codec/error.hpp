// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

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

/// A value or an Error, in the spirit of `std::expected` (C++23).
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  /// The value; throws `std::runtime_error` with the error's text if there is none.
  [[nodiscard]] T& value() & {
    check();
    return std::get<0>(v_);
  }
  [[nodiscard]] const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  /// The error; only valid when `!has_value()`.
  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

 private:
  void check() const;
  std::variant<T, Error> v_;
};

[[noreturn]] void throw_error(const Error& e);

template <class T>
void Result<T>::check() const {
  if (!has_value()) throw_error(std::get<1>(v_));
}

}  // namespace cppnode::codec

template <>
struct std::is_error_code_enum<cppnode::codec::errc> : std::true_type {};
