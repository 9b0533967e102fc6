// SPDX-License-Identifier: Apache-2.0
// The decoder's leaves (terms that hold no other terms), COMPRESSED, and error messages.
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "atom_table.hpp"
#include "cppnode/codec/dist_header.hpp"
#include "decoder.hpp"
#include "etf_tags.hpp"
#include "utf8.hpp"

namespace cppnode::codec::detail {
namespace {

// Deflate cannot compress better than about 1032:1, so a larger announced size is a lie that
// would only make us allocate.
constexpr std::size_t max_deflate_ratio = 1032;
// Erlang's atoms hold at most 255 characters of up to 4 UTF-8 bytes each.
constexpr std::size_t max_atom_utf8_bytes = std::size_t{255} * 4;

// Old formats carry a 2-bit creation.
bool is_tiny_creation(std::uint32_t c) { return c <= 3; }

std::string tag_text(std::uint8_t t) {
  return std::string(tag_name(t)) + " (tag " + std::to_string(t) + ")";
}

}  // namespace

// ---- Errors ----

bool Decoder::fail_at(std::size_t offset, std::error_code code, std::string message) {
  error_.code = code;
  error_.offset = offset;
  error_.message = context_.empty() ? std::move(message) : std::string(context_) + message;
  return false;
}

bool Decoder::fail(errc code, const char* message) { return fail_at(position(), code, message); }

bool Decoder::fail_need(std::size_t n, std::uint8_t t, const char* what) {
  return fail_at(position(), errc::truncated,
                 "expected " + std::to_string(n) + " bytes for " + what + " of " +
                     std::string(tag_name(t)) + ", got " + std::to_string(remaining()));
}

bool Decoder::fail_count(std::size_t n, const char* what) {
  return fail_at(position(), errc::truncated,
                 "expected " + std::to_string(n) + " " + what + ", got only " +
                     std::to_string(remaining()) + " bytes");
}

bool Decoder::fail_depth() {
  return fail_at(
      position(), errc::too_deep,
      "expected at most " + std::to_string(options_.max_depth) + " nested terms, got more");
}

bool Decoder::fail_atom_table_full(std::size_t start, std::string_view text) {
  return fail_at(start, errc::atom_table_full, atom_table_full_message(text));
}

bool Decoder::fail_duplicate_key(std::size_t start) {
  return fail_at(start, errc::duplicate_map_key, "expected unique map keys, got a key twice");
}

bool Decoder::fail_fun_size(std::size_t start, std::size_t size, std::size_t used) {
  return fail_at(start, errc::bad_value,
                 "expected NEW_FUN_EXT fields to fill its size of " + std::to_string(size) +
                     " bytes, got " + std::to_string(used));
}

// ---- Leaves ----

bool Decoder::leaf(Term& out) {
  const std::uint8_t t = u8();
  switch (t) {
    case tag::small_integer:
      if (!need(1, t, "the value")) return false;
      out = static_cast<std::int64_t>(u8());
      return true;
    case tag::integer:
      if (!need(4, t, "the value")) return false;
      out = static_cast<std::int64_t>(static_cast<std::int32_t>(u32()));
      return true;
    case tag::new_float: {
      if (!need(8, t, "the value")) return false;
      const auto d = std::bit_cast<double>(u64());
      if (!std::isfinite(d)) {
        return fail_at(position() - 9, errc::bad_value,
                       "expected a finite float in NEW_FLOAT_EXT, got NaN or infinity");
      }
      out = d;
      return true;
    }
    case tag::atom_latin1:
    case tag::small_atom_latin1:
    case tag::atom_utf8:
    case tag::small_atom_utf8:
    case tag::atom_cache_ref: {
      Atom a;
      if (!atom_body(t, a)) return false;
      out = a;
      return true;
    }
    case tag::nil:
      out.variant().emplace<List>();
      return true;
    case tag::string: {
      if (!need(2, t, "the length")) return false;
      const std::size_t len = u16();
      if (!need(len, t, "the bytes")) return false;
      if (len == 0) {
        out.variant().emplace<List>();
      } else {
        out.variant().emplace<String>().bytes.assign(reinterpret_cast<const char*>(p_), len);
      }
      p_ += len;
      return true;
    }
    case tag::binary: {
      if (!need(4, t, "the length")) return false;
      const std::size_t len = u32();
      if (!need(len, t, "the bytes")) return false;
      out.variant().emplace<Binary>().bytes.assign(reinterpret_cast<const char*>(p_), len);
      p_ += len;
      return true;
    }
    case tag::small_big:
    case tag::large_big:
      return big(t, out);
    case tag::float_text:
      return float_text(out);
    case tag::new_pid:
    case tag::pid: {
      Pid p;
      if (!pid(t, p)) return false;
      out = p;
      return true;
    }
    case tag::new_port:
    case tag::port:
    case tag::v4_port:
      return port(t, out);
    case tag::newer_reference:
    case tag::new_reference:
    case tag::reference:
      return reference(t, out);
    case tag::bit_binary:
      return bit_binary(out);
    case tag::export_:
      return export_fun(out);
    case tag::compressed:
      --p_;
      return fail(errc::bad_value, "expected COMPRESSED only right after the version byte");
    default:
      --p_;
      return fail_at(position(), errc::unknown_tag,
                     "expected an ETF tag, got unknown tag " + std::to_string(t));
  }
}

bool Decoder::atom(Atom& out, const char* role) {
  if (remaining() == 0) {
    return fail_at(position(), errc::truncated,
                   std::string("expected an atom for ") + role + ", got end of input");
  }
  const std::uint8_t t = u8();
  if (t != tag::atom_latin1 && t != tag::small_atom_latin1 && t != tag::atom_utf8 &&
      t != tag::small_atom_utf8 && t != tag::atom_cache_ref) {
    --p_;
    return fail_at(position(), errc::bad_value,
                   std::string("expected an atom for ") + role + ", got " + tag_text(t));
  }
  return atom_body(t, out);
}

// ATOM_EXT, SMALL_ATOM_EXT (Latin-1), ATOM_UTF8_EXT, SMALL_ATOM_UTF8_EXT, ATOM_CACHE_REF; the
// tag is read.
bool Decoder::atom_body(std::uint8_t t, Atom& out) {
  const std::size_t start = position() - 1;
  if (t == tag::atom_cache_ref) {
    if (!need(1, t, "the index")) return false;
    const std::size_t index = u8();
    if (options_.atom_cache == nullptr) {
      return fail_at(start, errc::bad_value,
                     "expected ATOM_CACHE_REF only after a distribution header, got it alone");
    }
    auto atom = options_.atom_cache->atom_at(index);
    if (!atom) {
      const std::error_code code = atom.error().code;
      return fail_at(start, code, std::move(atom).error().message);
    }
    out = *atom;
    return true;
  }
  const bool small = t == tag::small_atom_latin1 || t == tag::small_atom_utf8;
  if (!need(small ? 1 : 2, t, "the length")) return false;
  const std::size_t len = small ? u8() : u16();
  if (!need(len, t, "the text")) return false;
  const std::string_view text(reinterpret_cast<const char*>(p_), len);
  if (t == tag::atom_latin1 || t == tag::small_atom_latin1) {
    if (len > Atom::max_chars) {
      return fail_at(start, errc::bad_atom,
                     "expected at most 255 characters in an atom, got " + std::to_string(len));
    }
    if (!intern_latin1(text, out)) return fail_atom_table_full(start, text);
    p_ += len;
    return true;
  }
  bool ascii = true;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  const std::ptrdiff_t chars = ascii                       ? static_cast<std::ptrdiff_t>(len)
                               : len > max_atom_utf8_bytes ? -2
                                                           : utf8_length(text);
  if (chars == -1) {
    return fail_at(start, errc::bad_atom, "expected UTF-8 atom text, got invalid UTF-8");
  }
  if (chars < 0 || static_cast<std::size_t>(chars) > Atom::max_chars) {
    return fail_at(
        start, errc::bad_atom,
        "expected at most 255 characters in an atom, got more (" + std::to_string(len) + " bytes)");
  }
  if (!intern_limited(text, out)) return fail_atom_table_full(start, text);
  p_ += len;
  return true;
}

// SMALL_BIG_EXT / LARGE_BIG_EXT: integers that fit in int64 become int64, like the BEAM's.
bool Decoder::big(std::uint8_t t, Term& out) {
  std::size_t n;
  if (t == tag::small_big) {
    if (!need(2, t, "the header")) return false;
    n = u8();
  } else {
    if (!need(5, t, "the header")) return false;
    n = u32();
  }
  const bool negative = u8() != 0;
  if (!need(n, t, "the digits")) return false;
  if (n > max_integer_bytes) {
    return fail_at(position() - 6, errc::too_large,
                   "expected at most " + std::to_string(max_integer_bytes) +
                       " digit bytes in LARGE_BIG_EXT, got " + std::to_string(n));
  }
  const std::uint8_t* digits = p_;
  p_ += n;
  while (n > 0 && digits[n - 1] == 0) --n;  // leading zero digits are allowed
  if (n <= 8) {
    std::uint64_t m = 0;
    for (std::size_t i = n; i-- > 0;) m = (m << 8) | digits[i];
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (!negative && m <= max) {
      out = static_cast<std::int64_t>(m);
      return true;
    }
    if (negative && m <= max + 1) {
      out = static_cast<std::int64_t>(0 - m);
      return true;
    }
  }
  auto& b = out.variant().emplace<BigInt>();
  b.negative = negative;
  b.magnitude.assign(digits, digits + n);
  return true;
}

// FLOAT_EXT: 31 bytes of "%.20e" text. Accepts what OTP 25's binary_to_term accepts: an optional
// sign, digits, '.' or ',', digits, an optional exponent, then NUL padding or the end.
bool Decoder::float_text(Term& out) {
  const std::size_t start = position() - 1;
  if (!need(31, tag::float_text, "the text")) return false;
  const char* s = reinterpret_cast<const char*>(p_);
  p_ += 31;
  const auto len = static_cast<std::size_t>(std::find(s, s + 31, '\0') - s);
  std::string text(s, len);
  auto bad = [&] {
    return fail_at(start, errc::bad_value, "expected a float in FLOAT_EXT, got \"" + text + "\"");
  };
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t b = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i > b;
  };
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  if (!digits()) return bad();
  if (i >= text.size() || (text[i] != '.' && text[i] != ',')) return bad();
  text[i++] = '.';
  if (!digits()) return bad();
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return bad();
  }
  if (i != text.size()) return bad();
  const char* first = text.data() + (text[0] == '+' ? 1 : 0);
  double v = 0;
  const auto r = std::from_chars(first, text.data() + text.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    // Underflow gives 0.0 as in OTP; overflow is an error.
    const auto e = text.find_first_of("eE");
    if (e == std::string::npos || text[e + 1] != '-') return bad();
    v = text[0] == '-' ? -0.0 : 0.0;
  } else if (r.ec != std::errc() || !std::isfinite(v)) {
    return bad();
  }
  out = v;
  return true;
}

