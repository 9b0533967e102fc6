// SPDX-License-Identifier: Apache-2.0
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "atom_table.hpp"
#include "cppnode/codec/codec.hpp"
#include "cppnode/codec/dist_header.hpp"
#include "etf_tags.hpp"
#include "term_compare.hpp"

namespace cppnode::codec {
namespace {

namespace tag = detail::tag;

// Maps of up to this many keys are "flatmaps" in the BEAM, written in key order.
constexpr std::size_t flatmap_max_keys = 32;
// Port numbers above this need V4_PORT_EXT in OTP 25's term_to_binary.
constexpr std::uint64_t max_new_port_id = (std::uint64_t{1} << 28) - 1;

// Writes ETF into the caller's string. The string is grown in large steps and written through a
// cursor, which is much cheaper than appending byte by byte; the destructor trims it to what
// was written (also when an exception leaves early).
class Encoder {
 public:
  explicit Encoder(std::string& out, AtomCacheOut* cache = nullptr)
      : out_(out), pos_(out.size()), cache_(cache) {}
  ~Encoder() { out_.resize(pos_); }
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  void term(const Term& t) {
    std::visit([this](const auto& v) { this->value(v); }, t.variant());
  }

 private:
  // Room for `n` more bytes at the cursor.
  char* room(std::size_t n) {
    if (out_.size() - pos_ < n) out_.resize(std::max(pos_ + n, 2 * out_.size() + 64));
    return out_.data() + pos_;
  }
  static char* put8(char* p, std::uint8_t v) {
    *p = static_cast<char>(v);
    return p + 1;
  }
  static char* put16(char* p, std::uint16_t v) {
    p[0] = static_cast<char>(v >> 8);
    p[1] = static_cast<char>(v);
    return p + 2;
  }
  static char* put32(char* p, std::uint32_t v) {
    v = __builtin_bswap32(v);
    std::memcpy(p, &v, 4);
    return p + 4;
  }
  static char* put64(char* p, std::uint64_t v) {
    v = __builtin_bswap64(v);
    std::memcpy(p, &v, 8);
    return p + 8;
  }
  void done(const char* p) { pos_ = static_cast<std::size_t>(p - out_.data()); }
  void bytes(const void* data, std::size_t n) {
    char* p = room(n);
    std::memcpy(p, data, n);
    pos_ += n;
  }
  void tag_u32(std::uint8_t t, std::uint32_t v) {
    char* p = room(5);
    done(put32(put8(p, t), v));
  }

