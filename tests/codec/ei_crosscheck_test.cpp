// SPDX-License-Identifier: Apache-2.0
// Cross-check with erl_interface (ei), OTP's own C codec: what we encode ei reads back as the
// same term, and what ei encodes we decode as the expected term.
#include <ei.h>
#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "corpus.hpp"
#include "cppnode/codec/codec.hpp"

namespace cppnode::codec {
namespace {

using namespace literals;
using testing::corpus_of;
using testing::unhex;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("ei failed: ") + what);
}

Atom atom_at(const char* buf, int& i) {
  char name[MAXATOMLEN_UTF8];
  erlang_char_encoding was;
  erlang_char_encoding result;
  check(ei_decode_atom_as(buf, &i, name, sizeof name, ERLANG_UTF8, &was, &result), "atom");
  return Atom(name);
}

// Builds a Term from ETF bytes using only ei's decoding functions.
Term from_ei(const char* buf, int& i, const std::string& whole) {
  int type = 0;
  int size = 0;
  check(ei_get_type(buf, &i, &type, &size), "get_type");
  switch (type) {
    case ERL_SMALL_INTEGER_EXT:
    case ERL_INTEGER_EXT:
    case ERL_SMALL_BIG_EXT:
    case ERL_LARGE_BIG_EXT: {
      int j = i;
      long long v = 0;
      if (ei_decode_longlong(buf, &j, &v) == 0) {
        i = j;
        return Term(static_cast<std::int64_t>(v));
      }
      unsigned long long u = 0;
      j = i;
      if (ei_decode_ulonglong(buf, &j, &u) == 0) {
        i = j;
        return Term(static_cast<std::uint64_t>(u));
      }
      erlang_big* big = ei_alloc_big(static_cast<unsigned>(size));
      check(ei_decode_big(buf, &i, big), "big");
      BigInt b;
      b.negative = big->is_neg != 0;
      const auto* d = static_cast<const std::uint8_t*>(big->digits);
      b.magnitude.assign(d, d + big->arity);
      ei_free_big(big);
      return Term(std::move(b));
    }
    case ERL_FLOAT_EXT:
    case NEW_FLOAT_EXT: {
      double d = 0;
      check(ei_decode_double(buf, &i, &d), "double");
      return Term(d);
    }
    case ERL_ATOM_EXT:
    case ERL_SMALL_ATOM_EXT:
    case ERL_ATOM_UTF8_EXT:
    case ERL_SMALL_ATOM_UTF8_EXT:
      return Term(atom_at(buf, i));
    case ERL_STRING_EXT: {
      std::string s(static_cast<std::size_t>(size) + 1, '\0');
      check(ei_decode_string(buf, &i, s.data()), "string");
      s.resize(static_cast<std::size_t>(size));
      return charlist(s);
    }
    case ERL_NIL_EXT:
    case ERL_LIST_EXT: {
      int arity = 0;
      check(ei_decode_list_header(buf, &i, &arity), "list");
      std::vector<Term> elems;
      for (int k = 0; k < arity; ++k) elems.push_back(from_ei(buf, i, whole));
      if (arity == 0) return Term();
      int tail_type = 0;
      int tail_size = 0;
      check(ei_get_type(buf, &i, &tail_type, &tail_size), "tail");
      if (tail_type == ERL_NIL_EXT) {
        int zero = 0;
        check(ei_decode_list_header(buf, &i, &zero), "nil");
        return list_of(std::move(elems));
      }
      Term tail = from_ei(buf, i, whole);
      return improper_list(std::move(elems), std::move(tail));
    }
    case ERL_SMALL_TUPLE_EXT:
    case ERL_LARGE_TUPLE_EXT: {
      int arity = 0;
      check(ei_decode_tuple_header(buf, &i, &arity), "tuple");
      Tuple t;
      for (int k = 0; k < arity; ++k) t.elements.push_back(from_ei(buf, i, whole));
      return Term(std::move(t));
    }
    case ERL_MAP_EXT: {
      int arity = 0;
      check(ei_decode_map_header(buf, &i, &arity), "map");
      Map m;
      for (int k = 0; k < arity; ++k) {
        Term key = from_ei(buf, i, whole);
        Term value = from_ei(buf, i, whole);
        m.entries.emplace_back(std::move(key), std::move(value));
      }
      return Term(std::move(m));
    }
    case ERL_BINARY_EXT: {
      std::string s(static_cast<std::size_t>(size), '\0');
      long len = 0;
      check(ei_decode_binary(buf, &i, s.data(), &len), "binary");
      return binary(s);
    }
    case ERL_BIT_BINARY_EXT: {
      const char* p = nullptr;
      unsigned int bitoffs = 0;
      std::size_t bits = 0;
      check(ei_decode_bitstring(buf, &i, &p, &bitoffs, &bits), "bitstring");
      std::string bytes(p, (bits + 7) / 8);
      const auto rem = static_cast<std::uint8_t>(bits % 8);
      return Term(BitString{bytes, rem == 0 ? std::uint8_t{8} : rem});
    }
    case ERL_NEW_PID_EXT:
    case ERL_PID_EXT: {
      erlang_pid p;
      check(ei_decode_pid(buf, &i, &p), "pid");
      return Term(Pid{Atom(p.node), p.num, p.serial, p.creation});
    }
    case ERL_NEW_PORT_EXT:
    case ERL_V4_PORT_EXT:
    case ERL_PORT_EXT: {
      erlang_port p;
      check(ei_decode_port(buf, &i, &p), "port");
      return Term(Port{Atom(p.node), p.id, p.creation});
    }
    case ERL_NEWER_REFERENCE_EXT:
    case ERL_NEW_REFERENCE_EXT:
    case ERL_REFERENCE_EXT: {
      erlang_ref r;
      check(ei_decode_ref(buf, &i, &r), "ref");
      Reference ref{Atom(r.node), r.creation, static_cast<std::uint8_t>(r.len), {}};
      for (int k = 0; k < r.len; ++k) ref.ids[static_cast<std::size_t>(k)] = r.n[k];
      return Term(ref);
    }
    case ERL_NEW_FUN_EXT:
    case ERL_EXPORT_EXT: {
      const int start = i;
      erlang_fun f;
      check(ei_decode_fun(buf, &i, &f), "fun");
      Term out;
      if (f.type == erlang_fun::EI_FUN_EXPORT) {
        out =
            Term(Export{Atom(f.module), Atom(f.u.exprt.func), static_cast<std::uint8_t>(f.arity)});
      } else {
        Fun fun;
        fun.encoded =
            whole.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(i - start));
        fun.module = Atom(f.module);
        if (fun.index() != static_cast<std::uint32_t>(f.u.closure.old_index) ||
            fun.uniq() != static_cast<std::uint32_t>(f.u.closure.uniq)) {
          throw std::runtime_error("fun index/uniq read from its bytes differ from ei's");
        }
        out = Term(std::move(fun));
      }
      free_fun(&f);
      return out;
    }
    default:
      throw std::runtime_error("ei type " + std::to_string(type) + " not handled");
  }
}

