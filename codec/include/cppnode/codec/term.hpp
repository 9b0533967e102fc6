// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "cppnode/codec/atom.hpp"

namespace cppnode::codec {

class Term;

/// An integer outside the int64 range (ETF SMALL_BIG_EXT / LARGE_BIG_EXT).
/// Invariant: `magnitude` is little-endian without trailing zero bytes and its value does not fit
/// in int64; integers that fit are always `std::int64_t`.
struct BigInt {
  bool negative = false;
  std::vector<std::uint8_t> magnitude;
  friend bool operator==(const BigInt&, const BigInt&) = default;
};

/// A binary: a whole number of bytes.
struct Binary {
  std::string bytes;
  friend bool operator==(const Binary&, const Binary&) = default;
};

/// A bitstring whose last byte holds `bits_in_last` (1..7) significant high bits.
/// Bitstrings with a whole number of bytes are always `Binary`.
struct BitString {
  std::string bytes;
  std::uint8_t bits_in_last = 8;
  friend bool operator==(const BitString&, const BitString&) = default;
};

/// A process identifier (ETF NEW_PID_EXT).
struct Pid {
  Atom node;
  std::uint32_t id = 0;
  std::uint32_t serial = 0;
  std::uint32_t creation = 0;
  friend bool operator==(const Pid&, const Pid&) = default;
};

/// A port identifier (ETF NEW_PORT_EXT, or V4_PORT_EXT for ids of 2^28 and above, as OTP 25).
struct Port {
  Atom node;
  std::uint64_t id = 0;
  std::uint32_t creation = 0;
  friend bool operator==(const Port&, const Port&) = default;
};

/// A reference (ETF NEWER_REFERENCE_EXT); `ids[0..length)` are significant.
struct Reference {
  Atom node;
  std::uint32_t creation = 0;
  std::uint8_t length = 3;
  std::array<std::uint32_t, 5> ids{};
  friend bool operator==(const Reference& a, const Reference& b) {
    return a.node == b.node && a.creation == b.creation && a.length == b.length &&
           std::equal(a.ids.begin(), a.ids.begin() + a.length, b.ids.begin());
  }
};

/// A fun (ETF NEW_FUN_EXT), kept opaque: `encoded` holds its exact bytes, tag included, so it
/// re-encodes byte for byte. `module`, `index()` (OldIndex) and `uniq()` (OldUniq) are what
/// Erlang prints (`#Fun<module.index.uniq>`) and orders by; the last two are read from
/// `encoded` when asked (0 if it does not hold them), which keeps every Term at 48 bytes.
struct Fun {
  std::string encoded;
  Atom module;
  [[nodiscard]] std::uint32_t index() const;
  [[nodiscard]] std::uint32_t uniq() const;
  friend bool operator==(const Fun& a, const Fun& b) { return a.encoded == b.encoded; }
};

/// An external fun `fun M:F/A` (ETF EXPORT_EXT).
struct Export {
  Atom module;
  Atom function;
  std::uint8_t arity = 0;
  friend bool operator==(const Export&, const Export&) = default;
};

/// A tuple.
struct Tuple {
  std::vector<Term> elements;
  friend bool operator==(const Tuple&, const Tuple&);
};

/// A list. `[]` (nil) is the empty proper list. An improper list `[a, b | t]` keeps its tail as
/// the last element of `elements` with `proper == false`.
struct List {
  std::vector<Term> elements;
  bool proper = true;
  friend bool operator==(const List&, const List&);
};

/// A proper list of integers 0..255 kept as bytes (the fast path of ETF STRING_EXT, Erlang's
/// "strings"). It is the same Erlang term as the `List` of those integers: they compare equal,
/// order and hash alike.
struct String {
  std::string bytes;
  friend bool operator==(const String&, const String&) = default;
};

/// A map. Entries keep the order they were decoded or built in; equality ignores that order.
/// Keys are unique (the decoder rejects duplicates).
struct Map {
  std::vector<std::pair<Term, Term>> entries;
  /// The value for `key`, or null.
  [[nodiscard]] const Term* find(const Term& key) const;
  friend bool operator==(const Map&, const Map&);
};

/// The kinds of Erlang term, in Erlang term order (number < atom < reference < fun < port < pid
/// < tuple < map < nil < list < bitstring).
enum class Kind : std::uint8_t {
  integer,  // int64 or big
  float_,
  atom,
  reference,
  fun,  // Fun and Export
  port,
  pid,
  tuple,
  map,
  list,       // nil, List and String
  bitstring,  // Binary and BitString
};

/// An Erlang term. A small regular type: cheap moves, value semantics, `==` is Erlang's `=:=`,
/// `<=>` is Erlang's term order (with `1 < 1.0` as a tie-break, like map keys), `std::hash`
/// agrees with `==`.
class Term {
 public:
  using Variant = std::variant<std::int64_t, BigInt, double, Atom, Reference, Fun, Export, Port,
                               Pid, Tuple, Map, List, String, Binary, BitString>;

