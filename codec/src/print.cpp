// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <charconv>
#include <iterator>
#include <ostream>
#include <string>

#include "cppnode/codec/term.hpp"
#include "decoder.hpp"
#include "term_compare.hpp"
#include "utf8.hpp"

namespace cppnode::codec {
namespace {

// Printing follows io_lib_pretty with `~p` (Latin-1 mode): characters above 255 are escaped as
// \x{...}; Latin-1 characters are written as UTF-8 so logs stay readable.

constexpr std::size_t flatmap_max_keys = 32;

bool printable_char(std::uint32_t c) {
  return (c >= 32 && c <= 126) || (c >= 160 && c <= 255) || c == '\n' || c == '\r' || c == '\t' ||
         c == '\v' || c == '\b' || c == '\f' || c == 27;
}

void write_char(std::string& out, std::uint32_t c, char quote) {
  if (c == static_cast<unsigned char>(quote)) {
    out.push_back('\\');
    out.push_back(quote);
    return;
  }
  if (c == '\\') {
    out.append("\\\\");
    return;
  }
  if (c >= 32 && c <= 126) {
    out.push_back(static_cast<char>(c));
    return;
  }
  if (c >= 160 && c <= 255) {
    detail::append_utf8(out, c);
    return;
  }
  if (c > 255) {
    char buf[16];
    auto r = std::to_chars(buf, buf + sizeof buf, c, 16);
    out.append("\\x{");
    for (char* p = buf; p != r.ptr; ++p) {
      out.push_back(*p >= 'a' && *p <= 'f' ? static_cast<char>(*p - 'a' + 'A') : *p);
    }
    out.push_back('}');
    return;
  }
  switch (c) {
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    case '\v':
      out.append("\\v");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    case 27:
      out.append("\\e");
      return;
    case 127:
      out.append("\\d");
      return;
    default:
      out.push_back('\\');
      out.push_back(static_cast<char>('0' + (c >> 6)));
      out.push_back(static_cast<char>('0' + ((c >> 3) & 7)));
      out.push_back(static_cast<char>('0' + (c & 7)));
  }
}

bool is_lower_start(std::uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
}

bool is_name_char(std::uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7) ||
         (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
         (c >= '0' && c <= '9') || c == '_' || c == '@';
}

bool is_reserved_word(std::string_view s) {
  static constexpr std::string_view words[] = {
      "after", "and",  "andalso", "band",   "begin",   "bnot", "bor", "bsl",  "bsr",
      "bxor",  "case", "catch",   "cond",   "div",     "end",  "fun", "if",   "let",
      "not",   "of",   "or",      "orelse", "receive", "rem",  "try", "when", "xor"};
  return std::ranges::find(words, s) != std::end(words);
}

bool atom_needs_quotes(std::string_view name) {
  if (name.empty() || is_reserved_word(name)) return true;
  std::size_t i = 0;
  if (!is_lower_start(detail::utf8_next(name, i))) return true;
  while (i < name.size()) {
    if (!is_name_char(detail::utf8_next(name, i))) return true;
  }
  return false;
}

void write_atom(std::string& out, Atom a) {
  const std::string_view name = a.name();
  if (!atom_needs_quotes(name)) {
    out.append(name);
    return;
  }
  out.push_back('\'');
  for (std::size_t i = 0; i < name.size();) write_char(out, detail::utf8_next(name, i), '\'');
  out.push_back('\'');
}

void write_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void write_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void write_big(std::string& out, const BigInt& b) {
  // Little-endian base-2^32 limbs, divided by 10^9 repeatedly.
  std::vector<std::uint32_t> limbs((b.magnitude.size() + 3) / 4, 0);
  for (std::size_t i = 0; i < b.magnitude.size(); ++i) {
    limbs[i / 4] |= static_cast<std::uint32_t>(b.magnitude[i]) << (8 * (i % 4));
  }
  std::vector<std::uint32_t> chunks;  // base 10^9, least significant first
  while (!limbs.empty()) {
    std::uint64_t rem = 0;
    for (std::size_t i = limbs.size(); i-- > 0;) {
      const std::uint64_t cur = (rem << 32) | limbs[i];
      limbs[i] = static_cast<std::uint32_t>(cur / 1000000000U);
      rem = cur % 1000000000U;
    }
    chunks.push_back(static_cast<std::uint32_t>(rem));
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  }
  if (b.negative) out.push_back('-');
  if (chunks.empty()) {
    out.push_back('0');
    return;
  }
  write_uint(out, chunks.back());
  for (std::size_t i = chunks.size() - 1; i-- > 0;) {
    char buf[16];
    auto r = std::to_chars(buf, buf + sizeof buf, chunks[i]);
    out.append(static_cast<std::size_t>(9 - (r.ptr - buf)), '0');
    out.append(buf, r.ptr);
  }
}

// float_to_list(F, [short]) of OTP 25: the shortest digits that read back as F (Ryu, as
// std::to_chars gives them), in plain notation only for a band of exponents around the digits
// and never for integers of 2^53 and above, else in scientific notation without a '+'.
void write_float(std::string& out, double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
  if (!s.empty() && s[0] == '-') {
    out.push_back('-');
    s.remove_prefix(1);
  }
  const std::size_t e_pos = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int sci_exp = 0;
  std::string_view es = s.substr(e_pos + 1);
  if (!es.empty() && es[0] == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), sci_exp);
  const auto n = static_cast<int>(digits.size());
  const int ryu_exp = sci_exp - (n - 1);  // value = digits * 10^ryu_exp
  std::uint64_t mantissa = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), mantissa);

  int lower = -(n + 2);
  int upper = sci_exp >= 10 ? 2 : 1;
  if (n == 1) {
    lower = -4;
    upper = 2;
  }
  bool plain = lower <= ryu_exp && ryu_exp <= upper;
  if (plain && ((mantissa >= (std::uint64_t{1} << 53) && ryu_exp == 0) ||
                (mantissa > (std::uint64_t{1} << 52) / 5 && ryu_exp == 1) ||
                (mantissa > (std::uint64_t{1} << 51) / 25 && ryu_exp == 2))) {
    plain = false;
  }
  if (!plain) {
    out.push_back(digits[0]);
    out.push_back('.');
    out.append(n > 1 ? std::string_view(digits).substr(1) : std::string_view("0"));
    out.push_back('e');
    out.append(std::to_string(sci_exp));
    return;
  }
  if (ryu_exp >= 0) {
    out.append(digits);
    out.append(static_cast<std::size_t>(ryu_exp), '0');
    out.append(".0");
  } else if (const int whole_digits = n + ryu_exp; whole_digits > 0) {
    const auto whole = static_cast<std::size_t>(whole_digits);
    out.append(digits, 0, whole);
    out.push_back('.');
    out.append(digits, whole);
  } else {
    out.append("0.");
    const int zeros = -(n + ryu_exp);
    out.append(static_cast<std::size_t>(zeros), '0');
    out.append(digits);
  }
}

