// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <compare>
#include <cstddef>
#include <string_view>

namespace cppnode::codec {

namespace detail {
struct AtomEntry;
struct AtomAccess;
}  // namespace detail

/// An interned Erlang atom: copying and `==` are pointer operations; `<=>` compares the text
/// (UTF-8 byte order is code point order, as Erlang orders atoms).
/// Thread-safe: atoms may be created from any thread. Interned atoms live until exit, as on the
/// BEAM; the decoder brings new ones in only while the table holds fewer than atom_limit().
class Atom {
 public:
  /// The empty atom `''`.
  Atom() noexcept;
  /// Interns `utf8`. Throws `std::invalid_argument` if it is longer than 255 characters or not
  /// valid UTF-8 (the decoder checks first and returns an error instead). Not bound by
  /// atom_limit(): it is for the names a program uses, never for text from peers.
  explicit Atom(std::string_view utf8);

  [[nodiscard]] std::string_view name() const noexcept;
  [[nodiscard]] std::size_t hash() const noexcept;

  friend bool operator==(Atom a, Atom b) noexcept { return a.entry_ == b.entry_; }
  friend std::strong_ordering operator<=>(Atom a, Atom b) noexcept;

  /// Number of characters (code points), at most 255.
  static constexpr std::size_t max_chars = 255;

 private:
  friend struct detail::AtomAccess;
  explicit Atom(const detail::AtomEntry* entry) noexcept : entry_(entry) {}
  const detail::AtomEntry* entry_;
};

/// The BEAM's default atom table size (`erl +t`), and so ours.
inline constexpr std::size_t default_atom_limit = 1'048'576;

/// Atoms in the process-wide table now (the empty atom included).
[[nodiscard]] std::size_t atom_count() noexcept;
/// The table size beyond which decoding refuses new atoms (errc::atom_table_full): existing
/// atoms keep decoding, and the BEAM's crash at its own limit becomes one refused term.
/// `Atom(text)` is not bound by it. An atom of 12-20 characters takes 224 bytes of heap for good
/// (AtomLimit.MemoryPerAtom), so the default bounds the table near 230 MiB.
[[nodiscard]] std::size_t atom_limit() noexcept;
/// Sets atom_limit() (process-wide; at least the current count takes effect at once).
void set_atom_limit(std::size_t limit) noexcept;

namespace detail {
/// The text of an atom literal, as a template argument.
template <std::size_t N>
struct AtomText {
  char chars[N]{};
  constexpr AtomText(const char (&text)[N]) {  // NOLINT(google-explicit-constructor)
    for (std::size_t i = 0; i < N; ++i) chars[i] = text[i];
  }
  [[nodiscard]] constexpr std::string_view view() const { return {chars, N - 1}; }
};
}  // namespace detail

inline namespace literals {
/// `"ok"_a` is the atom `ok`: the one way to write an atom the program names. Each literal is
/// interned once, at its first use, so `"ok"_a` in a hot path costs what a static would.
/// Text known only at run time is `Atom(text)`.
template <detail::AtomText Text>
Atom operator""_a() {
  static const Atom atom(Text.view());
  return atom;
}
}  // namespace literals

}  // namespace cppnode::codec