// BIT_BINARY_EXT: Len(4) Bits(1) Data. OTP takes Bits 1..8, or 0 with no data.
bool Decoder::bit_binary(Term& out) {
  const std::size_t start = position() - 1;
  if (!need(5, tag::bit_binary, "the header")) return false;
  const std::size_t len = u32();
  const std::uint8_t bits = u8();
  if (!need(len, tag::bit_binary, "the bytes")) return false;
  if (len == 0 ? bits != 0 : (bits == 0 || bits > 8)) {
    return fail_at(start, errc::bad_value,
                   "expected 1..8 bits in the last byte of BIT_BINARY_EXT (0 when empty), got " +
                       std::to_string(bits) + " with " + std::to_string(len) + " bytes");
  }
  const char* b = reinterpret_cast<const char*>(p_);
  p_ += len;
  if (len == 0 || bits == 8) {
    out.variant().emplace<Binary>().bytes.assign(b, len);
    return true;
  }
  auto& bs = out.variant().emplace<BitString>();
  bs.bytes.assign(b, len);
  bs.bits_in_last = bits;
  // The unused low bits are not part of the value.
  bs.bytes.back() =
      static_cast<char>(static_cast<unsigned char>(bs.bytes.back()) & (0xFF00U >> bits));
  return true;
}

