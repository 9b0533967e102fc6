// SPDX-License-Identifier: Apache-2.0
// KVStore (Elixir, seed 000): {put, K, V} → ok, {get, K} → the value or nil, keys → Map.keys
// order, cast {delete, K}. No catch-all clauses: anything else exits with function_clause.
#include "cppnode/codec/term_map.hpp"
#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

const Term nil{"nil"_a};

class KVStore final : public GenServer {
 public:
  [[nodiscard]] Atom module() const override { return "Elixir.KVStore"_a; }
  [[nodiscard]] Term state_term() const override { return to_term(map_); }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    Term key;
    Term value;
    if (codec::match(request, "put"_a, &key, &value)) {
      map_.insert_or_assign(std::move(key), std::move(value));
      return reply("ok"_a);
    }
    if (codec::match(request, "get"_a, &key)) {
      return reply(get_or(map_, key, nil));
    }
    if (const auto* a = request.get_if<Atom>(); a != nullptr && *a == "keys"_a) {
      std::vector<Term> keys;
      keys.reserve(map_.size());
      for (const auto& [k, v] : map_) keys.push_back(k);
      return reply(codec::list_of(std::move(keys)));
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

std::unique_ptr<GenServer> make_kv_store() { return std::make_unique<KVStore>(); }

}  // namespace cppnode::servers::examples