bool printable_bytes(std::string_view b) {
  return std::ranges::all_of(b,
                             [](char c) { return printable_char(static_cast<unsigned char>(c)); });
}

class Printer {
 public:
  explicit Printer(std::string& out) : out_(out) {}

  void term(const Term& t) {
    std::visit([this](const auto& v) { this->value(v); }, t.variant());
  }

 private:
  void value(std::int64_t v) { write_int(out_, v); }
  void value(const BigInt& v) { write_big(out_, v); }
  void value(double v) { write_float(out_, v); }
  void value(Atom a) { write_atom(out_, a); }
  void node(Atom n) { out_.append(n.name()); }
  void value(const Reference& r) {
    out_.append("#Ref<");
    node(r.node);
    for (std::size_t i = r.length; i-- > 0;) {
      out_.push_back('.');
      write_uint(out_, r.ids[i]);
    }
    out_.push_back('>');
  }
  void value(const Fun& f) {
    out_.append("#Fun<");
    write_atom(out_, f.module);
    detail::FunHeader header;  // index and uniq from one read of the bytes; 0 if they lack them
    if (!detail::fun_parts(f, header, nullptr)) header = {};
    out_.push_back('.');
    write_uint(out_, header.old_index);
    out_.push_back('.');
    write_uint(out_, header.old_uniq);
    out_.push_back('>');
  }
  void value(const Export& e) {
    out_.append("fun ");
    write_atom(out_, e.module);
    out_.push_back(':');
    write_atom(out_, e.function);
    out_.push_back('/');
    write_uint(out_, e.arity);
  }
  void value(const Port& p) {
    out_.append("#Port<");
    node(p.node);
    out_.push_back('.');
    write_uint(out_, p.id);
    out_.push_back('>');
  }
  void value(const Pid& p) {
    out_.push_back('<');
    node(p.node);
    out_.push_back('.');
    write_uint(out_, p.id);
    out_.push_back('.');
    write_uint(out_, p.serial);
    out_.push_back('>');
  }
  void value(const Tuple& t) {
    out_.push_back('{');
    for (std::size_t i = 0; i < t.elements.size(); ++i) {
      if (i != 0) out_.push_back(',');
      term(t.elements[i]);
    }
    out_.push_back('}');
  }
  void value(const Map& m) {
    out_.append("#{");
    // Small maps print in key order like the BEAM's flatmaps. The BEAM prints larger maps in
    // the reverse of the order term_to_binary writes them, so a decoded map prints as it did
    // on the node that sent it.
    if (m.entries.size() <= flatmap_max_keys) {
      bool first = true;
      for (const auto* e : detail::sorted_entries(m)) {
        if (!first) out_.push_back(',');
        first = false;
        pair(e->first, e->second);
      }
    } else {
      for (std::size_t i = m.entries.size(); i-- > 0;) {
        pair(m.entries[i].first, m.entries[i].second);
        if (i != 0) out_.push_back(',');
      }
    }
    out_.push_back('}');
  }
  void pair(const Term& k, const Term& v) {
    term(k);
    out_.append(" => ");
    term(v);
  }
  void value(const List& l) {
    if (l.elements.empty()) {
      out_.append("[]");
      return;
    }
    if (l.proper && printable_list(l)) {
      out_.push_back('"');
      for (const auto& e : l.elements) {
        write_char(out_, static_cast<std::uint32_t>(*e.get_if<std::int64_t>()), '"');
      }
      out_.push_back('"');
      return;
    }
    out_.push_back('[');
    const std::size_t heads = l.proper ? l.elements.size() : l.elements.size() - 1;
    for (std::size_t i = 0; i < heads; ++i) {
      if (i != 0) out_.push_back(',');
      term(l.elements[i]);
    }
    if (!l.proper) {
      out_.push_back('|');
      term(l.elements.back());
    }
    out_.push_back(']');
  }
  static bool printable_list(const List& l) {
    return std::ranges::all_of(l.elements, [](const Term& e) {
      const auto* i = e.get_if<std::int64_t>();
      return i != nullptr && *i >= 0 && *i <= 255 && printable_char(static_cast<std::uint32_t>(*i));
    });
  }
  void value(const String& s) {
    if (s.bytes.empty()) {
      out_.append("[]");
      return;
    }
    if (printable_bytes(s.bytes)) {
      out_.push_back('"');
      for (char c : s.bytes) write_char(out_, static_cast<unsigned char>(c), '"');
      out_.push_back('"');
      return;
    }
    out_.push_back('[');
    for (std::size_t i = 0; i < s.bytes.size(); ++i) {
      if (i != 0) out_.push_back(',');
      write_uint(out_, static_cast<unsigned char>(s.bytes[i]));
    }
    out_.push_back(']');
  }
  void value(const Binary& b) {
    if (b.bytes.empty()) {
      out_.append("<<>>");
      return;
    }
    if (printable_bytes(b.bytes)) {
      out_.append("<<\"");
      for (char c : b.bytes) write_char(out_, static_cast<unsigned char>(c), '"');
      out_.append("\">>");
      return;
    }
    out_.append("<<");
    bytes(b.bytes, b.bytes.size());
    out_.append(">>");
  }
  void bytes(const std::string& b, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (i != 0) out_.push_back(',');
      write_uint(out_, static_cast<unsigned char>(b[i]));
    }
  }
  void value(const BitString& b) {
    out_.append("<<");
    const std::size_t full = b.bytes.size() - 1;
    bytes(b.bytes, full);
    if (full != 0) out_.push_back(',');
    write_uint(out_, static_cast<unsigned char>(b.bytes.back()) >> (8 - b.bits_in_last));
    out_.push_back(':');
    write_uint(out_, b.bits_in_last);
    out_.append(">>");
  }

  std::string& out_;
};

}  // namespace

std::string to_string(const Term& t) {
  std::string out;
  Printer(out).term(t);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Term& t) { return os << to_string(t); }

}  // namespace cppnode::codec
