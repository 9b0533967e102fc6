// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

namespace cppnode::codec::detail {

/// ETF tag bytes (ERTS User's Guide, "External Term Format").
namespace tag {
inline constexpr std::uint8_t version = 131;
inline constexpr std::uint8_t new_float = 70;
inline constexpr std::uint8_t bit_binary = 77;
inline constexpr std::uint8_t compressed = 80;
inline constexpr std::uint8_t atom_cache_ref = 82;
inline constexpr std::uint8_t new_pid = 88;
inline constexpr std::uint8_t new_port = 89;
inline constexpr std::uint8_t newer_reference = 90;
inline constexpr std::uint8_t small_integer = 97;
inline constexpr std::uint8_t integer = 98;
inline constexpr std::uint8_t float_text = 99;
inline constexpr std::uint8_t atom_latin1 = 100;
inline constexpr std::uint8_t reference = 101;
inline constexpr std::uint8_t port = 102;
inline constexpr std::uint8_t pid = 103;
inline constexpr std::uint8_t small_tuple = 104;
inline constexpr std::uint8_t large_tuple = 105;
inline constexpr std::uint8_t nil = 106;
inline constexpr std::uint8_t string = 107;
inline constexpr std::uint8_t list = 108;
inline constexpr std::uint8_t binary = 109;
inline constexpr std::uint8_t small_big = 110;
inline constexpr std::uint8_t large_big = 111;
inline constexpr std::uint8_t new_fun = 112;
inline constexpr std::uint8_t export_ = 113;
inline constexpr std::uint8_t new_reference = 114;
inline constexpr std::uint8_t small_atom_latin1 = 115;
inline constexpr std::uint8_t map = 116;
inline constexpr std::uint8_t atom_utf8 = 118;
inline constexpr std::uint8_t small_atom_utf8 = 119;
inline constexpr std::uint8_t v4_port = 120;
}  // namespace tag

/// The ETF name of a tag, for error messages.
constexpr std::string_view tag_name(std::uint8_t t) noexcept {
  switch (t) {
    case tag::new_float:
      return "NEW_FLOAT_EXT";
    case tag::bit_binary:
      return "BIT_BINARY_EXT";
    case tag::compressed:
      return "COMPRESSED";
    case tag::atom_cache_ref:
      return "ATOM_CACHE_REF";
    case tag::new_pid:
      return "NEW_PID_EXT";
    case tag::new_port:
      return "NEW_PORT_EXT";
    case tag::newer_reference:
      return "NEWER_REFERENCE_EXT";
    case tag::small_integer:
      return "SMALL_INTEGER_EXT";
    case tag::integer:
      return "INTEGER_EXT";
    case tag::float_text:
      return "FLOAT_EXT";
    case tag::atom_latin1:
      return "ATOM_EXT";
    case tag::reference:
      return "REFERENCE_EXT";
    case tag::port:
      return "PORT_EXT";
    case tag::pid:
      return "PID_EXT";
    case tag::small_tuple:
      return "SMALL_TUPLE_EXT";
    case tag::large_tuple:
      return "LARGE_TUPLE_EXT";
    case tag::nil:
      return "NIL_EXT";
    case tag::string:
      return "STRING_EXT";
    case tag::list:
      return "LIST_EXT";
    case tag::binary:
      return "BINARY_EXT";
    case tag::small_big:
      return "SMALL_BIG_EXT";
    case tag::large_big:
      return "LARGE_BIG_EXT";
    case tag::new_fun:
      return "NEW_FUN_EXT";
    case tag::export_:
      return "EXPORT_EXT";
    case tag::new_reference:
      return "NEW_REFERENCE_EXT";
    case tag::small_atom_latin1:
      return "SMALL_ATOM_EXT";
    case tag::map:
      return "MAP_EXT";
    case tag::atom_utf8:
      return "ATOM_UTF8_EXT";
    case tag::small_atom_utf8:
      return "SMALL_ATOM_UTF8_EXT";
    case tag::v4_port:
      return "V4_PORT_EXT";
    default:
      return "unknown tag";
  }
}

}  // namespace cppnode::codec::detail
