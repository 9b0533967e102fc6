// SPDX-License-Identifier: Apache-2.0
// The one way cppnode reports failure: a function returns Result<T, E>, shaped like C++23's
// std::expected so that moving to it later is a rename. E is codec::Error for decoding, a
// std::string message for the wire-protocol parsers, cnode::Failure for start-up, and the exit
// reason (a codec::Term) for servers.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace cppnode::codec {

struct Error;

/// An error on its way into a Result, as std::unexpected: it says which side a value is on, even
/// where T and E are the same type (Result<std::string, std::string>).
template <class E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  [[nodiscard]] const E& error() const& noexcept { return error_; }
  [[nodiscard]] E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};

/// `return unexpected(why);` in a function returning Result<T, E>.
template <class E>
[[nodiscard]] Unexpected<std::decay_t<E>> unexpected(E&& error) {
  return Unexpected<std::decay_t<E>>(std::forward<E>(error));
}

/// What `Result::value()` throws when there is no value; what() is the error's text.
class BadResultAccess : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
// The error's text for BadResultAccess: codec::Error's what() (offset and message), a message
// string, a cnode::Failure's message, a Term as Erlang prints it (found by ADL).
template <class E>
std::string describe_error(const E& e) {
  if constexpr (requires { std::string(e.what()); }) {
    return std::string(e.what());
  } else if constexpr (std::is_convertible_v<const E&, std::string>) {
    return e;
  } else if constexpr (requires { std::string(e.message); }) {
    return std::string(e.message);
  } else {
    return to_string(e);
  }
}
}  // namespace detail

/// A value of type T or the error E that prevented it.
template <class T, class E = Error>
class Result {
 public:
  // Implicit both ways, so that a function says `return value;` or `return unexpected(why);`.
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <class G>
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(Unexpected<G> error) : v_(std::in_place_index<1>, std::move(error).error()) {}

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws BadResultAccess naming the error if there is none.
  [[nodiscard]] T& value() & {
    check();
    return std::get<0>(v_);
  }
  [[nodiscard]] const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  [[nodiscard]] T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  [[nodiscard]] T value_or(T fallback) const& {
    return has_value() ? std::get<0>(v_) : std::move(fallback);
  }

  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }

  /// The error; only when `!has_value()`.
  [[nodiscard]] const E& error() const& { return std::get<1>(v_); }
  [[nodiscard]] E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  void check() const {
    if (!has_value()) throw BadResultAccess(detail::describe_error(std::get<1>(v_)));
  }
  std::variant<T, E> v_;
};

/// Success that carries nothing, or the error E.
template <class E>
class Result<void, E> {
 public:
  Result() = default;
  template <class G>
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(Unexpected<G> error) : error_(std::move(error).error()) {}

  [[nodiscard]] bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  /// Throws BadResultAccess naming the error if there is one.
  void value() const {
    if (error_) throw BadResultAccess(detail::describe_error(*error_));
  }

  /// The error; only when `!has_value()`.
  [[nodiscard]] const E& error() const& { return *error_; }
  [[nodiscard]] E&& error() && { return *std::move(error_); }

 private:
  std::optional<E> error_;
};

}  // namespace cppnode::codec