  /// The empty list `[]`.
  Term() : value_(List{}) {}
  Term(std::int64_t v) : value_(v) {}  // NOLINT(google-explicit-constructor)
  // NOLINTBEGIN(google-explicit-constructor)
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, std::int64_t> &&
           (sizeof(I) < sizeof(std::int64_t) || std::is_signed_v<I>)) Term(I v)
      : value_(static_cast<std::int64_t>(v)) {}
  // NOLINTEND(google-explicit-constructor)
  /// Unsigned 64-bit values above INT64_MAX become a BigInt.
  Term(std::uint64_t v);         // NOLINT(google-explicit-constructor)
  Term(double v) : value_(v) {}  // NOLINT(google-explicit-constructor)
  /// `true` / `false` atoms.
  Term(bool v) : value_(Atom(v ? "true" : "false")) {}  // NOLINT(google-explicit-constructor)
  Term(Atom v) : value_(v) {}                           // NOLINT(google-explicit-constructor)
  Term(BigInt v);  // NOLINT(google-explicit-constructor) normalises to int64 when it fits
  Term(Binary v) : value_(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  Term(BitString v);  // NOLINT(google-explicit-constructor) normalises whole bytes to Binary
  Term(Pid v) : value_(v) {}                // NOLINT(google-explicit-constructor)
  Term(Port v) : value_(v) {}               // NOLINT(google-explicit-constructor)
  Term(Reference v) : value_(v) {}          // NOLINT(google-explicit-constructor)
  Term(Fun v) : value_(std::move(v)) {}     // NOLINT(google-explicit-constructor)
  Term(Export v) : value_(v) {}             // NOLINT(google-explicit-constructor)
  Term(Tuple v) : value_(std::move(v)) {}   // NOLINT(google-explicit-constructor)
  Term(List v) : value_(std::move(v)) {}    // NOLINT(google-explicit-constructor)
  Term(String v) : value_(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  Term(Map v) : value_(std::move(v)) {}     // NOLINT(google-explicit-constructor)
  /// A C string is ambiguous in Erlang (atom? binary? charlist?): say which with `"x"_a`,
  /// `binary("x")` or `charlist("x")`.
  Term(const char*) = delete;

  Term(const Term& other) : value_(other.value_) {}
  Term(Term&& other) noexcept : value_(std::move(other.value_)) {}
  Term& operator=(const Term& other) {
    value_ = other.value_;
    return *this;
  }
  Term& operator=(Term&& other) noexcept {
    value_ = std::move(other.value_);
    return *this;
  }
  ~Term() {
    if (!holds_trivially_destructible()) value_.~Variant();
  }

  [[nodiscard]] Kind kind() const noexcept;

  /// True if the term holds alternative `T` (e.g. `is<Tuple>()`).
  template <class T>
  [[nodiscard]] bool is() const noexcept {
    return std::holds_alternative<T>(value_);
  }
  /// Pointer to the `T` alternative, or null.
  template <class T>
  [[nodiscard]] const T* get_if() const noexcept {
    return std::get_if<T>(&value_);
  }
  template <class T>
  [[nodiscard]] T* get_if() noexcept {
    return std::get_if<T>(&value_);
  }
  /// The `T` alternative; throws `std::invalid_argument` naming the expected and actual kind.
  template <class T>
  [[nodiscard]] const T& as() const {
    if (const T* p = get_if<T>()) return *p;
    throw_wrong_kind(alternative_name<T>());
  }
  template <class T>
  [[nodiscard]] T& as() {
    if (T* p = get_if<T>()) return *p;
    throw_wrong_kind(alternative_name<T>());
  }

  [[nodiscard]] bool is_nil() const noexcept;
  /// True for `[]`, List and String.
  [[nodiscard]] bool is_list() const noexcept { return kind() == Kind::list; }
  /// True if this is the atom `a`.
  [[nodiscard]] bool is_atom(std::string_view a) const noexcept;
  /// The elements of a proper list (List or String, materialised); throws on anything else.
  [[nodiscard]] std::vector<Term> list_elements() const;

  [[nodiscard]] const Variant& variant() const noexcept { return value_; }
  [[nodiscard]] Variant& variant() noexcept { return value_; }

  friend bool operator==(const Term& a, const Term& b);
  friend std::strong_ordering operator<=>(const Term& a, const Term& b);

  // std::visit throws only for a valueless variant, and a Term never is one: its alternatives
  // move without throwing, so an assignment that throws leaves the old value.
  // NOLINTNEXTLINE(bugprone-exception-escape)
  [[nodiscard]] std::size_t hash() const noexcept;

  template <class T>
  static constexpr std::string_view alternative_name();

 private:
  [[noreturn]] void throw_wrong_kind(std::string_view expected) const;

  // Bit i is set when alternative i needs no destructor.
  static constexpr std::uint32_t trivially_destructible_alternatives =
      []<std::size_t... I>(std::index_sequence<I...>) {
    return ((std::uint32_t{std::is_trivially_destructible_v<std::variant_alternative_t<I, Variant>>}
             << I) |
            ...);
  }
  (std::make_index_sequence<std::variant_size_v<Variant>>{});
  static_assert(std::variant_size_v<Variant> <= 32);

  [[nodiscard]] bool holds_trivially_destructible() const noexcept {
    const std::size_t i = value_.index();  // variant_npos when valueless: destroyed normally
    return i < 32 && ((trivially_destructible_alternatives >> i) & 1U) != 0;
  }

  // In a union so that ~Term can skip the variant's destructor, which dispatches through a jump
  // table even for integers and atoms: in a list of 100 integers that call was a third of the
  // decode time.
  union {
    Variant value_;
  };
};

/// Erlang's own term order (`<`, `==` of Erlang), where `1 == 1.0`: a weak order that `<=>`
/// refines by putting integers before equal floats.
std::weak_ordering erlang_compare(const Term& a, const Term& b);
/// Erlang's `==`: like `=:=` except that numbers compare by value (`1 == 1.0`), also inside
/// tuples, lists and map values (map keys still match exactly).
bool erlang_equal(const Term& a, const Term& b);
/// Erlang's map key order (OTP 25): the term order, except that every integer sorts before
/// every float, also inside tuples, lists and maps (so `1 < 2 < 1.0 < 1.5`). This is the order
/// of `maps:keys/1` and `Map.keys/1` for maps of up to 32 keys; larger maps list their keys in
/// the runtime's internal hash order instead, which this does not reproduce.
std::strong_ordering map_key_compare(const Term& a, const Term& b);

/// Calls `f` with the held alternative.
template <class F>
decltype(auto) visit(F&& f, const Term& t) {
  return std::visit(std::forward<F>(f), t.variant());
}
template <class F>
decltype(auto) visit(F&& f, Term& t) {
  return std::visit(std::forward<F>(f), t.variant());
}

template <class T>
constexpr std::string_view Term::alternative_name() {
  if constexpr (std::is_same_v<T, std::int64_t>) {
    return "integer";
  } else if constexpr (std::is_same_v<T, BigInt>) {
    return "big integer";
  } else if constexpr (std::is_same_v<T, double>) {
    return "float";
  } else if constexpr (std::is_same_v<T, Atom>) {
    return "atom";
  } else if constexpr (std::is_same_v<T, Reference>) {
    return "reference";
  } else if constexpr (std::is_same_v<T, Fun>) {
    return "fun";
  } else if constexpr (std::is_same_v<T, Export>) {
    return "export";
  } else if constexpr (std::is_same_v<T, Port>) {
    return "port";
  } else if constexpr (std::is_same_v<T, Pid>) {
    return "pid";
  } else if constexpr (std::is_same_v<T, Tuple>) {
    return "tuple";
  } else if constexpr (std::is_same_v<T, Map>) {
    return "map";
  } else if constexpr (std::is_same_v<T, List>) {
    return "list";
  } else if constexpr (std::is_same_v<T, String>) {
    return "string";
  } else if constexpr (std::is_same_v<T, Binary>) {
    return "binary";
  } else if constexpr (std::is_same_v<T, BitString>) {
    return "bitstring";
  } else {
    static_assert(!sizeof(T), "not a Term alternative");
  }
}

// ---- Construction helpers: build terms that read like Erlang ----

/// `{a, b, c}`: `tuple("put"_a, binary("k"), 1)`.
template <class... Ts>
Term tuple(Ts&&... ts) {
  Tuple t;
  t.elements.reserve(sizeof...(Ts));
  (t.elements.emplace_back(std::forward<Ts>(ts)), ...);
  return Term(std::move(t));
}
/// `[a, b, c]`.
template <class... Ts>
Term list(Ts&&... ts) {
  List l;
  l.elements.reserve(sizeof...(Ts));
  (l.elements.emplace_back(std::forward<Ts>(ts)), ...);
  return Term(std::move(l));
}
/// A proper list from a vector.
Term list_of(std::vector<Term> elements);
/// `[a, b | tail]`; a nil tail gives a proper list.
Term improper_list(std::vector<Term> elements, Term tail);
/// `<<"bytes">>`.
inline Term binary(std::string_view bytes) { return Term(Binary{std::string(bytes)}); }
/// `"chars"` as an Erlang charlist of bytes.
inline Term charlist(std::string_view bytes) { return Term(String{std::string(bytes)}); }
/// `#{k => v, ...}` from pairs.
Term map(std::initializer_list<std::pair<Term, Term>> entries);

// ---- Matching ----

/// Matches anything in a `match` pattern.
struct Wildcard {};
inline constexpr Wildcard _{};

namespace detail {
inline bool match_one(const Term& t, Wildcard) { return (void)t, true; }
inline bool match_one(const Term& t, const Term& expected) { return t == expected; }
inline bool match_one(const Term& t, Atom expected) {
  const Atom* a = t.get_if<Atom>();
  return a != nullptr && *a == expected;
}
inline bool match_one(const Term& t, Term* bind) {
  *bind = t;
  return true;
}
/// Binds one alternative (an integer, Atom, Binary, Pid, ...) when `t` holds it.
template <class T>
bool match_one(const Term& t, T* bind) {
  if (const auto* v = t.get_if<T>()) {
    *bind = *v;
    return true;
  }
  return false;
}
}  // namespace detail

/// Matches `t` against the tuple pattern `{p1, p2, ...}`. Each pattern is a `Term` or `Atom`
/// (must be equal), `_` (anything) or a pointer that receives the element: `Term*` takes any
/// element, `std::int64_t*`, `Atom*`, `Binary*`, `Pid*` take only that kind.
/// `if (match(req, "put"_a, &key, &value))` matches `{put, Key, Value}`. Bindings are written
/// as matching goes, so they are unspecified when `match` returns false.
template <class... Ps>
bool match(const Term& t, Ps&&... patterns) {
  const auto* tup = t.get_if<Tuple>();
  if (tup == nullptr || tup->elements.size() != sizeof...(Ps)) return false;
  std::size_t i = 0;
  return (detail::match_one(tup->elements[i++], std::forward<Ps>(patterns)) && ...);
}

// ---- Printing ----

/// The term in Erlang syntax, as `io_lib:format("~p", [T])` prints it with no line breaks
/// (Latin-1 mode: characters above 255 are escaped as \x{...}, others written as UTF-8).
/// Maps of up to 32 keys print in key order; larger ones in the reverse of their stored order,
/// which for a decoded map is the order the sending node prints. Where Erlang prints a node's
/// local index, identifiers print the node's name: `<cpp@host.42.0>`, `#Port<cpp@host.7>`,
/// `#Ref<cpp@host.3.2.1>`.
std::string to_string(const Term& t);
std::ostream& operator<<(std::ostream& os, const Term& t);

}  // namespace cppnode::codec

template <>
struct std::hash<cppnode::codec::Term> {
  // NOLINTNEXTLINE(bugprone-exception-escape): Term::hash throws nothing (see there).
  std::size_t operator()(const cppnode::codec::Term& t) const noexcept { return t.hash(); }
};
