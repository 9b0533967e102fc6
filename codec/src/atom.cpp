// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/atom.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "atom_table.hpp"
#include "utf8.hpp"

namespace cppnode::codec {
namespace detail {
namespace {

// Atoms are short: an inline multiply-mix over 8-byte words beats the library's out-of-line hash
// on the decoder's hot path. The last 1..7 bytes are read with overlapping loads, not a loop.
std::uint64_t load64(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

std::uint64_t load32(const char* p) {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

std::size_t hash_text(std::string_view s) noexcept {
  constexpr std::uint64_t k = 0x9E3779B97F4A7C15ULL;
  std::uint64_t h = s.size() * k;
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    h = (h ^ load64(p)) * k;
    h ^= h >> 29;
  }
  if (n >= 4) {
    h = (h ^ ((load32(p) << 32) | load32(p + n - 4))) * k;
  } else if (n > 0) {
    const auto b = [p](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; };
    h = (h ^ ((b(0) << 16) | (b(n / 2) << 8) | b(n - 1))) * k;
  }
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ULL;
  h ^= h >> 32;
  return static_cast<std::size_t>(h);
}

// Text of up to 8 bytes as one word: byte i in bits 8i..8i+7, the rest zero. Reads only the text.
std::uint64_t short_word(std::string_view s) noexcept {
  const char* p = s.data();
  const std::size_t n = s.size();
  if (n >= 4) return load32(p) | (load32(p + n - 4) << (8 * (n - 4)));
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < n; ++i) {
    w |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  }
  return w;
}

// Equality of an interned name with candidate text of the same length.
bool same_text(const std::string& name, std::string_view s) noexcept {
  const std::size_t n = s.size();
  if (name.size() != n) return false;
  if (n >= 8) return std::memcmp(name.data(), s.data(), n) == 0;
  if (n >= 4) {
    return load32(name.data()) == load32(s.data()) &&
           load32(name.data() + n - 4) == load32(s.data() + n - 4);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (name[i] != s[i]) return false;
  }
  return true;
}

// OTP 25 writes atoms that Latin-1 can hold as ATOM_EXT, others as (SMALL_)ATOM_UTF8_EXT.
void set_etf(AtomEntry& e) {
  const std::string& text = e.charset == AtomCharset::latin1 ? e.latin1 : e.name;
  const std::size_t n = text.size();
  if (e.charset != AtomCharset::utf8) {
    e.etf = {static_cast<char>(100), static_cast<char>(n >> 8), static_cast<char>(n & 0xFF)};
  } else if (n <= 255) {
    e.etf = {static_cast<char>(119), static_cast<char>(n)};
  } else {
    e.etf = {static_cast<char>(118), static_cast<char>(n >> 8), static_cast<char>(n & 0xFF)};
  }
  e.etf += text;
}

AtomEntry* make_entry(std::string_view utf8, std::size_t h) {
  auto* e = new AtomEntry{std::string(utf8), h, AtomCharset::ascii, {}, {}, 0};
  for (char c : utf8) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      e->charset = AtomCharset::latin1;
      break;
    }
  }
  if (e->charset == AtomCharset::latin1) {
    std::size_t i = 0;
    while (i < utf8.size()) {
      const std::uint32_t cp = utf8_next(utf8, i);
      if (cp > 0xFF) {
        e->charset = AtomCharset::utf8;
        e->latin1.clear();
        break;
      }
      e->latin1.push_back(static_cast<char>(cp));
    }
  }
  set_etf(*e);
  if (utf8.size() <= 8) e->short_text = short_word(utf8);
  return e;
}

const AtomEntry* empty_entry() noexcept {
  static const AtomEntry entry = [] {
    AtomEntry e{std::string(), hash_text({}), AtomCharset::ascii, {}, {}, 0};
    set_etf(e);
    return e;
  }();
  return &entry;
}

// The global table. Never destroyed: atoms may be used by other static objects during exit.
class AtomTable {
 public:
  AtomTable() { map_.emplace(std::string_view(), empty_entry()); }

  // Null when `limited`, the atom is new and the table holds limit_ atoms already.
  const AtomEntry* intern(std::string_view utf8, std::size_t h, bool limited) {
    {
      std::shared_lock lock(mutex_);
      auto it = map_.find(utf8);
      if (it != map_.end()) return it->second;
    }
    std::unique_lock lock(mutex_);
    auto it = map_.find(utf8);
    if (it != map_.end()) return it->second;
    if (limited && map_.size() >= limit_.load(std::memory_order_relaxed)) return nullptr;
    const AtomEntry* e = make_entry(utf8, h);
    map_.emplace(std::string_view(e->name), e);
    return e;
  }

