// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "cppnode/codec/codec.hpp"

namespace cppnode::codec::detail {

/// The fields of NEW_FUN_EXT after its module, up to its free variables.
struct FunHeader {
  std::uint32_t num_free = 0;
  std::uint32_t old_index = 0;
  std::uint32_t old_uniq = 0;
  Pid creator;
};

/// Reads ETF terms from a byte range. Every failure records an Error and returns false.
///
/// The recursive functions (term, element, tuple, list, map, fun; decode.cpp) keep small stack
/// frames: everything else (leaf terms in decode_leaf.cpp, error messages) lives in functions
/// that are not inlined into them, so that max_depth levels of nesting fit in little stack.
class Decoder {
 public:
  Decoder(const std::uint8_t* begin, const std::uint8_t* end, const DecodeOptions& options,
          std::string_view context)
      : begin_(begin), p_(begin), end_(end), options_(options), context_(context) {}

  /// Decodes the term at the current position into `out`, `depth` containers deep.
  bool term(Term& out, std::size_t depth);
  /// COMPRESSED (tag 80) at the current position, which only the top level may hold.
  bool compressed(Term& out);
  /// The header of the NEW_FUN_EXT at the current position and, if `env` is given, its free
  /// variables.
  bool fun_parts(FunHeader& header, std::vector<Term>* env);

  [[nodiscard]] std::size_t position() const { return static_cast<std::size_t>(p_ - begin_); }
  [[nodiscard]] std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  [[nodiscard]] Error take_error() { return std::move(error_); }

 private:
  // ---- Recursive (decode.cpp) ----
  bool element(std::vector<Term>& out, std::size_t depth);
  bool tuple(std::size_t arity, Term& out, std::size_t depth);
  bool list(Term& out, std::size_t depth);
  bool list_tail(std::vector<Term>& elems, Term& out, std::size_t depth);
  bool map(Term& out, std::size_t depth);
  bool fun(Term& out, std::size_t depth);
  static void reencode_fun(const std::uint8_t* tag_pos, Fun& f, const FunHeader& header,
                           const std::vector<Term>& env);

  // ---- Leaves (decode_leaf.cpp), never inlined into the recursion ----
  [[gnu::noinline]] bool leaf(Term& out);
  [[gnu::noinline]] bool atom(Atom& out, const char* role);
  [[gnu::noinline]] bool atom_body(std::uint8_t t, Atom& out);
  bool big(std::uint8_t t, Term& out);
  bool float_text(Term& out);
  bool bit_binary(Term& out);
  bool pid(std::uint8_t t, Pid& out);
  bool port(std::uint8_t t, Term& out);
  bool reference(std::uint8_t t, Term& out);
  bool export_fun(Term& out);
  bool small_uint(std::uint32_t& out, const char* role);
  [[gnu::noinline]] bool fun_header(Fun& f, FunHeader& header);
  [[gnu::noinline]] bool append_string_tail(std::vector<Term>& elems);
  [[gnu::noinline]] static void finish_list(std::vector<Term>& elems, Term& out);

  // ---- Errors (decode_leaf.cpp), cold ----
  [[gnu::cold, gnu::noinline]] bool fail_at(std::size_t offset, std::error_code code,
                                            std::string message);
  [[gnu::cold, gnu::noinline]] bool fail(errc code, const char* message);
  [[gnu::cold, gnu::noinline]] bool fail_need(std::size_t n, std::uint8_t t, const char* what);
  [[gnu::cold, gnu::noinline]] bool fail_count(std::size_t n, const char* what);
  [[gnu::cold, gnu::noinline]] bool fail_depth();
  [[gnu::cold, gnu::noinline]] bool fail_duplicate_key(std::size_t start);
  [[gnu::cold, gnu::noinline]] bool fail_atom_table_full(std::size_t start, std::string_view text);
  [[gnu::cold, gnu::noinline]] bool fail_fun_size(std::size_t start, std::size_t size,
                                                  std::size_t used);

  bool need(std::size_t n, std::uint8_t t, const char* what) {
    if (remaining() >= n) [[likely]] {
      return true;
    }
    return fail_need(n, t, what);
  }
  bool enter(std::size_t depth) {
    if (depth < options_.max_depth) [[likely]] {
      return true;
    }
    return fail_depth();
  }

  std::uint8_t u8() { return *p_++; }
  std::uint16_t u16() {
    const auto v = static_cast<std::uint16_t>((p_[0] << 8) | p_[1]);
    p_ += 2;
    return v;
  }
  std::uint32_t u32() {
    std::uint32_t v;
    std::memcpy(&v, p_, 4);
    p_ += 4;
    return __builtin_bswap32(v);
  }
  std::uint64_t u64() {
    std::uint64_t v;
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return __builtin_bswap64(v);
  }

  const std::uint8_t* begin_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  const DecodeOptions& options_;
  std::string_view context_;
  Error error_;
};

/// The header of a fun and, if `env` is given, its free variables, decoded from its bytes; false
/// if they do not hold them.
bool fun_parts(const Fun& f, FunHeader& header, std::vector<Term>* env);

}  // namespace cppnode::codec::detail
