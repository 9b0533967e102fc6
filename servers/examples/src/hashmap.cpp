// SPDX-License-Identifier: Apache-2.0
// Hashmap (seed 004), started empty: {get, K} → value or nil, {get, K, Default}, {get_all} →
// the map, {update, K, V} and {put, K, V} → ok, cast {delete, K}. No catch-all clauses.
#include "cppnode/codec/term_map.hpp"
#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

const Term nil{"nil"_a};

class Hashmap final : public GenServer {
 public:
  [[nodiscard]] Atom module() const override { return "Elixir.Hashmap"_a; }
  [[nodiscard]] Term state_term() const override { return to_term(map_); }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    Term key;
    Term value;
    if (codec::match(request, "get"_a, &key)) return reply(get_or(map_, key, nil));
    if (codec::match(request, "get"_a, &key, &value)) return reply(get_or(map_, key, value));
    if (codec::match(request, "get_all"_a)) return reply(to_term(map_));
    if (codec::match(request, "update"_a, &key, &value) ||
        codec::match(request, "put"_a, &key, &value)) {
      map_.insert_or_assign(std::move(key), std::move(value));
      return reply("ok"_a);
    }
    return no_match();
  }

  InfoResult handle_cast(const Term& message) override {
    Term key;
    if (!codec::match(message, "delete"_a, &key)) return no_match();
    map_.erase(key);
    return noreply();
  }

 private:
  codec::TermMap map_;
};

}  // namespace

std::unique_ptr<GenServer> make_hashmap() { return std::make_unique<Hashmap>(); }

}  // namespace cppnode::servers::examples