  std::size_t size() {
    std::shared_lock lock(mutex_);
    return map_.size();
  }
  [[nodiscard]] std::size_t limit() const { return limit_.load(std::memory_order_relaxed); }
  void set_limit(std::size_t limit) { limit_.store(limit, std::memory_order_relaxed); }

 private:
  std::shared_mutex mutex_;
  std::unordered_map<std::string_view, const AtomEntry*> map_;
  std::atomic<std::size_t> limit_{default_atom_limit};
};

AtomTable& table() {
  static auto* t = new AtomTable();
  return *t;
}

// Most atoms a thread sees are the same few dozen: a direct-mapped per-thread cache avoids the
// shared lock on the decoder's hot path. Names of up to 8 bytes (ok, error, put, reply, ...)
// have a cache of their own, indexed and checked by the name as one word: no hash of the text
// and no second load to compare it.
constexpr std::size_t cache_size = 1024;
thread_local std::array<const AtomEntry*, cache_size> tls_cache{};
thread_local std::array<const AtomEntry*, cache_size> tls_short_cache{};

std::size_t short_slot(std::uint64_t word, std::size_t size) noexcept {
  constexpr std::uint64_t k = 0x9E3779B97F4A7C15ULL;
  return static_cast<std::size_t>(((word + size) * k) >> 54) & (cache_size - 1);
}

}  // namespace

namespace {

const AtomEntry* intern_long(std::string_view utf8, bool limited) {
  const std::size_t h = hash_text(utf8);
  const AtomEntry*& slot = tls_cache[h & (cache_size - 1)];
  const AtomEntry* e = slot;
  if (e != nullptr && e->hash == h && same_text(e->name, utf8)) return e;
  e = table().intern(utf8, h, limited);
  if (e != nullptr) slot = e;
  return e;
}

const AtomEntry* intern(std::string_view utf8, bool limited) {
  if (utf8.size() > 8) return intern_long(utf8, limited);
  const std::uint64_t word = short_word(utf8);
  const AtomEntry*& slot = tls_short_cache[short_slot(word, utf8.size())];
  const AtomEntry* e = slot;
  if (e != nullptr && e->short_text == word && e->name.size() == utf8.size()) return e;
  e = intern_long(utf8, limited);
  if (e != nullptr) slot = e;
  return e;
}

}  // namespace

Atom intern_checked(std::string_view utf8) { return AtomAccess::make(intern(utf8, false)); }

std::string atom_table_full_message(std::string_view text) {
  return "expected an existing atom (the atom table is full at its limit of " +
         std::to_string(atom_limit()) + " atoms), got the new atom '" + std::string(text) + "'";
}

bool intern_limited(std::string_view utf8, Atom& out) {
  const AtomEntry* e = intern(utf8, true);
  if (e == nullptr) return false;
  out = AtomAccess::make(e);
  return true;
}

bool intern_latin1(std::string_view latin1, Atom& out) {
  bool ascii = true;
  for (char c : latin1) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return intern_limited(latin1, out);
  std::string utf8;
  utf8.reserve(latin1.size() * 2);
  for (char c : latin1) append_utf8(utf8, static_cast<unsigned char>(c));
  return intern_limited(utf8, out);
}

}  // namespace detail

Atom::Atom() noexcept : entry_(detail::empty_entry()) {}

Atom::Atom(std::string_view utf8) {
  const std::ptrdiff_t n = detail::utf8_length(utf8);
  if (n < 0) throw std::invalid_argument("atom text is not valid UTF-8");
  if (static_cast<std::size_t>(n) > max_chars) {
    throw std::invalid_argument("atom has " + std::to_string(n) +
                                " characters, expected at most 255");
  }
  entry_ = detail::AtomAccess::entry(detail::intern_checked(utf8));
}

std::size_t atom_count() noexcept { return detail::table().size(); }

std::size_t atom_limit() noexcept { return detail::table().limit(); }

void set_atom_limit(std::size_t limit) noexcept { detail::table().set_limit(limit); }

std::string_view Atom::name() const noexcept { return entry_->name; }

std::size_t Atom::hash() const noexcept { return entry_->hash; }

std::strong_ordering operator<=>(Atom a, Atom b) noexcept {
  if (a.entry_ == b.entry_) return std::strong_ordering::equal;
  const int c = a.name().compare(b.name());
  return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
}

}  // namespace cppnode::codec
