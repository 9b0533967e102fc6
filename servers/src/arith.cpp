// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/arith.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

#include "cppnode/codec/codec.hpp"
#include "cppnode/servers/errors.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Term;

namespace {

using Magnitude = std::vector<std::uint8_t>;  // little-endian, no trailing zero bytes
__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

Magnitude magnitude_of(UInt128 v) {
  Magnitude m;
  while (v != 0) {
    m.push_back(static_cast<std::uint8_t>(v & 0xFF));
    v >>= 8;
  }
  return m;
}

// Sign and magnitude of an integer term (int64 or BigInt).
struct Signed {
  bool negative = false;
  Magnitude magnitude;
};

Signed signed_of(const Term& t) {
  if (const auto* i = t.get_if<std::int64_t>()) {
    const bool neg = *i < 0;
    const auto wide = static_cast<Int128>(*i);
    return {neg, magnitude_of(static_cast<UInt128>(neg ? -wide : wide))};
  }
  const auto& b = t.as<codec::BigInt>();
  return {b.negative, b.magnitude};
}

int compare(const Magnitude& a, const Magnitude& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

Magnitude plus(const Magnitude& a, const Magnitude& b) {
  Magnitude r;
  r.reserve(std::max(a.size(), b.size()) + 1);
  unsigned carry = 0;
  for (std::size_t i = 0; i < a.size() || i < b.size(); ++i) {
    unsigned s = carry;
    if (i < a.size()) s += a[i];
    if (i < b.size()) s += b[i];
    r.push_back(static_cast<std::uint8_t>(s & 0xFF));
    carry = s >> 8;
  }
  if (carry != 0) r.push_back(static_cast<std::uint8_t>(carry));
  return r;
}

// a - b for a >= b.
Magnitude minus(const Magnitude& a, const Magnitude& b) {
  Magnitude r;
  r.reserve(a.size());
  int borrow = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    int d = a[i] - borrow - (i < b.size() ? b[i] : 0);
    borrow = d < 0 ? 1 : 0;
    r.push_back(static_cast<std::uint8_t>(d + (borrow << 8)));
  }
  while (!r.empty() && r.back() == 0) r.pop_back();
  return r;
}

Term integer_of(bool negative, Magnitude m) {
  if (m.empty()) return Term(std::int64_t{0});
  return Term(codec::BigInt{negative, std::move(m)});
}

double to_double(const Term& t) {
  if (const auto* d = t.get_if<double>()) return *d;
  if (const auto* i = t.get_if<std::int64_t>()) return static_cast<double>(*i);
  // As erts big.c big_to_double: the magnitude's 64-bit digits, most significant first,
  // r = r * 2^64 + digit. Each step rounds twice (the digit, then the sum), so the result can
  // differ in the last bit from a correctly rounded conversion; the BEAM's result is the one
  // callers compare with. An overflow gives inf, which add() turns into badarith as the BEAM does.
  const auto& b = t.as<codec::BigInt>();
  const std::size_t digits = (b.magnitude.size() + 7) / 8;
  double r = 0;
  for (std::size_t d = digits; d-- > 0;) {
    std::uint64_t digit = 0;
    for (std::size_t k = 8; k-- > 0;) {
      const std::size_t i = d * 8 + k;
      digit = digit << 8 | (i < b.magnitude.size() ? b.magnitude[i] : 0U);
    }
    r = r * 18446744073709551616.0 + static_cast<double>(digit);
  }
  return b.negative ? -r : r;
}

bool is_number(const Term& t) {
  return t.is<std::int64_t>() || t.is<codec::BigInt>() || t.is<double>();
}

[[noreturn]] void arith_error(const char* reason, const Term& a, const Term& b) {
  throw ErlangError(codec::Atom(reason),
                    codec::tuple("erlang"_a, "+"_a, codec::list(a, b), codec::list()));
}

[[noreturn]] void badarith(const Term& a, const Term& b) { arith_error("badarith", a, b); }

}  // namespace

Term add(const Term& a, const Term& b) {
  const auto* x = a.get_if<std::int64_t>();
  const auto* y = b.get_if<std::int64_t>();
  if (x != nullptr && y != nullptr) {
    std::int64_t r = 0;
    if (!__builtin_add_overflow(*x, *y, &r)) return Term(r);
    const Int128 wide = static_cast<Int128>(*x) + *y;
    const bool neg = wide < 0;
    return integer_of(neg, magnitude_of(static_cast<UInt128>(neg ? -wide : wide)));
  }
  if (!is_number(a) || !is_number(b)) badarith(a, b);
  if (a.is<double>() || b.is<double>()) {
    const double r = to_double(a) + to_double(b);
    if (!std::isfinite(r)) badarith(a, b);
    return Term(r);
  }
  Signed p = signed_of(a);
  Signed q = signed_of(b);
  if (p.negative == q.negative) {
    Magnitude sum = plus(p.magnitude, q.magnitude);
    // The BEAM raises system_limit for an integer it cannot hold; one we made would be refused
    // by every node we sent it to.
    if (sum.size() > codec::max_integer_bytes) arith_error("system_limit", a, b);
    return integer_of(p.negative, std::move(sum));
  }
  const int c = compare(p.magnitude, q.magnitude);
  if (c == 0) return Term(std::int64_t{0});
  if (c > 0) return integer_of(p.negative, minus(p.magnitude, q.magnitude));
  return integer_of(q.negative, minus(q.magnitude, p.magnitude));
}

}  // namespace cppnode::servers
