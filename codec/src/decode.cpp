// SPDX-License-Identifier: Apache-2.0
// The recursive part of the decoder (terms that hold terms) and the public entry points.
#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "decoder.hpp"
#include "etf_tags.hpp"

namespace cppnode::codec {
namespace detail {
namespace {

// Iterates over a run of integer elements (SMALL_INTEGER_EXT / INTEGER_EXT) as int64 values, so
// that a vector of Terms can be built from it in one go.
struct IntRun {
  using iterator_category = std::forward_iterator_tag;
  using value_type = std::int64_t;
  using difference_type = std::ptrdiff_t;
  using pointer = const std::int64_t*;
  using reference = std::int64_t;

  const std::uint8_t* p = nullptr;
  std::size_t index = 0;
  std::size_t stride = 0;  // 2 or 5 when every element has the same tag, else 0

  std::int64_t operator*() const {
    if (*p == tag::small_integer) return p[1];
    return static_cast<std::int32_t>((std::uint32_t{p[1]} << 24) | (std::uint32_t{p[2]} << 16) |
                                     (std::uint32_t{p[3]} << 8) | std::uint32_t{p[4]});
  }
  IntRun& operator++() {
    // A fixed stride keeps the next address independent of the byte just loaded.
    p += stride != 0 ? stride : (*p == tag::small_integer ? 2 : 5);
    ++index;
    return *this;
  }
  IntRun operator++(int) {
    IntRun old = *this;
    ++*this;
    return old;
  }
  bool operator==(const IntRun& o) const { return index == o.index; }
};

[[gnu::noinline]] bool has_duplicate_key(const std::vector<std::pair<Term, Term>>& entries) {
  const std::size_t n = entries.size();
  if (n <= 16) {
    for (std::size_t i = 1; i < n; ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (entries[i].first == entries[j].first) return true;
      }
    }
    return false;
  }
  std::vector<std::pair<std::size_t, std::size_t>> hashes;
  hashes.reserve(n);
  for (std::size_t i = 0; i < n; ++i) hashes.emplace_back(entries[i].first.hash(), i);
  std::sort(hashes.begin(), hashes.end());
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n && hashes[j].first == hashes[i].first; ++j) {
      if (entries[hashes[i].second].first == entries[hashes[j].second].first) return true;
    }
  }
  return false;
}

}  // namespace

bool Decoder::term(Term& out, std::size_t depth) {
  if (p_ == end_) [[unlikely]] {
    return fail(errc::truncated, "expected a term, got end of input");
  }
  switch (*p_) {
    case tag::small_tuple:
      ++p_;
      if (!need(1, tag::small_tuple, "the arity")) return false;
      return tuple(u8(), out, depth);
    case tag::large_tuple:
      ++p_;
      if (!need(4, tag::large_tuple, "the arity")) return false;
      return tuple(u32(), out, depth);
    case tag::list:
      ++p_;
      return list(out, depth);
    case tag::map:
      ++p_;
      return map(out, depth);
    case tag::new_fun:
      ++p_;
      return fun(out, depth);
    default:
      return leaf(out);
  }
}

// Appends the next term to `out`. Common scalars are constructed in place: this is the hot path
// of every tuple and list.
bool Decoder::element(std::vector<Term>& out, std::size_t depth) {
  if (remaining() >= 2) [[likely]] {
    switch (*p_) {
      case tag::small_integer:
        out.emplace_back(static_cast<std::int64_t>(p_[1]));
        p_ += 2;
        return true;
      case tag::integer:
        if (remaining() < 5) break;
        ++p_;
        out.emplace_back(static_cast<std::int64_t>(static_cast<std::int32_t>(u32())));
        return true;
      case tag::atom_latin1:
      case tag::small_atom_latin1:
      case tag::atom_utf8:
      case tag::small_atom_utf8: {
        Atom a;
        if (!atom_body(u8(), a)) return false;
        out.emplace_back(a);
        return true;
      }
      case tag::nil:
        ++p_;
        out.emplace_back();
        return true;
      default:
        break;
    }
  }
  out.emplace_back();
  return term(out.back(), depth);
}

// SMALL_TUPLE_EXT / LARGE_TUPLE_EXT elements.
bool Decoder::tuple(std::size_t arity, Term& out, std::size_t depth) {
  if (arity > remaining()) return fail_count(arity, "tuple elements");
  if (arity > 0 && !enter(depth)) return false;
  auto& t = out.variant().emplace<Tuple>();
  t.elements.reserve(arity);
  for (std::size_t i = 0; i < arity; ++i) {
    if (!element(t.elements, depth + 1)) return false;
  }
  return true;
}

