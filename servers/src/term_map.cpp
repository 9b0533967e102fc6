// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/term_map.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cppnode::servers {

using codec::Term;

namespace {

// The elements of a proper list (List or String), or null for anything else.
const std::vector<Term>* proper_elements(const Term& t, std::vector<Term>& scratch) {
  if (const auto* l = t.get_if<codec::List>()) return l->proper ? &l->elements : nullptr;
  if (t.is<codec::String>()) {
    scratch = t.list_elements();
    return &scratch;
  }
  return nullptr;
}

template <class Compare>
std::strong_ordering compare_sequences(const std::vector<Term>& a, const std::vector<Term>& b,
                                       Compare compare) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (auto c = compare(a[i], b[i]); std::is_neq(c)) return c;
  }
  return a.size() <=> b.size();
}

std::vector<const std::pair<Term, Term>*> sorted_entries(const codec::Map& m) {
  std::vector<const std::pair<Term, Term>*> out;
  out.reserve(m.entries.size());
  for (const auto& e : m.entries) out.push_back(&e);
  std::sort(out.begin(), out.end(), [](const auto* x, const auto* y) {
    return std::is_lt(map_key_compare(x->first, y->first));
  });
  return out;
}

// `d` is integral: its exact value as an integer term.
Term integer_of_double(double d) {
  if (std::fabs(d) < 9.2e18) return Term(static_cast<std::int64_t>(d));
  codec::BigInt big{d < 0, {}};
  double rest = std::fabs(d);
  while (rest >= 1.0) {
    big.magnitude.push_back(static_cast<std::uint8_t>(std::fmod(rest, 256.0)));
    rest = std::floor(rest / 256.0);
  }
  return Term(std::move(big));
}

bool number_equal(const Term& a, const Term& b) {
  const auto* da = a.get_if<double>();
  const auto* db = b.get_if<double>();
  if (da != nullptr && db != nullptr) return *da == *db;
  if (da == nullptr && db == nullptr) return a == b;  // two integers
  const double d = da != nullptr ? *da : *db;
  const Term& i = da != nullptr ? b : a;
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  return integer_of_double(d) == i;
}

bool is_number(const Term& t) {
  const auto k = t.kind();
  return k == codec::Kind::integer || k == codec::Kind::float_;
}

}  // namespace

std::strong_ordering map_key_compare(const Term& a, const Term& b) {
  const auto ka = a.kind();
  const auto kb = b.kind();
  // The kinds are in term order, integer before float: map key order is that order.
  if (ka != kb) return ka <=> kb;
  switch (ka) {
    case codec::Kind::tuple: {
      const auto& x = a.as<codec::Tuple>().elements;
      const auto& y = b.as<codec::Tuple>().elements;
      if (x.size() != y.size()) return x.size() <=> y.size();
      return compare_sequences(x, y, map_key_compare);
    }
    case codec::Kind::list: {
      std::vector<Term> sa;
      std::vector<Term> sb;
      const auto* x = proper_elements(a, sa);
      const auto* y = proper_elements(b, sb);
      if (x == nullptr || y == nullptr) return a <=> b;  // improper lists: plain term order
      return compare_sequences(*x, *y, map_key_compare);
    }
    case codec::Kind::map: {
      const auto& x = a.as<codec::Map>();
      const auto& y = b.as<codec::Map>();
      if (x.entries.size() != y.entries.size()) return x.entries.size() <=> y.entries.size();
      const auto ex = sorted_entries(x);
      const auto ey = sorted_entries(y);
      for (std::size_t i = 0; i < ex.size(); ++i) {
        if (auto c = map_key_compare(ex[i]->first, ey[i]->first); std::is_neq(c)) return c;
      }
      for (std::size_t i = 0; i < ex.size(); ++i) {
        if (auto c = map_key_compare(ex[i]->second, ey[i]->second); std::is_neq(c)) return c;
      }
      return std::strong_ordering::equal;
    }
    default:
      return a <=> b;
  }
}

Term to_term(const TermMap& map) {
  codec::Map m;
  m.entries.reserve(map.size());
  for (const auto& [k, v] : map) m.entries.emplace_back(k, v);
  return Term(std::move(m));
}

bool erlang_equal(const Term& a, const Term& b) {
  if (is_number(a) && is_number(b)) return number_equal(a, b);
  if (a.kind() != b.kind()) return false;
  if (const auto* x = a.get_if<codec::Tuple>()) {
    const auto& y = b.as<codec::Tuple>();
    if (x->elements.size() != y.elements.size()) return false;
    for (std::size_t i = 0; i < x->elements.size(); ++i) {
      if (!erlang_equal(x->elements[i], y.elements[i])) return false;
    }
    return true;
  }
  if (a.kind() == codec::Kind::list) {
    std::vector<Term> sa;
    std::vector<Term> sb;
    const auto* x = proper_elements(a, sa);
    const auto* y = proper_elements(b, sb);
    if (x == nullptr || y == nullptr) {
      const auto* lx = a.get_if<codec::List>();
      const auto* ly = b.get_if<codec::List>();
      if (lx == nullptr || ly == nullptr || lx->proper != ly->proper ||
          lx->elements.size() != ly->elements.size()) {
        return false;
      }
      x = &lx->elements;
      y = &ly->elements;
    }
    if (x->size() != y->size()) return false;
    for (std::size_t i = 0; i < x->size(); ++i) {
      if (!erlang_equal((*x)[i], (*y)[i])) return false;
    }
    return true;
  }
  if (const auto* x = a.get_if<codec::Map>()) {
    const auto& y = b.as<codec::Map>();
    if (x->entries.size() != y.entries.size()) return false;
    return std::all_of(x->entries.begin(), x->entries.end(), [&](const auto& entry) {
      const Term* other = y.find(entry.first);
      return other != nullptr && erlang_equal(entry.second, *other);
    });
  }
  return a == b;
}

}  // namespace cppnode::servers
