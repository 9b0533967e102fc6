// SPDX-License-Identifier: Apache-2.0
// rate_limiter (Erlang, seed 003): call allow → ok while the allowance lasts, then
// {error, rate_limited}; a timer refills it every interval. State #{max => M, remaining => R}.
// The module has only these clauses and no handle_cast/2, so other calls and messages exit with
// function_clause and a cast exits with undef, as on the BEAM.
#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

class RateLimiter final : public GenServer {
 public:
  RateLimiter(int max, std::chrono::milliseconds interval)
      : max_(max), remaining_(max), interval_(interval) {}

  [[nodiscard]] Atom module() const override { return "rate_limiter"_a; }
  [[nodiscard]] Term state_term() const override {
    return codec::map({{"max"_a, max_}, {"remaining"_a, remaining_}});
  }

 protected:
  InitResult init() override {
    send_after(interval_, "reset"_a);
    return ok();
  }

  CallResult handle_call(const Term& request, const From&) override {
    const auto* a = request.get_if<Atom>();
    if (a == nullptr || *a != "allow"_a) return no_match();
    if (remaining_ == 0) return reply(codec::tuple("error"_a, "rate_limited"_a));
    --remaining_;
    return reply("ok"_a);
  }

  InfoResult handle_cast(const Term& message) override {
    return stop(codec::tuple(
        "undef"_a, codec::list(codec::tuple(module(), "handle_cast"_a,
                                            codec::list(message, state_term()), codec::list()))));
  }

  InfoResult handle_info(const Term& message) override {
    const auto* a = message.get_if<Atom>();
    if (a == nullptr || *a != "reset"_a) return no_match();
    send_after(interval_, "reset"_a);
    remaining_ = max_;
    return noreply();
  }

 private:
  std::int64_t max_;
  std::int64_t remaining_;
  std::chrono::milliseconds interval_;
};

}  // namespace

std::unique_ptr<GenServer> make_rate_limiter(int max_per_interval,
                                             std::chrono::milliseconds interval) {
  return std::make_unique<RateLimiter>(max_per_interval, interval);
}

}  // namespace cppnode::servers::examples