// LIST_EXT: Length(4) Elements Tail.
bool Decoder::list(Term& out, std::size_t depth) {
  if (!need(4, tag::list, "the length")) return false;
  const std::size_t n = u32();
  if (n >= remaining()) return fail_count(n, "list elements and a tail");
  if (!enter(depth)) return false;
  // Lists of small integers are charlists: when all of them are, build the String directly.
  std::size_t bytes = 0;
  while (bytes < n && 2 * bytes + 1 < remaining() && p_[2 * bytes] == tag::small_integer) ++bytes;
  if (n > 0 && bytes == n && 2 * n < remaining() && p_[2 * n] == tag::nil) {
    auto& s = out.variant().emplace<String>();
    s.bytes.resize(n);
    for (std::size_t i = 0; i < n; ++i) s.bytes[i] = static_cast<char>(p_[2 * i + 1]);
    p_ += 2 * n + 1;
    return true;
  }
  std::vector<Term> elems;
  elems.reserve(n);
  // Lists of integers are common enough for a path of their own: the run of leading integer
  // elements is measured, then built in one go.
  const std::uint8_t* run_end = p_;
  std::size_t run = 0;
  std::size_t stride = 0;
  if (*p_ == tag::small_integer || *p_ == tag::integer) {
    stride = *p_ == tag::small_integer ? 2 : 5;
    while (run < n && static_cast<std::size_t>(end_ - run_end) >= stride && *run_end == *p_) {
      run_end += stride;
      ++run;
    }
  }
  while (run < n) {  // the rest of a run that mixes both tags
    const auto left = static_cast<std::size_t>(end_ - run_end);
    if (left >= 2 && *run_end == tag::small_integer) {
      run_end += 2;
    } else if (left >= 5 && *run_end == tag::integer) {
      run_end += 5;
    } else {
      break;
    }
    stride = 0;
    ++run;
  }
  elems.insert(elems.end(), IntRun{p_, 0, stride}, IntRun{run_end, run, stride});
  p_ = run_end;
  for (std::size_t i = run; i < n; ++i) {
    if (!element(elems, depth + 1)) return false;
  }
  return list_tail(elems, out, depth);
}

// The tail of a LIST_EXT whose elements are in `elems`. A tail that is again a list
// ([a | [b]]) is the list [a, b]: this loops instead of recursing.
bool Decoder::list_tail(std::vector<Term>& elems, Term& out, std::size_t depth) {
  for (;;) {
    if (remaining() == 0) return fail(errc::truncated, "expected a list tail, got end of input");
    switch (*p_) {
      case tag::nil:
        ++p_;
        finish_list(elems, out);
        return true;
      case tag::string:
        if (!append_string_tail(elems)) return false;
        finish_list(elems, out);
        return true;
      case tag::list: {
        ++p_;
        if (!need(4, tag::list, "the length")) return false;
        const std::size_t n = u32();
        if (n >= remaining()) return fail_count(n, "list elements and a tail");
        if (elems.capacity() - elems.size() < n) {
          elems.reserve(std::max(elems.size() + n, 2 * elems.capacity()));
        }
        for (std::size_t i = 0; i < n; ++i) {
          if (!element(elems, depth + 1)) return false;
        }
        continue;
      }
      default: {
        if (elems.empty()) return term(out, depth + 1);  // [ | T] is T
        elems.emplace_back();
        if (!term(elems.back(), depth + 1)) return false;
        out.variant().emplace<List>(List{std::move(elems), false});
        return true;
      }
    }
  }
}

// MAP_EXT: Arity(4) then Arity key-value pairs; keys must be unique.
bool Decoder::map(Term& out, std::size_t depth) {
  const std::size_t start = position() - 1;
  if (!need(4, tag::map, "the arity")) return false;
  const std::size_t n = u32();
  if (n > remaining() / 2) return fail_count(n, "map entries");
  if (n > 0 && !enter(depth)) return false;
  auto& m = out.variant().emplace<Map>();
  m.entries.resize(n);
  for (auto& [k, v] : m.entries) {
    if (!term(k, depth + 1) || !term(v, depth + 1)) return false;
  }
  if (has_duplicate_key(m.entries)) return fail_duplicate_key(start);
  return true;
}