  void value(std::int64_t v) {
    char* p = room(11);
    if (v >= 0 && v <= 255) {
      p = put8(put8(p, tag::small_integer), static_cast<std::uint8_t>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      p = put32(put8(p, tag::integer), static_cast<std::uint32_t>(v));
    } else {
      std::uint64_t m = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
      char* len = put8(p, tag::small_big);
      p = put8(len + 1, v < 0 ? 1 : 0);
      std::uint8_t n = 0;
      for (; m != 0; m >>= 8, ++n) p = put8(p, static_cast<std::uint8_t>(m & 0xFF));
      put8(len, n);
    }
    done(p);
  }
  void value(const BigInt& v) {
    const std::size_t n = v.magnitude.size();
    if (n > max_integer_bytes) {  // every BEAM node would refuse it, and drop our connection
      throw std::invalid_argument("an integer has at most " + std::to_string(max_integer_bytes) +
                                  " bytes, got " + std::to_string(n));
    }
    char* p = room(6 + n);
    if (n <= 255) {
      p = put8(put8(p, tag::small_big), static_cast<std::uint8_t>(n));
    } else {
      p = put32(put8(p, tag::large_big), static_cast<std::uint32_t>(n));
    }
    p = put8(p, v.negative ? 1 : 0);
    std::memcpy(p, v.magnitude.data(), n);
    done(p + n);
  }
  void value(double v) {
    if (!std::isfinite(v)) throw std::invalid_argument("Erlang has no NaN or infinite floats");
    char* p = room(9);
    done(put64(put8(p, tag::new_float), std::bit_cast<std::uint64_t>(v)));
  }
  void value(Atom a) {
    if (cache_ != nullptr) {
      if (const int ref = cache_->ref_of(a); ref >= 0) {
        done(put8(put8(room(2), tag::atom_cache_ref), static_cast<std::uint8_t>(ref)));
        return;
      }
    }
    const std::string& etf = detail::AtomAccess::entry(a)->etf;
    bytes(etf.data(), etf.size());
  }
  void value(const Reference& r) {
    if (r.length > r.ids.size()) {
      throw std::invalid_argument("a reference has at most 5 ids, got " + std::to_string(r.length));
    }
    char* p = room(3);
    done(put16(put8(p, tag::newer_reference), r.length));
    value(r.node);
    p = room(4 + 4 * std::size_t{r.length});
    p = put32(p, r.creation);
    for (std::size_t i = 0; i < r.length; ++i) p = put32(p, r.ids[i]);
    done(p);
  }
  void value(const Fun& f) { bytes(f.encoded.data(), f.encoded.size()); }
  void value(const Export& e) {
    done(put8(room(1), tag::export_));
    value(e.module);
    value(e.function);
    done(put8(put8(room(2), tag::small_integer), e.arity));
  }
  void value(const Port& p) {
    const bool v4 = p.id > max_new_port_id;
    done(put8(room(1), v4 ? tag::v4_port : tag::new_port));
    value(p.node);
    char* q = room(12);
    q = v4 ? put64(q, p.id) : put32(q, static_cast<std::uint32_t>(p.id));
    done(put32(q, p.creation));
  }
  void value(const Pid& p) {
    done(put8(room(1), tag::new_pid));
    value(p.node);
    done(put32(put32(put32(room(12), p.id), p.serial), p.creation));
  }
  void value(const Tuple& t) {
    const std::size_t n = t.elements.size();
    if (n <= 255) {
      done(put8(put8(room(2), tag::small_tuple), static_cast<std::uint8_t>(n)));
    } else {
      tag_u32(tag::large_tuple, static_cast<std::uint32_t>(n));
    }
    for (const auto& e : t.elements) term(e);
  }
  void value(const Map& m) {
    tag_u32(tag::map, static_cast<std::uint32_t>(m.entries.size()));
    if (m.entries.size() > flatmap_max_keys || is_key_sorted(m)) {
      for (const auto& [k, v] : m.entries) {
        term(k);
        term(v);
      }
      return;
    }
    for (const auto* e : detail::sorted_entries(m)) {
      term(e->first);
      term(e->second);
    }
  }
  static bool is_key_sorted(const Map& m) {
    for (std::size_t i = 1; i < m.entries.size(); ++i) {
      if (std::is_gt(detail::compare(m.entries[i - 1].first, m.entries[i].first,
                                     detail::NumberOrder::exact))) {
        return false;
      }
    }
    return true;
  }
  static bool is_byte(const Term& t) {
    const auto* i = t.get_if<std::int64_t>();
    return i != nullptr && *i >= 0 && *i <= 255;
  }
  void value(const List& l) {
    const std::size_t n = l.elements.size();
    if (n == 0) {
      done(put8(room(1), tag::nil));
      return;
    }
    const std::size_t heads = l.proper ? n : n - 1;
    if (heads == 0) {  // [ | T] is T
      term(l.elements.back());
      return;
    }
    if (l.proper && n <= 0xFFFF) {
      bool all_bytes = true;
      for (const auto& e : l.elements) {
        if (!is_byte(e)) {
          all_bytes = false;
          break;
        }
      }
      if (all_bytes) {  // term_to_binary writes such lists as STRING_EXT
        char* p = put16(put8(room(3 + n), tag::string), static_cast<std::uint16_t>(n));
        for (const auto& e : l.elements) {
          p = put8(p, static_cast<std::uint8_t>(*e.get_if<std::int64_t>()));
        }
        done(p);
        return;
      }
    }
    tag_u32(tag::list, static_cast<std::uint32_t>(heads));
    for (std::size_t i = 0; i < heads; ++i) term(l.elements[i]);
    if (l.proper) {
      done(put8(room(1), tag::nil));
    } else {
      term(l.elements.back());
    }
  }
  void value(const String& s) {
    const std::size_t n = s.bytes.size();
    if (n == 0) {
      done(put8(room(1), tag::nil));
    } else if (n <= 0xFFFF) {
      char* p = put16(put8(room(3 + n), tag::string), static_cast<std::uint16_t>(n));
      done(std::copy_n(s.bytes.data(), n, p));
    } else {  // too long for STRING_EXT: a LIST_EXT of SMALL_INTEGER_EXT
      char* p = put32(put8(room(6 + 2 * n), tag::list), static_cast<std::uint32_t>(n));
      for (char c : s.bytes) p = put8(put8(p, tag::small_integer), static_cast<std::uint8_t>(c));
      done(put8(p, tag::nil));
    }
  }
  void value(const Binary& b) {
    const std::size_t n = b.bytes.size();
    char* p = put32(put8(room(5 + n), tag::binary), static_cast<std::uint32_t>(n));
    done(std::copy_n(b.bytes.data(), n, p));
  }
  void value(const BitString& b) {
    const std::size_t n = b.bytes.size();
    char* p = put32(put8(room(6 + n), tag::bit_binary), static_cast<std::uint32_t>(n));
    p = put8(p, b.bits_in_last);
    done(std::copy_n(b.bytes.data(), n, p));
  }

  std::string& out_;
  std::size_t pos_;
  AtomCacheOut* cache_;
};

}  // namespace

void encode_body(const Term& term, std::string& out) { Encoder(out).term(term); }

void encode_body(const Term& term, std::string& out, AtomCacheOut& cache) {
  Encoder(out, &cache).term(term);
}

void encode(const Term& term, std::string& out) {
  out.push_back(static_cast<char>(tag::version));
  encode_body(term, out);
}

std::string encode(const Term& term) {
  std::string out;
  encode(term, out);
  return out;
}

std::string encode_compressed(const Term& term, int level) {
  std::string body;
  encode_body(term, body);
  uLongf bound = compressBound(static_cast<uLong>(body.size()));
  std::string out;
  out.resize(6 + bound);
  out[0] = static_cast<char>(tag::version);
  out[1] = static_cast<char>(tag::compressed);
  const auto size = static_cast<std::uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) out[2 + i] = static_cast<char>(size >> (24 - 8 * i));
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data() + 6), &bound,
                           reinterpret_cast<const Bytef*>(body.data()),
                           static_cast<uLong>(body.size()), level);
  if (rc != Z_OK) throw std::runtime_error("zlib compress2 failed with code " + std::to_string(rc));
  // Like term_to_binary/2, fall back to the plain form when compression does not pay.
  if (6 + bound > 1 + body.size()) {
    out.assign(1, static_cast<char>(tag::version));
    out.append(body);
    return out;
  }
  out.resize(6 + bound);
  return out;
}

}  // namespace cppnode::codec
