// SPDX-License-Identifier: Apache-2.0
// Stack (seed 001): starts [hello]; call pop → the head; cast {push, E}. pop on an empty stack
// has no matching clause: the server exits with function_clause and is restarted.
#include <vector>

#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

class Stack final : public GenServer {
 public:
  [[nodiscard]] Atom module() const override { return "Elixir.Stack"_a; }
  [[nodiscard]] Term state_term() const override {
    return codec::list_of(std::vector<Term>(items_.rbegin(), items_.rend()));
  }

 protected:
  InitResult init() override {
    items_.emplace_back("hello"_a);
    return ok();
  }

  CallResult handle_call(const Term& request, const From&) override {
    const auto* a = request.get_if<Atom>();
    if (a == nullptr || *a != "pop"_a || items_.empty()) return no_match();
    Term head = std::move(items_.back());
    items_.pop_back();
    return reply(std::move(head));
  }

  InfoResult handle_cast(const Term& message) override {
    Term element;
    if (!codec::match(message, "push"_a, &element)) return no_match();
    items_.push_back(std::move(element));
    return noreply();
  }

 private:
  std::vector<Term> items_;  // the top of the stack is the back
};

}  // namespace

std::unique_ptr<GenServer> make_stack() { return std::make_unique<Stack>(); }

}  // namespace cppnode::servers::examples
