// SPDX-License-Identifier: Apache-2.0
// The distribution header (ERTS User's Guide, "External Term Format", "Distribution Header"):
// what connections that negotiated DFLAG_DIST_HDR_ATOM_CACHE put in front of every message
// instead of the pass-through byte. It lists the atoms of the message's terms, each as an index
// into a per-connection cache of 2048 atoms that the headers themselves fill; the terms after it
// (without version bytes) name those atoms as ATOM_CACHE_REF (tag 82) with a one-byte index into
// that list. A BEAM node sends every message this way to a peer that offers the flag.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cppnode/codec/atom.hpp"
#include "cppnode/codec/error.hpp"
#include "cppnode/codec/result.hpp"
#include "cppnode/codec/term.hpp"

namespace cppnode::codec {

/// Entries in a connection's atom cache, each way (ERTS_ATOM_CACHE_SIZE).
inline constexpr std::size_t atom_cache_size = 2048;
/// Most atoms one distribution header lists (its count is one byte).
inline constexpr std::size_t max_header_atoms = 255;

/// The receiving half of a connection's atom cache: the entries the peer's headers filled. One
/// per connection, used by one thread at a time, headers read in the order the peer sent them.
/// A header's new atoms are kept as text and interned only when a decoded term uses them, so a
/// message that is never decoded (no receiver) brings no atom into the table.
class AtomCacheIn {
 public:
  /// Reads the distribution header at `offset` (from its 131, 68), enters its new atoms and
  /// advances `offset` to the first term after it; the header's atoms are then what
  /// ATOM_CACHE_REF indexes (DecodeOptions::atom_cache). Returns the Error of a header that does
  /// not parse, which leaves the cache unusable for the rest of the connection.
  Result<void> read_header(std::span<const std::uint8_t> bytes, std::size_t& offset);

  /// The atom ATOM_CACHE_REF `index` names in the last header read, interned on first use.
  /// Fails with bad_value for an index past the header's atoms, atom_table_full for a new atom
  /// while the table is full (the entry stays text, so a later message may still use it).
  Result<Atom> atom_at(std::size_t index);

  /// Atoms in the last header read, and how many of them it brought as text (new entries).
  [[nodiscard]] std::size_t header_atoms() const noexcept { return refs_.size(); }
  [[nodiscard]] std::size_t header_new_atoms() const noexcept { return new_in_header_; }

 private:
  struct Entry {
    std::string text;  // UTF-8, checked
    Atom atom;
    bool interned = false;
  };
  std::array<Entry, atom_cache_size> entries_{};
  std::bitset<atom_cache_size> filled_;
  std::vector<std::uint16_t> refs_;  // the last header's atoms, as cache indices
  std::size_t new_in_header_ = 0;
};

/// The sending half: which atom each cache entry holds at the peer, as our headers told it, and
/// the message being built. Messages must be finished in the order they are sent, one at a time.
class AtomCacheOut {
 public:
  /// Starts a message: its terms go into body() through raw bytes and encode_body(..., *this).
  void begin();
  /// The terms of the message being built, without version bytes.
  [[nodiscard]] std::string& body() noexcept { return body_; }
  /// Appends the header for the atoms the terms took, then the terms, and records the header's
  /// new entries as the peer's (a message begun but not finished changes nothing).
  void finish(std::string& out);

  /// For the encoder: the header index to write `a` as (ATOM_CACHE_REF), or -1 to write its
  /// text (the header is full, or another atom of this message took its cache entry).
  int ref_of(Atom a);

 private:
  struct Ref {
    std::uint16_t entry;
    Atom atom;
    bool fresh;  // not yet in the peer's entry: the header carries its text
  };
  void clear_message();

  std::array<Atom, atom_cache_size> entries_{};
  std::bitset<atom_cache_size> filled_;
  std::vector<Ref> refs_;
  // Per entry, 1 + the index of the ref that took it in the message being built, or 0.
  std::array<std::uint8_t, atom_cache_size> in_message_{};
  std::string body_;
};

}  // namespace cppnode::codec
