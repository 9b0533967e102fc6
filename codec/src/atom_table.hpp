// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cppnode/codec/atom.hpp"

namespace cppnode::codec::detail {

/// How an atom is written by `term_to_binary/1` of OTP 25.
enum class AtomCharset : unsigned char {
  ascii,   // ATOM_EXT, the UTF-8 bytes are the Latin-1 bytes
  latin1,  // ATOM_EXT with `latin1` bytes
  utf8,    // SMALL_ATOM_UTF8_EXT / ATOM_UTF8_EXT
};

/// One interned atom. Entries are never freed, so their addresses are stable.
struct AtomEntry {
  std::string name;  // UTF-8
  std::size_t hash = 0;
  AtomCharset charset = AtomCharset::ascii;
  std::string latin1;            // set when charset == latin1
  std::string etf;               // the atom as term_to_binary/1 writes it, tag included
  std::uint64_t short_text = 0;  // names of up to 8 bytes: the bytes, zero-padded, little-endian
};

struct AtomAccess {
  static const AtomEntry* entry(Atom a) noexcept { return a.entry_; }
  static Atom make(const AtomEntry* e) noexcept { return Atom(e); }
};

/// Interns text the caller has checked is valid UTF-8 of at most 255 characters, whatever the
/// atom limit (atoms the program names itself).
Atom intern_checked(std::string_view utf8);

/// As intern_checked, for decoded input: false, and the table unchanged, when the atom is new
/// and the table already holds atom_limit() atoms.
bool intern_limited(std::string_view utf8, Atom& out);

/// What refusing the new atom `text` at the atom limit says.
std::string atom_table_full_message(std::string_view text);

/// Interns Latin-1 text (ETF ATOM_EXT / SMALL_ATOM_EXT) of at most 255 bytes, for decoded input:
/// false when the atom is new and the table is full, as intern_limited.
bool intern_latin1(std::string_view latin1, Atom& out);

}  // namespace cppnode::codec::detail