// NEW_PID_EXT / PID_EXT; the tag is read.
bool Decoder::pid(std::uint8_t t, Pid& out) {
  const std::size_t start = position() - 1;
  if (!atom(out.node, "the node of a pid")) return false;
  if (!need(t == tag::new_pid ? 12 : 9, t, "the fields")) return false;
  out.id = u32();
  out.serial = u32();
  out.creation = t == tag::new_pid ? u32() : u8();
  if (t == tag::pid && !is_tiny_creation(out.creation)) {
    return fail_at(start, errc::bad_value,
                   "expected creation 0..3 in PID_EXT, got " + std::to_string(out.creation));
  }
  return true;
}

// V4_PORT_EXT / NEW_PORT_EXT / PORT_EXT; the tag is read.
bool Decoder::port(std::uint8_t t, Term& out) {
  const std::size_t start = position() - 1;
  Port p;
  if (!atom(p.node, "the node of a port")) return false;
  if (t == tag::v4_port) {
    if (!need(12, t, "the fields")) return false;
    p.id = u64();
    p.creation = u32();
  } else {
    if (!need(t == tag::new_port ? 8 : 5, t, "the fields")) return false;
    p.id = u32();
    p.creation = t == tag::new_port ? u32() : u8();
    if (t == tag::port && !is_tiny_creation(p.creation)) {
      return fail_at(start, errc::bad_value,
                     "expected creation 0..3 in PORT_EXT, got " + std::to_string(p.creation));
    }
  }
  out = p;
  return true;
}

