// SPDX-License-Identifier: Apache-2.0
// Counter (seed 000): cast {increment, Amount} adds with Erlang arithmetic, call get_count.
// No other clauses: anything else exits with function_clause, as the Elixir module would.
#include "cppnode/servers/arith.hpp"
#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

class Counter final : public GenServer {
 public:
  [[nodiscard]] Atom module() const override { return "Elixir.Counter"_a; }
  [[nodiscard]] Term state_term() const override { return count_; }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    if (const auto* a = request.get_if<Atom>(); a != nullptr && *a == "get_count"_a) {
      return reply(count_);
    }
    return no_match();
  }

  InfoResult handle_cast(const Term& message) override {
    Term amount;
    if (!codec::match(message, "increment"_a, &amount)) return no_match();
    count_ = add(count_, amount);  // `count + amount`: badarith for a non-number
    return noreply();
  }

 private:
  Term count_{std::int64_t{0}};
};

}  // namespace

std::unique_ptr<GenServer> make_counter() { return std::make_unique<Counter>(); }

}  // namespace cppnode::servers::examples
