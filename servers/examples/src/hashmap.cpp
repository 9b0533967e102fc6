// SPDX-License-Identifier: Apache-2.0
// Hashmap (seed 004), started empty: {get, K} → value or nil, {get, K, Default}, {get_all} →
// the map, {update, K, V} and {put, K, V} → ok, cast {delete, K}. No catch-all clauses.
#include "cppnode/servers/examples/example_servers.hpp"
#include "map_server.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

class Hashmap final : public MapServer {
 public:
  Hashmap() : MapServer("nil"_a) {}
  [[nodiscard]] Atom module() const override { return "Elixir.Hashmap"_a; }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    if (auto answer = put_or_get(request)) return std::move(*answer);
    Term key;
    Term value;
    if (codec::match(request, "get"_a, &key, &value)) return reply(get_or(map_, key, value));
    if (codec::match(request, "get_all"_a)) return reply(to_term(map_));
    if (codec::match(request, "update"_a, &key, &value)) {
      return put(std::move(key), std::move(value));
    }
    return no_match();
  }

  InfoResult handle_cast(const Term& message) override {
    return deleted(message) ? noreply() : no_match();
  }
};

}  // namespace

std::unique_ptr<GenServer> make_hashmap() { return std::make_unique<Hashmap>(); }

}  // namespace cppnode::servers::examples
