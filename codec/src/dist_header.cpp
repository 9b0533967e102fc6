// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/dist_header.hpp"

#include <algorithm>

#include "atom_table.hpp"
#include "etf_tags.hpp"
#include "utf8.hpp"

namespace cppnode::codec {
namespace {

constexpr std::uint8_t dist_header_tag = 68;
constexpr unsigned new_entry_flag = 8;
constexpr unsigned segment_mask = 7;
constexpr unsigned long_atoms_flag = 1;

// A flag half byte: even indices in the low half of their byte, odd ones in the high half.
unsigned half_byte(std::span<const std::uint8_t> flags, std::size_t i) {
  return (flags[i / 2] >> (4 * (i % 2))) & 0xFU;
}

Unexpected<Error> header_error(errc code, std::size_t offset, std::string message) {
  return unexpected(
      Error{make_error_code(code), offset, "distribution header: " + std::move(message)});
}

}  // namespace

// ---- Receiving ----

Result<void> AtomCacheIn::read_header(std::span<const std::uint8_t> bytes, std::size_t& offset) {
  refs_.clear();
  new_in_header_ = 0;
  std::size_t p = offset;
  auto need = [&](std::size_t n, const char* what) -> Result<void> {
    if (bytes.size() - p >= n) return {};
    return header_error(errc::truncated, p,
                        "expected " + std::to_string(n) + " bytes for " + what + ", got " +
                            std::to_string(bytes.size() - p));
  };
  if (auto room = need(3, "131, 68 and the atom count"); !room) return room;
  if (bytes[p] != detail::tag::version || bytes[p + 1] != dist_header_tag) {
    return header_error(
        errc::bad_version, p,
        "expected 131, 68, got " + std::to_string(bytes[p]) + ", " + std::to_string(bytes[p + 1]));
  }
  const std::size_t count = bytes[p + 2];
  p += 3;
  if (count == 0) {
    offset = p;
    return {};
  }
  const std::size_t flag_bytes = count / 2 + 1;
  if (auto room = need(flag_bytes, "the flags"); !room) return room;
  const auto flags = bytes.subspan(p, flag_bytes);
  p += flag_bytes;
  const bool long_atoms = (half_byte(flags, count) & long_atoms_flag) != 0;
  refs_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const unsigned f = half_byte(flags, i);
    if (auto room = need(1, "an atom's cache index"); !room) return room;
    const auto entry = static_cast<std::uint16_t>(((f & segment_mask) << 8U) | bytes[p++]);
    if ((f & new_entry_flag) != 0) {
      if (auto room = need(long_atoms ? 2 : 1, "an atom's length"); !room) return room;
      std::size_t len = bytes[p++];
      if (long_atoms) len = (len << 8U) | bytes[p++];
      if (auto room = need(len, "an atom's text"); !room) return room;
      const std::string_view text(reinterpret_cast<const char*>(bytes.data() + p), len);
      const std::ptrdiff_t chars = detail::utf8_length(text);
      if (chars < 0 || static_cast<std::size_t>(chars) > Atom::max_chars) {
        return header_error(errc::bad_atom, p,
                            "expected UTF-8 atom text of at most 255 characters, got " +
                                std::to_string(len) + " bytes that are not");
      }
      p += len;
      ++new_in_header_;
      Entry& slot = entries_[entry];
      if (!(filled_[entry] && slot.text == text)) {
        slot.text.assign(text);
        slot.interned = false;
        filled_.set(entry);
      }
    } else if (!filled_[entry]) {
      return header_error(errc::bad_value, p - 1,
                          "expected a reference to a filled atom cache entry, got entry " +
                              std::to_string(entry) + ", which no header has filled");
    }
    refs_.push_back(entry);
  }
  offset = p;
  return {};
}

Result<Atom> AtomCacheIn::atom_at(std::size_t index) {
  if (index >= refs_.size()) {
    return unexpected(Error{make_error_code(errc::bad_value), 0,
                            "expected an ATOM_CACHE_REF index below the " +
                                std::to_string(refs_.size()) +
                                " atoms of the distribution header, got " + std::to_string(index)});
  }
  Entry& e = entries_[refs_[index]];
  if (!e.interned) {
    if (!detail::intern_limited(e.text, e.atom)) {
      return unexpected(Error{make_error_code(errc::atom_table_full), 0,
                              detail::atom_table_full_message(e.text)});
    }
    e.interned = true;
  }
  return e.atom;
}

// ---- Sending ----

void AtomCacheOut::clear_message() {
  for (const Ref& r : refs_) in_message_[r.entry] = 0;
  refs_.clear();
}

void AtomCacheOut::begin() {
  clear_message();
  body_.clear();
}

int AtomCacheOut::ref_of(Atom a) {
  const auto entry = static_cast<std::uint16_t>(a.hash() % atom_cache_size);
  if (const std::uint8_t taken = in_message_[entry]; taken != 0) {
    return refs_[taken - 1U].atom == a ? taken - 1 : -1;
  }
  if (refs_.size() == max_header_atoms) {
    return -1;
  }
  refs_.push_back({entry, a, !(filled_[entry] && entries_[entry] == a)});
  in_message_[entry] = static_cast<std::uint8_t>(refs_.size());
  return static_cast<int>(refs_.size() - 1);
}

void AtomCacheOut::finish(std::string& out) {
  const std::size_t count = refs_.size();
  out.push_back(static_cast<char>(detail::tag::version));
  out.push_back(static_cast<char>(dist_header_tag));
  out.push_back(static_cast<char>(count));
  if (count != 0) {
    const bool long_atoms = std::any_of(refs_.begin(), refs_.end(), [](const Ref& r) {
      return r.fresh && r.atom.name().size() > 255;
    });
    std::array<std::uint8_t, max_header_atoms / 2 + 1> flags{};
    for (std::size_t i = 0; i <= count; ++i) {
      const unsigned f = i == count ? (long_atoms ? long_atoms_flag : 0U)
                                    : (refs_[i].fresh ? new_entry_flag : 0U) |
                                          (static_cast<unsigned>(refs_[i].entry) >> 8U);
      flags[i / 2] = static_cast<std::uint8_t>(flags[i / 2] | (f << (4 * (i % 2))));
    }
    out.append(reinterpret_cast<const char*>(flags.data()), count / 2 + 1);
    for (const Ref& r : refs_) {
      out.push_back(static_cast<char>(r.entry & 0xFFU));
      if (r.fresh) {
        const std::string_view text = r.atom.name();
        if (long_atoms) out.push_back(static_cast<char>(text.size() >> 8U));
        out.push_back(static_cast<char>(text.size() & 0xFFU));
        out.append(text);
        entries_[r.entry] = r.atom;
        filled_.set(r.entry);
      }
    }
  }
  out.append(body_);
  clear_message();
  body_.clear();
  if (body_.capacity() > std::size_t{1} << 20) {
    std::string().swap(body_);  // do not keep a huge message's buffer per connection
  }
}

}  // namespace cppnode::codec