// NEW_FUN_EXT, kept as its exact bytes; its fields are checked and its free variables decoded
// (and dropped) so that a bad fun is an error here and not in the receiving node.
bool Decoder::fun(Term& out, std::size_t depth) {
  const std::uint8_t* tag_pos = p_ - 1;
  const std::size_t start = position() - 1;
  if (!need(4, tag::new_fun, "the size")) return false;
  const std::size_t size = u32();
  if (size < 29) return fail_fun_size(start, size, 29);
  if (size - 4 > remaining()) return fail_count(size - 4, "bytes of a fun");
  const std::uint8_t* fun_end = tag_pos + 1 + size;
  const std::uint8_t* saved_end = end_;
  end_ = fun_end;  // the fields must stay inside the announced size
  Fun f;
  FunHeader header;
  bool ok = fun_header(f, header) && (header.num_free == 0 || enter(depth));
  std::vector<Term> env;
  for (std::uint32_t i = 0; ok && i < header.num_free; ++i) {
    Term v;
    ok = term(v, depth + 1);
    if (ok && options_.atom_cache != nullptr) env.push_back(std::move(v));
  }
  end_ = saved_end;
  if (!ok) return false;
  if (p_ != fun_end) return fail_fun_size(start, size, static_cast<std::size_t>(p_ - tag_pos - 1));
  if (options_.atom_cache != nullptr) {
    // After a distribution header the bytes may name atoms by cache index, which means nothing
    // outside this message: the fun keeps an encoding with the atoms' text.
    reencode_fun(tag_pos, f, header, env);
  } else {
    f.encoded.assign(reinterpret_cast<const char*>(tag_pos), size + 1);
  }
  out = std::move(f);
  return true;
}

void Decoder::reencode_fun(const std::uint8_t* tag_pos, Fun& f, const FunHeader& header,
                           const std::vector<Term>& env) {
  std::string& e = f.encoded;
  e.push_back(static_cast<char>(tag::new_fun));
  e.append(4, '\0');  // the size, below
  // Arity, uniq, index and the number of free variables, as they came.
  e.append(reinterpret_cast<const char*>(tag_pos) + 5, 1 + 16 + 4 + 4);
  encode_body(Term(f.module), e);
  encode_body(Term(static_cast<std::int64_t>(header.old_index)), e);
  encode_body(Term(static_cast<std::int64_t>(header.old_uniq)), e);
  encode_body(Term(header.creator), e);
  for (const Term& v : env) encode_body(v, e);
  const auto size = static_cast<std::uint32_t>(e.size() - 1);
  for (std::size_t i = 0; i < 4; ++i) {
    e[1 + i] = static_cast<char>(size >> (8 * (3 - i)));
  }
}

}  // namespace detail

Result<Term> decode_prefix(std::span<const std::uint8_t> bytes, std::size_t& offset,
                           const DecodeOptions& options) {
  if (offset >= bytes.size()) {
    return unexpected(Error{make_error_code(errc::truncated), offset,
                            "expected the version byte 131, got end of input"});
  }
  if (bytes[offset] != detail::tag::version) {
    return unexpected(Error{make_error_code(errc::bad_version), offset,
                            "expected the version byte 131, got " + std::to_string(bytes[offset])});
  }
  const std::uint8_t* begin = bytes.data();
  detail::Decoder d(begin + offset + 1, begin + bytes.size(), options, {});
  Term out;
  const bool compressed = offset + 1 < bytes.size() && begin[offset + 1] == detail::tag::compressed;
  if (!(compressed ? d.compressed(out) : d.term(out, 0))) {
    Error e = d.take_error();
    // Offsets inside compressed data count from its start; others from the input's.
    if (e.message.rfind("in compressed data: ", 0) != 0) e.offset += offset + 1;
    return unexpected(std::move(e));
  }
  offset += 1 + d.position();
  return out;
}

Result<Term> decode_unversioned_prefix(std::span<const std::uint8_t> bytes, std::size_t& offset,
                                       const DecodeOptions& options) {
  if (offset >= bytes.size()) {
    return unexpected(
        Error{make_error_code(errc::truncated), offset, "expected a term, got end of input"});
  }
  const std::uint8_t* begin = bytes.data();
  detail::Decoder d(begin + offset, begin + bytes.size(), options, {});
  Term out;
  if (!d.term(out, 0)) {
    Error e = d.take_error();
    e.offset += offset;
    return unexpected(std::move(e));
  }
  offset += d.position();
  return out;
}

namespace {

// A term that must fill `bytes`, read by `prefix` (decode_prefix or decode_unversioned_prefix).
template <class Prefix>
Result<Term> decode_whole(std::span<const std::uint8_t> bytes, const DecodeOptions& options,
                          Prefix prefix) {
  std::size_t offset = 0;
  auto r = prefix(bytes, offset, options);
  if (r && offset != bytes.size()) {
    return unexpected(Error{make_error_code(errc::trailing_bytes), offset,
                            "expected the end of input after the term, got " +
                                std::to_string(bytes.size() - offset) + " more bytes"});
  }
  return r;
}

}  // namespace

Result<Term> decode(std::span<const std::uint8_t> bytes, const DecodeOptions& options) {
  return decode_whole(bytes, options, decode_prefix);
}

Result<Term> decode_unversioned(std::span<const std::uint8_t> bytes, const DecodeOptions& options) {
  return decode_whole(bytes, options, decode_unversioned_prefix);
}

}  // namespace cppnode::codec
