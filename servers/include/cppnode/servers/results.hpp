// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

#include "cppnode/codec/term.hpp"

namespace cppnode::servers {

/// How long a server waits for its next message before `handle_info(timeout)` runs, as the
/// Timeout of `{reply, R, S, Timeout}`; `std::nullopt` is `infinity`.
using Timeout = std::optional<std::chrono::milliseconds>;

namespace detail {

enum class Action : std::uint8_t { ok, reply, noreply, stop, stop_reply, ignore, no_match };

/// What a callback asked for. Built only through the result classes below.
struct Outcome {
  Action action = Action::noreply;
  Timeout timeout;
  codec::Term reply;
  codec::Term reason;
};

}  // namespace detail

/// What `init` returns: `{ok, State}`, `{ok, State, Timeout}`, `{stop, Reason}` or `ignore`.
class InitResult {
 public:
  /// Start serving; with a timeout, `handle_info(timeout)` runs if no message comes in time.
  static InitResult ok(Timeout timeout = std::nullopt) {
    return InitResult({detail::Action::ok, timeout, {}, {}});
  }
  /// Do not start: the process exits with `reason` and `start` reports it.
  static InitResult stop(codec::Term reason) {
    return InitResult({detail::Action::stop, std::nullopt, {}, std::move(reason)});
  }
  /// Do not start, quietly: the process exits `normal` and `start` reports `ignore`.
  static InitResult ignore() { return InitResult({detail::Action::ignore, std::nullopt, {}, {}}); }

  [[nodiscard]] const detail::Outcome& outcome() const noexcept { return outcome_; }
  [[nodiscard]] detail::Outcome& outcome() noexcept { return outcome_; }

 private:
  explicit InitResult(detail::Outcome o) : outcome_(std::move(o)) {}
  detail::Outcome outcome_;
};

/// What `handle_cast`, `handle_info` and call continuations return: `{noreply, State}`,
/// `{noreply, State, Timeout}` or `{stop, Reason, State}`.
class InfoResult {
 public:
  static InfoResult noreply(Timeout timeout = std::nullopt) {
    return InfoResult({detail::Action::noreply, timeout, {}, {}});
  }
  /// Ends the server: `terminate(reason)` runs, then the process exits with `reason`.
  static InfoResult stop(codec::Term reason) {
    return InfoResult({detail::Action::stop, std::nullopt, {}, std::move(reason)});
  }
  /// No clause matched, as an Elixir or Erlang callback without a catch-all clause: the server
  /// exits with `{function_clause, [{Module, Callback, [Args..., State], []}]}`.
  static InfoResult no_match() { return InfoResult({detail::Action::no_match, {}, {}, {}}); }

  [[nodiscard]] const detail::Outcome& outcome() const noexcept { return outcome_; }
  [[nodiscard]] detail::Outcome& outcome() noexcept { return outcome_; }

 private:
  friend class CallResult;
  explicit InfoResult(detail::Outcome o) : outcome_(std::move(o)) {}
  detail::Outcome outcome_;
};

/// What `handle_call` returns: `{reply, R, State}` (optionally with a timeout), `{noreply, State}`
/// (answer later through `From::reply`), `{stop, Reason, Reply, State}` or `{stop, Reason, State}`.
/// Every InfoResult converts to a CallResult.
class CallResult {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor)
  CallResult(InfoResult r) : outcome_(std::move(r.outcome_)) {}

  static CallResult reply(codec::Term reply, Timeout timeout = std::nullopt) {
    return CallResult({detail::Action::reply, timeout, std::move(reply), {}});
  }
  /// Replies, then ends the server with `reason` (`terminate` runs before the reply goes out).
  static CallResult stop(codec::Term reason, codec::Term reply) {
    return CallResult(
        {detail::Action::stop_reply, std::nullopt, std::move(reply), std::move(reason)});
  }

  [[nodiscard]] const detail::Outcome& outcome() const noexcept { return outcome_; }
  [[nodiscard]] detail::Outcome& outcome() noexcept { return outcome_; }

 private:
  explicit CallResult(detail::Outcome o) : outcome_(std::move(o)) {}
  detail::Outcome outcome_;
};

}  // namespace cppnode::servers
