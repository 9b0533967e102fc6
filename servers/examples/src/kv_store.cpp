// SPDX-License-Identifier: Apache-2.0
// KVStore (Elixir, seed 000): {put, K, V} → ok, {get, K} → the value or nil, keys → Map.keys
// order, cast {delete, K}. No catch-all clauses: anything else exits with function_clause.
#include "cppnode/servers/examples/example_servers.hpp"
#include "map_server.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

class KVStore final : public MapServer {
 public:
  KVStore() : MapServer("nil"_a) {}
  [[nodiscard]] Atom module() const override { return "Elixir.KVStore"_a; }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    if (auto answer = put_or_get(request)) return std::move(*answer);
    if (const auto* a = request.get_if<Atom>(); a != nullptr && *a == "keys"_a) {
      std::vector<Term> keys;
      keys.reserve(map_.size());
      for (const auto& [k, v] : map_) keys.push_back(k);
      return reply(codec::list_of(std::move(keys)));
    }
    return no_match();
  }

  InfoResult handle_cast(const Term& message) override {
    return deleted(message) ? noreply() : no_match();
  }
};

}  // namespace

std::unique_ptr<GenServer> make_kv_store() { return std::make_unique<KVStore>(); }

}  // namespace cppnode::servers::examples