// NEWER_REFERENCE_EXT / NEW_REFERENCE_EXT / REFERENCE_EXT; the tag is read.
bool Decoder::reference(std::uint8_t t, Term& out) {
  const std::size_t start = position() - 1;
  Reference r;
  std::size_t len = 1;
  if (t != tag::reference) {
    if (!need(2, t, "the length")) return false;
    len = u16();
    // OTP takes NEWER_REFERENCE_EXT without ids but not NEW_REFERENCE_EXT.
    const std::size_t min = t == tag::newer_reference ? 0 : 1;
    if (len < min || len > r.ids.size()) {
      return fail_at(start, errc::bad_value,
                     "expected " + std::to_string(min) + "..5 ids in " + std::string(tag_name(t)) +
                         ", got " + std::to_string(len));
    }
  }
  if (!atom(r.node, "the node of a reference")) return false;
  if (t == tag::reference) {
    if (!need(5, t, "the fields")) return false;
    r.ids[0] = u32();
    r.creation = u8();
  } else if (t == tag::new_reference) {
    if (!need(1 + 4 * len, t, "the fields")) return false;
    r.creation = u8();
    for (std::size_t i = 0; i < len; ++i) r.ids[i] = u32();
  } else {
    if (!need(4 + 4 * len, t, "the fields")) return false;
    r.creation = u32();
    for (std::size_t i = 0; i < len; ++i) r.ids[i] = u32();
  }
  r.length = static_cast<std::uint8_t>(len);
  if (t != tag::newer_reference) {
    if (!is_tiny_creation(r.creation)) {
      return fail_at(start, errc::bad_value,
                     "expected creation 0..3 in " + std::string(tag_name(t)) + ", got " +
                         std::to_string(r.creation));
    }
    if (r.ids[0] >= (1U << 18)) {
      return fail_at(start, errc::bad_value,
                     "expected an 18-bit first id in " + std::string(tag_name(t)) + ", got " +
                         std::to_string(r.ids[0]));
    }
  }
  out = r;
  return true;
}