Term ei_read(const std::string& etf) {
  int i = 0;
  int version = 0;
  check(ei_decode_version(etf.data(), &i, &version), "version");
  Term t = from_ei(etf.data(), i, etf);
  if (static_cast<std::size_t>(i) != etf.size()) throw std::runtime_error("ei left bytes over");
  return t;
}

// ei hands atoms over as C strings, so it cannot read an atom holding a NUL character.
bool has_nul_atom(const Term& t) {
  if (const auto* a = t.get_if<Atom>()) return a->name().find('\0') != std::string_view::npos;
  if (const auto* tup = t.get_if<Tuple>()) {
    for (const auto& e : tup->elements) {
      if (has_nul_atom(e)) return true;
    }
  }
  return false;
}

TEST(EiCrossCheck, EiReadsWhatWeEncode) {
  ei_init();
  std::size_t checked = 0;
  for (const auto* r : corpus_of('T')) {
    auto t = decode(bytes_of(unhex(r->fields.at(0))));
    ASSERT_TRUE(t) << r->name;
    if (has_nul_atom(*t)) continue;
    const std::string ours = encode(*t);
    Term back;
    ASSERT_NO_THROW(back = ei_read(ours)) << r->name;
    EXPECT_EQ(back, *t) << r->name << ": ei read " << to_string(back);
    ++checked;
  }
  EXPECT_GT(checked, 400u);
}

struct XBuff {
  XBuff() { ei_x_new_with_version(&x); }
  ~XBuff() { ei_x_free(&x); }
  XBuff(const XBuff&) = delete;
  XBuff& operator=(const XBuff&) = delete;
  [[nodiscard]] std::string bytes() const { return {x.buff, static_cast<std::size_t>(x.index)}; }
  ei_x_buff x{};
};

