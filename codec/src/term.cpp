// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/term.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "decoder.hpp"
#include "term_compare.hpp"

namespace cppnode::codec {
namespace {

using SO = std::strong_ordering;
using detail::NumberOrder;

template <class T>
SO cmp3(const T& a, const T& b) {
  if (a < b) return SO::less;
  if (b < a) return SO::greater;
  return SO::equal;
}

SO from_int(int c) { return c < 0 ? SO::less : (c > 0 ? SO::greater : SO::equal); }

// Numbers and atoms, etc. share one rank per class of Erlang's term order.
int kind_rank(Kind k) {
  return k == Kind::float_ ? static_cast<int>(Kind::integer) : static_cast<int>(k);
}

// ---- Numbers ----

int cmp_magnitude(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

SO cmp_big(const BigInt& a, const BigInt& b) {
  if (a.negative != b.negative) return a.negative ? SO::less : SO::greater;
  const int c = cmp_magnitude(a.magnitude, b.magnitude);
  return from_int(a.negative ? -c : c);
}

constexpr double two_pow_63 = 9223372036854775808.0;

SO cmp_double(double a, double b) {
  // OTP 25 compares -0.0 and 0.0 as equal, also with =:=.
  if (a < b) return SO::less;
  if (a > b) return SO::greater;
  return SO::equal;
}

SO cmp_int_double(std::int64_t i, double d) {
  if (d >= two_pow_63) return SO::less;
  if (d < -two_pow_63) return SO::greater;
  const double t = std::trunc(d);
  const auto ti = static_cast<std::int64_t>(t);
  if (i != ti) return i < ti ? SO::less : SO::greater;
  const double frac = d - t;
  if (frac > 0) return SO::less;
  if (frac < 0) return SO::greater;
  return SO::equal;
}

// A double of magnitude at least 2^63 is an integer; this is its exact value.
BigInt double_to_big(double d) {
  int exp = 0;
  const double m = std::frexp(std::fabs(d), &exp);
  auto mant = static_cast<std::uint64_t>(std::ldexp(m, 53));
  exp -= 53;  // |d| = mant * 2^exp with exp >= 11
  BigInt b;
  b.negative = d < 0;
  const auto byte_shift = static_cast<std::size_t>(exp / 8);
  const int bit_shift = exp % 8;
  b.magnitude.assign(byte_shift, 0);
  std::uint32_t carry = 0;
  for (int k = 0; k < 8; ++k) {
    const auto byte = static_cast<std::uint32_t>((mant >> (8 * k)) & 0xFF);
    const std::uint32_t v = (byte << bit_shift) | carry;
    b.magnitude.push_back(static_cast<std::uint8_t>(v & 0xFF));
    carry = v >> 8;
  }
  if (carry != 0) b.magnitude.push_back(static_cast<std::uint8_t>(carry));
  while (!b.magnitude.empty() && b.magnitude.back() == 0) b.magnitude.pop_back();
  return b;
}

SO cmp_big_double(const BigInt& b, double d) {
  if (d < two_pow_63 && d >= -two_pow_63) return b.negative ? SO::less : SO::greater;
  return cmp_big(b, double_to_big(d));
}

SO reverse(SO o) { return o == SO::less ? SO::greater : o == SO::greater ? SO::less : o; }

// Numeric comparison of two numbers (int64, BigInt or double) by value.
SO cmp_numbers(const Term::Variant& a, const Term::Variant& b) {
  return std::visit(
      [](const auto& x, const auto& y) -> SO {
        using X = std::decay_t<decltype(x)>;
        using Y = std::decay_t<decltype(y)>;
        if constexpr (std::is_same_v<X, std::int64_t> && std::is_same_v<Y, std::int64_t>) {
          return cmp3(x, y);
        } else if constexpr (std::is_same_v<X, double> && std::is_same_v<Y, double>) {
          return cmp_double(x, y);
        } else if constexpr (std::is_same_v<X, BigInt> && std::is_same_v<Y, BigInt>) {
          return cmp_big(x, y);
        } else if constexpr (std::is_same_v<X, std::int64_t> && std::is_same_v<Y, BigInt>) {
          return y.negative ? SO::greater : SO::less;
        } else if constexpr (std::is_same_v<X, BigInt> && std::is_same_v<Y, std::int64_t>) {
          return x.negative ? SO::less : SO::greater;
        } else if constexpr (std::is_same_v<X, std::int64_t> && std::is_same_v<Y, double>) {
          return cmp_int_double(x, y);
        } else if constexpr (std::is_same_v<X, double> && std::is_same_v<Y, std::int64_t>) {
          return reverse(cmp_int_double(y, x));
        } else if constexpr (std::is_same_v<X, BigInt> && std::is_same_v<Y, double>) {
          return cmp_big_double(x, y);
        } else if constexpr (std::is_same_v<X, double> && std::is_same_v<Y, BigInt>) {
          return reverse(cmp_big_double(y, x));
        } else {
          return SO::equal;  // not numbers: never reached
        }
      },
      a, b);
}

// ---- Lists ----

// A list seen as heads plus a tail, whatever its representation.
struct Seq {
  const std::vector<Term>* elems = nullptr;
  const std::string* bytes = nullptr;
  std::size_t heads = 0;
  const Term* tail = nullptr;  // null for a proper list
};

Seq seq_of(const List& l) {
  Seq s;
  s.elems = &l.elements;
  s.heads = l.elements.size();
  if (!l.proper && !l.elements.empty()) {
    --s.heads;
    s.tail = &l.elements.back();
  }
  return s;
}

Seq seq_of(const Term& t) {
  if (const auto* l = t.get_if<List>()) return seq_of(*l);
  Seq s;
  if (const auto* str = t.get_if<String>()) {
    s.bytes = &str->bytes;
    s.heads = str->bytes.size();
  }
  return s;
}

Term head_term(const Seq& s, std::size_t i) {
  return Term(static_cast<std::int64_t>(static_cast<unsigned char>((*s.bytes)[i])));
}

SO cmp_heads(const Seq& a, std::size_t i, const Seq& b, NumberOrder order) {
  if (a.bytes != nullptr && b.bytes != nullptr) {
    return cmp3(static_cast<unsigned char>((*a.bytes)[i]),
                static_cast<unsigned char>((*b.bytes)[i]));
  }
  if (a.elems != nullptr && b.elems != nullptr) {
    return detail::compare((*a.elems)[i], (*b.elems)[i], order);
  }
  if (a.bytes != nullptr) return detail::compare(head_term(a, i), (*b.elems)[i], order);
  return detail::compare((*a.elems)[i], head_term(b, i), order);
}

// The rest of a list after its heads is nil (tail == null) or a non-list term.
SO cmp_rest_list_vs_tail(const Term* tail) {
  if (tail == nullptr) return SO::greater;  // non-empty list > nil
  return cmp3(static_cast<int>(Kind::list), kind_rank(tail->kind()));
}

SO cmp_lists(const Term& ta, const Term& tb, NumberOrder order) {
  const Seq a = seq_of(ta);
  const Seq b = seq_of(tb);
  const std::size_t n = std::min(a.heads, b.heads);
  if (a.bytes != nullptr && b.bytes != nullptr) {
    const int c = std::memcmp(a.bytes->data(), b.bytes->data(), n);
    if (c != 0) return from_int(c);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const SO c = cmp_heads(a, i, b, order);
      if (std::is_neq(c)) return c;
    }
  }
  if (a.heads > n) return cmp_rest_list_vs_tail(b.tail);
  if (b.heads > n) return reverse(cmp_rest_list_vs_tail(a.tail));
  if (a.tail == nullptr && b.tail == nullptr) return SO::equal;
  if (a.tail == nullptr) return cmp3(static_cast<int>(Kind::list), kind_rank(b.tail->kind()));
  if (b.tail == nullptr) return cmp3(kind_rank(a.tail->kind()), static_cast<int>(Kind::list));
  return detail::compare(*a.tail, *b.tail, order);
}

bool eq_seqs(const Seq& a, const Seq& b) {
  if (a.heads != b.heads || (a.tail == nullptr) != (b.tail == nullptr)) return false;
  if (a.bytes != nullptr && b.bytes != nullptr) return *a.bytes == *b.bytes;
  for (std::size_t i = 0; i < a.heads; ++i) {
    if (a.elems != nullptr && b.elems != nullptr) {
      if (!((*a.elems)[i] == (*b.elems)[i])) return false;
    } else if (a.bytes != nullptr) {
      if (!(head_term(a, i) == (*b.elems)[i])) return false;
    } else if (!((*a.elems)[i] == head_term(b, i))) {
      return false;
    }
  }
  return a.tail == nullptr || *a.tail == *b.tail;
}

bool eq_lists(const Term& a, const Term& b) { return eq_seqs(seq_of(a), seq_of(b)); }

// ---- Bitstrings ----

struct Bits {
  const std::string* bytes;
  std::size_t bits;
};

Bits bits_of(const Term& t) {
  if (const auto* b = t.get_if<Binary>()) return {&b->bytes, b->bytes.size() * 8};
  const auto& bs = t.as<BitString>();
  return {&bs.bytes, (bs.bytes.size() - 1) * 8 + bs.bits_in_last};
}

SO cmp_bits(const Term& ta, const Term& tb) {
  const Bits a = bits_of(ta);
  const Bits b = bits_of(tb);
  const std::size_t n = std::min(a.bits, b.bits);
  const std::size_t full = n / 8;
  const int c = std::memcmp(a.bytes->data(), b.bytes->data(), full);
  if (c != 0) return from_int(c);
  if (const std::size_t rem = n % 8; rem != 0) {
    const auto mask = static_cast<unsigned>(0xFF00U >> rem) & 0xFFU;
    const unsigned x = static_cast<unsigned char>((*a.bytes)[full]) & mask;
    const unsigned y = static_cast<unsigned char>((*b.bytes)[full]) & mask;
    if (x != y) return cmp3(x, y);
  }
  return cmp3(a.bits, b.bits);
}

// ---- Identifiers ----

SO cmp_nodes(Atom a, std::uint32_t ca, Atom b, std::uint32_t cb) {
  if (a != b) return a <=> b;
  return cmp3(ca, cb);
}

SO cmp_refs(const Reference& a, const Reference& b) {
  if (SO c = cmp_nodes(a.node, a.creation, b.node, b.creation); std::is_neq(c)) return c;
  // Erlang compares the id words from the most significant (last) one, shorter ones padded.
  const std::size_t n = std::min<std::size_t>(std::max(a.length, b.length), 5);
  for (std::size_t i = n; i-- > 0;) {
    const std::uint32_t x = i < a.length ? a.ids[i] : 0;
    const std::uint32_t y = i < b.length ? b.ids[i] : 0;
    if (x != y) return cmp3(x, y);
  }
  return SO::equal;
}

SO cmp_pids(const Pid& a, const Pid& b) {
  // Erlang compares a pid's serial, then its number, then its node.
  if (a.serial != b.serial) return cmp3(a.serial, b.serial);
  if (a.id != b.id) return cmp3(a.id, b.id);
  return cmp_nodes(a.node, a.creation, b.node, b.creation);
}

SO cmp_ports(const Port& a, const Port& b) {
  if (SO c = cmp_nodes(a.node, a.creation, b.node, b.creation); std::is_neq(c)) return c;
  return cmp3(a.id, b.id);
}

SO cmp_funs(const Fun& a, const Fun& b, NumberOrder order);

SO cmp_tuples(const Tuple& a, const Tuple& b, NumberOrder order) {
  if (a.elements.size() != b.elements.size()) {
    return cmp3(a.elements.size(), b.elements.size());
  }
  for (std::size_t i = 0; i < a.elements.size(); ++i) {
    if (SO c = detail::compare(a.elements[i], b.elements[i], order); std::is_neq(c)) return c;
  }
  return SO::equal;
}

SO cmp_maps(const Map& a, const Map& b, NumberOrder order) {
  if (a.entries.size() != b.entries.size()) return cmp3(a.entries.size(), b.entries.size());
  const auto ea = detail::sorted_entries(a);
  const auto eb = detail::sorted_entries(b);
  for (std::size_t i = 0; i < ea.size(); ++i) {
    if (SO c = detail::compare(ea[i]->first, eb[i]->first, detail::NumberOrder::exact);
        std::is_neq(c)) {
      return c;
    }
  }
  for (std::size_t i = 0; i < ea.size(); ++i) {
    if (SO c = detail::compare(ea[i]->second, eb[i]->second, order); std::is_neq(c)) return c;
  }
  return SO::equal;
}

bool is_number_kind(Kind k) { return k == Kind::integer || k == Kind::float_; }

// ---- Hashing ----

std::size_t mix(std::size_t h, std::size_t v) {
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

std::size_t hash_int(std::int64_t v) {
  auto x = static_cast<std::uint64_t>(v) + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<std::size_t>(x ^ (x >> 31));
}

std::size_t hash_bytes(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

namespace detail {

std::vector<const std::pair<Term, Term>*> sorted_entries(const Map& m) {
  std::vector<const std::pair<Term, Term>*> v;
  v.reserve(m.entries.size());
  for (const auto& e : m.entries) v.push_back(&e);
  std::sort(v.begin(), v.end(), [](const auto* x, const auto* y) {
    return std::is_lt(compare(x->first, y->first, NumberOrder::exact));
  });
  return v;
}

std::strong_ordering compare(const Term& a, const Term& b, NumberOrder order) {
  const Kind ka = a.kind();
  const Kind kb = b.kind();
  if (is_number_kind(ka) && is_number_kind(kb)) {
    if (order == NumberOrder::exact && ka != kb) {
      return ka == Kind::integer ? SO::less : SO::greater;
    }
    return cmp_numbers(a.variant(), b.variant());
  }
  if (ka != kb) return cmp3(kind_rank(ka), kind_rank(kb));
  switch (ka) {
    case Kind::atom:
      return a.as<Atom>() <=> b.as<Atom>();
    case Kind::reference:
      return cmp_refs(a.as<Reference>(), b.as<Reference>());
    case Kind::fun: {
      const auto* fa = a.get_if<Fun>();
      const auto* fb = b.get_if<Fun>();
      // Local funs sort before external funs, as in the BEAM.
      if (fa != nullptr && fb != nullptr) return cmp_funs(*fa, *fb, order);
      if (fa != nullptr) return SO::less;
      if (fb != nullptr) return SO::greater;
      const auto& xa = a.as<Export>();
      const auto& xb = b.as<Export>();
      if (xa.module != xb.module) return xa.module <=> xb.module;
      if (xa.function != xb.function) return xa.function <=> xb.function;
      return cmp3(xa.arity, xb.arity);
    }
    case Kind::port:
      return cmp_ports(a.as<Port>(), b.as<Port>());
    case Kind::pid:
      return cmp_pids(a.as<Pid>(), b.as<Pid>());
    case Kind::tuple:
      return cmp_tuples(a.as<Tuple>(), b.as<Tuple>(), order);
    case Kind::map:
      return cmp_maps(a.as<Map>(), b.as<Map>(), order);
    case Kind::list:
      return cmp_lists(a, b, order);
    case Kind::bitstring:
      return cmp_bits(a, b);
    case Kind::integer:
    case Kind::float_:
      break;
  }
  return SO::equal;
}

}  // namespace detail

namespace {
SO cmp_funs(const Fun& a, const Fun& b, NumberOrder order) {
  if (a.module != b.module) return a.module <=> b.module;
  if (a.encoded == b.encoded) return SO::equal;
  detail::FunHeader ha;
  detail::FunHeader hb;
  std::vector<Term> ea;
  std::vector<Term> eb;
  if (!detail::fun_parts(a, ha, &ea)) ea.clear();
  if (!detail::fun_parts(b, hb, &eb)) eb.clear();
  if (ha.old_index != hb.old_index) return cmp3(ha.old_index, hb.old_index);
  if (ha.old_uniq != hb.old_uniq) return cmp3(ha.old_uniq, hb.old_uniq);
  if (ea.size() != eb.size()) return cmp3(ea.size(), eb.size());
  for (std::size_t i = 0; i < ea.size(); ++i) {
    if (SO c = detail::compare(ea[i], eb[i], order); std::is_neq(c)) return c;
  }
  // Same code and environment but other bytes (e.g. another creator pid).
  return cmp3(a.encoded, b.encoded);
}
}  // namespace

// ---- Term ----

Term::Term(std::uint64_t v) : value_(std::int64_t{0}) {
  if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    value_ = static_cast<std::int64_t>(v);
    return;
  }
  BigInt b;
  for (int i = 0; i < 8; ++i) b.magnitude.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  value_ = std::move(b);
}

Term::Term(BigInt v) : value_(std::int64_t{0}) {
  while (!v.magnitude.empty() && v.magnitude.back() == 0) v.magnitude.pop_back();
  if (v.magnitude.size() <= 8) {
    std::uint64_t m = 0;
    for (std::size_t i = v.magnitude.size(); i-- > 0;) m = (m << 8) | v.magnitude[i];
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (!v.negative && m <= max) {
      value_ = static_cast<std::int64_t>(m);
      return;
    }
    if (v.negative && m <= max + 1) {
      value_ = static_cast<std::int64_t>(0 - m);
      return;
    }
  }
  value_ = std::move(v);
}

Term::Term(BitString v) : value_(std::int64_t{0}) {
  if (v.bits_in_last == 8) {
    value_ = Binary{std::move(v.bytes)};
    return;
  }
  if (v.bits_in_last == 0 || v.bits_in_last > 8 || v.bytes.empty()) {
    throw std::invalid_argument("bitstring needs 1..8 bits in a last byte, got " +
                                std::to_string(v.bits_in_last) + " bits in " +
                                std::to_string(v.bytes.size()) + " bytes");
  }
  // Unused low bits are not part of the value: zero them so equal bitstrings have equal bytes.
  auto& last = v.bytes.back();
  last = static_cast<char>(static_cast<unsigned char>(last) & (0xFF00U >> v.bits_in_last));
  value_ = std::move(v);
}

Kind Term::kind() const noexcept {
  switch (value_.index()) {
    case 0:
    case 1:
      return Kind::integer;
    case 2:
      return Kind::float_;
    case 3:
      return Kind::atom;
    case 4:
      return Kind::reference;
    case 5:
    case 6:
      return Kind::fun;
    case 7:
      return Kind::port;
    case 8:
      return Kind::pid;
    case 9:
      return Kind::tuple;
    case 10:
      return Kind::map;
    case 11:
    case 12:
      return Kind::list;
    default:
      return Kind::bitstring;
  }
}

bool Term::is_nil() const noexcept {
  if (const auto* l = get_if<List>()) return l->elements.empty();
  if (const auto* s = get_if<String>()) return s->bytes.empty();
  return false;
}

bool Term::is_atom(std::string_view a) const noexcept {
  const auto* at = get_if<Atom>();
  return at != nullptr && at->name() == a;
}

std::vector<Term> Term::list_elements() const {
  if (const auto* l = get_if<List>()) {
    if (!l->proper) throw std::invalid_argument("expected a proper list, got an improper list");
    return l->elements;
  }
  if (const auto* s = get_if<String>()) {
    std::vector<Term> v;
    v.reserve(s->bytes.size());
    for (char c : s->bytes) {
      v.emplace_back(static_cast<std::int64_t>(static_cast<unsigned char>(c)));
    }
    return v;
  }
  throw_wrong_kind("list");
}

void Term::throw_wrong_kind(std::string_view expected) const {
  static constexpr std::string_view names[] = {
      "integer", "big integer", "float", "atom", "reference", "fun",    "export",   "port",
      "pid",     "tuple",       "map",   "list", "string",    "binary", "bitstring"};
  throw std::invalid_argument("expected " + std::string(expected) + ", got " +
                              std::string(names[value_.index()]));
}

bool operator==(const Tuple& a, const Tuple& b) { return a.elements == b.elements; }

bool operator==(const List& a, const List& b) { return eq_seqs(seq_of(a), seq_of(b)); }

const Term* Map::find(const Term& key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool operator==(const Map& a, const Map& b) {
  if (a.entries.size() != b.entries.size()) return false;
  return std::ranges::all_of(a.entries, [&b](const auto& entry) {
    const Term* w = b.find(entry.first);
    return w != nullptr && *w == entry.second;
  });
}

bool operator==(const Term& a, const Term& b) {
  const Kind ka = a.kind();
  if (ka != b.kind()) return false;
  if (ka == Kind::list) return eq_lists(a, b);
  if (a.variant().index() != b.variant().index()) return false;
  return std::visit(
      [&b](const auto& x) -> bool {
        using X = std::decay_t<decltype(x)>;
        const X& y = *std::get_if<X>(&b.variant());
        return x == y;  // for floats, -0.0 == 0.0 as -0.0 =:= 0.0 in OTP 25
      },
      a.variant());
}

std::strong_ordering operator<=>(const Term& a, const Term& b) {
  const SO c = detail::compare(a, b, detail::NumberOrder::erlang);
  if (std::is_neq(c)) return c;
  return detail::compare(a, b, detail::NumberOrder::exact);
}

std::weak_ordering erlang_compare(const Term& a, const Term& b) {
  return detail::compare(a, b, detail::NumberOrder::erlang);
}

bool erlang_equal(const Term& a, const Term& b) {
  return std::is_eq(detail::compare(a, b, detail::NumberOrder::erlang));
}

std::strong_ordering map_key_compare(const Term& a, const Term& b) {
  return detail::compare(a, b, detail::NumberOrder::exact);
}

// NOLINTNEXTLINE(bugprone-exception-escape): std::visit cannot throw here (see the declaration).
std::size_t Term::hash() const noexcept {
  return std::visit(
      [this](const auto& x) -> std::size_t {
        using X = std::decay_t<decltype(x)>;
        std::size_t h = static_cast<std::size_t>(kind()) * 0x100000001b3ULL;
        if constexpr (std::is_same_v<X, std::int64_t>) {
          return mix(h, hash_int(x));
        } else if constexpr (std::is_same_v<X, BigInt>) {
          h = mix(h, x.negative ? 1 : 0);
          return mix(h,
                     hash_bytes(std::string_view(reinterpret_cast<const char*>(x.magnitude.data()),
                                                 x.magnitude.size())));
        } else if constexpr (std::is_same_v<X, double>) {
          const double d = x == 0 ? 0.0 : x;
          return mix(h, hash_int(std::bit_cast<std::int64_t>(d)));
        } else if constexpr (std::is_same_v<X, Atom>) {
          return mix(h, x.hash());
        } else if constexpr (std::is_same_v<X, Reference>) {
          h = mix(mix(h, x.node.hash()), x.creation);
          for (std::size_t i = 0; i < std::min<std::size_t>(x.length, 5); ++i) h = mix(h, x.ids[i]);
          return h;
        } else if constexpr (std::is_same_v<X, Fun>) {
          return mix(h, hash_bytes(x.encoded));
        } else if constexpr (std::is_same_v<X, Export>) {
          return mix(mix(mix(h, x.module.hash()), x.function.hash()), x.arity);
        } else if constexpr (std::is_same_v<X, Port>) {
          return mix(mix(mix(h, x.node.hash()), x.creation),
                     hash_int(static_cast<std::int64_t>(x.id)));
        } else if constexpr (std::is_same_v<X, Pid>) {
          return mix(mix(mix(mix(h, x.node.hash()), x.creation), x.id), x.serial);
        } else if constexpr (std::is_same_v<X, Tuple>) {
          h = mix(h, x.elements.size());
          for (const auto& e : x.elements) h = mix(h, e.hash());
          return h;
        } else if constexpr (std::is_same_v<X, Map>) {
          std::size_t sum = 0;  // order-independent
          for (const auto& [k, v] : x.entries) sum += mix(k.hash(), v.hash());
          return mix(mix(h, x.entries.size()), sum);
        } else if constexpr (std::is_same_v<X, List>) {
          const bool improper = !x.proper && !x.elements.empty();
          const std::size_t n = improper ? x.elements.size() - 1 : x.elements.size();
          for (std::size_t i = 0; i < n; ++i) h = mix(h, x.elements[i].hash());
          if (improper) h = mix(mix(h, 0x7a11), x.elements.back().hash());
          return h;
        } else if constexpr (std::is_same_v<X, String>) {
          // Must agree with the List of the same integers.
          const std::size_t int_h = static_cast<std::size_t>(Kind::integer) * 0x100000001b3ULL;
          for (char c : x.bytes) {
            h = mix(h, mix(int_h, hash_int(static_cast<unsigned char>(c))));
          }
          return h;
        } else if constexpr (std::is_same_v<X, Binary>) {
          return mix(mix(h, 8), hash_bytes(x.bytes));
        } else {
          return mix(mix(h, x.bits_in_last), hash_bytes(x.bytes));
        }
      },
      value_);
}

// ---- Construction helpers ----

Term list_of(std::vector<Term> elements) { return Term(List{std::move(elements), true}); }

Term improper_list(std::vector<Term> elements, Term tail) {
  if (tail.kind() == Kind::list) {
    // [a | [b | t]] is [a, b | t].
    const Seq s = seq_of(tail);
    for (std::size_t i = 0; i < s.heads; ++i) {
      elements.push_back(s.elems != nullptr ? (*s.elems)[i] : head_term(s, i));
    }
    if (s.tail == nullptr) return list_of(std::move(elements));
    Term t = *s.tail;
    elements.push_back(std::move(t));
    return Term(List{std::move(elements), false});
  }
  if (elements.empty()) return tail;  // [ | T] is T
  elements.push_back(std::move(tail));
  return Term(List{std::move(elements), false});
}

Term map(std::initializer_list<std::pair<Term, Term>> entries) {
  Map m;
  m.entries.reserve(entries.size());
  for (const auto& [k, v] : entries) {
    bool replaced = false;
    for (auto& e : m.entries) {
      if (e.first == k) {  // later keys win, as in #{k => 1, k => 2}
        e.second = v;
        replaced = true;
        break;
      }
    }
    if (!replaced) m.entries.emplace_back(k, v);
  }
  return Term(std::move(m));
}

}  // namespace cppnode::codec