// SMALL_INTEGER_EXT or INTEGER_EXT as an unsigned 32-bit field of a fun.
bool Decoder::small_uint(std::uint32_t& out, const char* role) {
  if (remaining() >= 2 && *p_ == tag::small_integer) {
    ++p_;
    out = u8();
    return true;
  }
  if (remaining() >= 5 && *p_ == tag::integer) {
    ++p_;
    out = u32();
    return true;
  }
  if (remaining() == 0 || *p_ == tag::small_integer || *p_ == tag::integer) {
    return fail_at(position(), errc::truncated,
                   std::string("expected an integer for ") + role + ", got end of input");
  }
  return fail_at(position(), errc::bad_value,
                 std::string("expected an integer for ") + role + ", got " + tag_text(*p_));
}

// EXPORT_EXT: Module Function Arity (SMALL_INTEGER_EXT); the tag is read.
bool Decoder::export_fun(Term& out) {
  Export e;
  if (!atom(e.module, "the module of an export") ||
      !atom(e.function, "the function of an export")) {
    return false;
  }
  if (remaining() >= 2 && *p_ == tag::small_integer) {
    ++p_;
    e.arity = u8();
    out = e;
    return true;
  }
  if (remaining() >= 5 && *p_ == tag::integer) {
    ++p_;
    return fail_at(position() - 1, errc::bad_value,
                   "expected an arity 0..255 in EXPORT_EXT, got " + std::to_string(u32()));
  }
  return fail(remaining() < 2 ? errc::truncated : errc::bad_value,
              "expected a SMALL_INTEGER_EXT arity in EXPORT_EXT");
}

// NEW_FUN_EXT up to its free variables: Size(4) Arity(1) Uniq(16) Index(4) NumFree(4) Module
// OldIndex OldUniq Pid. The caller has limited end_ to the announced size.
bool Decoder::fun_header(Fun& f, FunHeader& header) {
  p_ += 1 + 16 + 4;  // arity, uniq, index: the size check made room for them
  header.num_free = u32();
  if (!atom(f.module, "the module of a fun") ||
      !small_uint(header.old_index, "the index of a fun") ||
      !small_uint(header.old_uniq, "the uniq of a fun")) {
    return false;
  }
  if (remaining() == 0 || (*p_ != tag::new_pid && *p_ != tag::pid)) {
    return fail(errc::bad_value, "expected the pid of a fun");
  }
  if (!pid(u8(), header.creator)) return false;
  if (header.num_free > remaining()) return fail_count(header.num_free, "free variables in a fun");
  return true;
}

bool Decoder::fun_parts(FunHeader& header, std::vector<Term>* env) {
  if (remaining() < 5 || *p_ != tag::new_fun) return false;
  const std::uint8_t* end = end_;
  ++p_;
  const std::size_t size = u32();
  if (size < 29 || size - 4 > remaining()) return false;
  end_ = p_ + size - 4;
  Fun f;
  if (!fun_header(f, header)) return false;
  if (env != nullptr) {
    env->resize(header.num_free);
    for (auto& v : *env) {
      if (!term(v, 1)) return false;
    }
  }
  end_ = end;
  return true;
}

// The STRING_EXT tail of a LIST_EXT: its bytes are more elements.
bool Decoder::append_string_tail(std::vector<Term>& elems) {
  ++p_;
  if (!need(2, tag::string, "the length")) return false;
  const std::size_t len = u16();
  if (!need(len, tag::string, "the bytes")) return false;
  elems.reserve(std::max(elems.size() + len, 2 * elems.capacity()));
  for (std::size_t i = 0; i < len; ++i) elems.emplace_back(static_cast<std::int64_t>(p_[i]));
  p_ += len;
  return true;
}

