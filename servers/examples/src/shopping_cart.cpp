// SPDX-License-Identifier: Apache-2.0
// ShoppingCart (the exercise of seed 000): {add_item, Item, Price} → ok, {remove_item, Item} →
// ok (drops the first item == Item, as List.keydelete/3), list_items → [{Item, Price}] in
// insertion order, total → the sum with Erlang arithmetic, cast clear. Every add or remove
// restarts an inactivity timer; when it fires the cart empties. No catch-all clauses.
#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "cppnode/codec/term_map.hpp"
#include "cppnode/servers/arith.hpp"
#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

class ShoppingCart final : public GenServer {
 public:
  explicit ShoppingCart(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  [[nodiscard]] Atom module() const override { return "Elixir.ShoppingCart"_a; }
  [[nodiscard]] Term state_term() const override {
    std::vector<Term> items;
    items.reserve(items_.size());
    for (const auto& [item, price] : items_) items.push_back(codec::tuple(item, price));
    return codec::list_of(std::move(items));
  }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    Term item;
    Term price;
    if (codec::match(request, "add_item"_a, &item, &price)) {
      touch();
      items_.emplace_back(std::move(item), std::move(price));
      return reply("ok"_a);
    }
    if (codec::match(request, "remove_item"_a, &item)) {
      touch();
      auto it = std::find_if(items_.begin(), items_.end(),
                             [&](const auto& entry) { return erlang_equal(entry.first, item); });
      if (it != items_.end()) items_.erase(it);
      return reply("ok"_a);
    }
    const auto* a = request.get_if<Atom>();
    if (a != nullptr && *a == "list_items"_a) return reply(state_term());
    if (a != nullptr && *a == "total"_a) {
      Term sum{std::int64_t{0}};
      for (const auto& entry : items_) sum = add(sum, entry.second);
      return reply(std::move(sum));
    }
    return no_match();
  }

  InfoResult handle_cast(const Term& message) override {
    const auto* a = message.get_if<Atom>();
    if (a == nullptr || *a != "clear"_a) return no_match();
    items_.clear();
    return noreply();
  }

  InfoResult handle_info(const Term& message) override {
    const auto* a = message.get_if<Atom>();
    if (a == nullptr || *a != "inactivity_timeout"_a) return GenServer::handle_info(message);
    timer_.reset();
    items_.clear();
    return noreply();
  }

 private:
  // Every add or remove counts as activity: the inactivity timer starts over.
  void touch() {
    if (timer_) cancel_timer(*timer_);
    timer_ = send_after(timeout_, "inactivity_timeout"_a);
  }

  std::chrono::milliseconds timeout_;
  std::vector<std::pair<Term, Term>> items_;
  std::optional<TimerRef> timer_;
};

}  // namespace

std::unique_ptr<GenServer> make_shopping_cart(std::chrono::milliseconds inactivity_timeout) {
  return std::make_unique<ShoppingCart>(inactivity_timeout);
}

}  // namespace cppnode::servers::examples