Term ours(const XBuff& b) {
  const std::string s = b.bytes();
  auto t = decode(bytes_of(s));
  if (!t) throw std::runtime_error(t.error().what());
  return *t;
}

TEST(EiCrossCheck, WeReadWhatEiEncodes) {
  ei_init();
  {
    XBuff b;
    ei_x_encode_tuple_header(&b.x, 3);
    ei_x_encode_atom(&b.x, "put");
    ei_x_encode_binary(&b.x, "k", 1);
    ei_x_encode_long(&b.x, 1);
    EXPECT_EQ(ours(b), tuple("put"_a, binary("k"), 1));
  }
  for (long long v : {0LL, 255LL, 256LL, -1LL, 1LL << 31, -(1LL << 31) - 1, 1LL << 62,
                      static_cast<long long>(INT64_MIN), static_cast<long long>(INT64_MAX)}) {
    XBuff b;
    ei_x_encode_longlong(&b.x, v);
    EXPECT_EQ(ours(b), Term(static_cast<std::int64_t>(v))) << v;
  }
  {
    XBuff b;
    ei_x_encode_ulonglong(&b.x, UINT64_MAX);
    EXPECT_EQ(ours(b), Term(std::uint64_t{UINT64_MAX}));
  }
  for (double d : {0.0, -0.0, 1.5, 1.0e308, 5.0e-324, -3.25}) {
    XBuff b;
    ei_x_encode_double(&b.x, d);
    EXPECT_EQ(ours(b), Term(d)) << d;
  }
  {
    XBuff b;
    ei_x_encode_list_header(&b.x, 3);
    ei_x_encode_atom_as(&b.x, "\xC3\xA9t\xC3\xA9", ERLANG_UTF8, ERLANG_UTF8);
    ei_x_encode_atom_as(&b.x, "\xCE\xBB", ERLANG_UTF8, ERLANG_UTF8);
    ei_x_encode_string(&b.x, "hello");
    ei_x_encode_atom(&b.x, "tail");
    EXPECT_EQ(ours(b), improper_list({Term(Atom("\xC3\xA9t\xC3\xA9")), Term(Atom("\xCE\xBB")),
                                      charlist("hello")},
                                     "tail"_a));
  }
  {
    XBuff b;
    ei_x_encode_map_header(&b.x, 2);
    ei_x_encode_atom(&b.x, "b");
    ei_x_encode_empty_list(&b.x);
    ei_x_encode_atom(&b.x, "a");
    const char bits[] = {'\xFF', '\xC0'};
    ei_x_encode_bitstring(&b.x, bits, 0, 10);
    EXPECT_EQ(ours(b), map({{"a"_a, Term(BitString{"\xFF\xC0", 2})}, {"b"_a, Term()}}));
  }
  {
    XBuff b;
    erlang_pid pid{};
    std::strcpy(pid.node, "cpp@host");
    pid.num = 42;
    pid.serial = 7;
    pid.creation = 0x12345678;
    erlang_port port{};
    std::strcpy(port.node, "cpp@host");
    port.id = 1ULL << 40;
    port.creation = 9;
    erlang_ref ref{};
    std::strcpy(ref.node, "cpp@host");
    ref.len = 3;
    ref.n[0] = 1;
    ref.n[1] = 2;
    ref.n[2] = 3;
    ref.creation = 5;
    ei_x_encode_tuple_header(&b.x, 3);
    ei_x_encode_pid(&b.x, &pid);
    ei_x_encode_port(&b.x, &port);
    ei_x_encode_ref(&b.x, &ref);
    EXPECT_EQ(ours(b), tuple(Term(Pid{"cpp@host"_a, 42, 7, 0x12345678}),
                             Term(Port{"cpp@host"_a, 1ULL << 40, 9}),
                             Term(Reference{"cpp@host"_a, 5, 3, {1, 2, 3, 0, 0}})));
  }
  {
    XBuff b;
    erlang_fun f{};
    f.arity = 2;
    std::strcpy(f.module, "lists");
    f.type = erlang_fun::EI_FUN_EXPORT;
    char func[] = "map";
    f.u.exprt.func = func;
    ei_x_encode_fun(&b.x, &f);
    EXPECT_EQ(ours(b), Term(Export{"lists"_a, "map"_a, 2}));
  }
}

}  // namespace
}  // namespace cppnode::codec