// A proper list of bytes is a String, as if it had come as STRING_EXT.
void Decoder::finish_list(std::vector<Term>& elems, Term& out) {
  bool bytes = !elems.empty();
  for (const auto& e : elems) {
    const auto* i = e.get_if<std::int64_t>();
    if (i == nullptr || *i < 0 || *i > 255) {
      bytes = false;
      break;
    }
  }
  if (!bytes) {
    out.variant().emplace<List>(List{std::move(elems), true});
    return;
  }
  auto& s = out.variant().emplace<String>();
  s.bytes.resize(elems.size());
  for (std::size_t i = 0; i < elems.size(); ++i) {
    s.bytes[i] = static_cast<char>(*elems[i].get_if<std::int64_t>());
  }
}

// COMPRESSED: UncompressedSize(4) then a zlib stream holding the term.
bool Decoder::compressed(Term& out) {
  const std::size_t start = position();
  if (!options_.allow_compressed) {
    return fail_at(start, errc::compressed_refused,
                   "expected an uncompressed term (distribution messages never carry COMPRESSED), "
                   "got COMPRESSED (tag 80)");
  }
  ++p_;
  if (!need(4, tag::compressed, "the uncompressed size")) return false;
  const std::size_t size = u32();
  if (size > options_.max_decompressed_size) {
    return fail_at(start, errc::too_large,
                   "expected an uncompressed size of at most " +
                       std::to_string(options_.max_decompressed_size) + " bytes, got " +
                       std::to_string(size));
  }
  if (size > remaining() * max_deflate_ratio + 64) {
    return fail_at(start, errc::bad_compression,
                   "expected an uncompressed size that " + std::to_string(remaining()) +
                       " compressed bytes can hold, got " + std::to_string(size));
  }
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return fail(errc::bad_compression, "zlib failed to start");
  zs.next_in = const_cast<Bytef*>(p_);
  zs.avail_in =
      static_cast<uInt>(std::min<std::size_t>(remaining(), std::numeric_limits<uInt>::max()));
  // Grow the output as data really inflates rather than trusting the announced size.
  std::string buf(std::min<std::size_t>(size + 1, std::size_t{64} * 1024), '\0');
  std::size_t produced = 0;
  int rc = Z_OK;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data() + produced);
    zs.avail_out = static_cast<uInt>(buf.size() - produced);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = buf.size() - zs.avail_out;
    if (rc != Z_OK || produced > size) break;
    if (zs.avail_out == 0) buf.resize(std::min(buf.size() * 2, size + 1));
  }
  const std::size_t consumed = zs.total_in;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != size) {
    return fail_at(start, errc::bad_compression,
                   "expected zlib data inflating to " + std::to_string(size) + " bytes, got " +
                       (rc == Z_STREAM_END || rc == Z_OK ? std::to_string(produced) + " bytes"
                                                         : std::string("invalid zlib data")));
  }
  p_ += consumed;
  const auto* b = reinterpret_cast<const std::uint8_t*>(buf.data());
  Decoder inner(b, b + size, options_, "in compressed data: ");
  if (!inner.term(out, 0)) {
    error_ = inner.take_error();
    return false;
  }
  if (inner.remaining() != 0) {
    return fail_at(start, errc::trailing_bytes,
                   "expected the compressed term to fill " + std::to_string(size) + " bytes, got " +
                       std::to_string(inner.remaining()) + " left over");
  }
  return true;
}

bool fun_parts(const Fun& f, FunHeader& header, std::vector<Term>* env) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(f.encoded.data());
  const DecodeOptions options;
  Decoder d(b, b + f.encoded.size(), options, {});
  return d.fun_parts(header, env);
}

}  // namespace cppnode::codec::detail

namespace cppnode::codec {

std::uint32_t Fun::index() const {
  detail::FunHeader header;
  return detail::fun_parts(*this, header, nullptr) ? header.old_index : 0;
}

std::uint32_t Fun::uniq() const {
  detail::FunHeader header;
  return detail::fun_parts(*this, header, nullptr) ? header.old_uniq : 0;
}

}  // namespace cppnode::codec
