// SPDX-License-Identifier: Apache-2.0
// Hashmap (seed 004), started empty: {get, K} → value or nil, {get, K, Default}, {get_all} →
// the map, {update, K, V} and {put, K, V} → ok, cast {delete, K}. No catch-all clauses.
#include "cppnode/codec/term_map.hpp"
#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using codec::Atom;
using codec::Term;

namespace {

const Atom get_atom("get");
const Atom get_all_atom("get_all");
const Atom update_atom("update");
const Atom put_atom("put");
const Atom delete_atom("delete");
const Atom ok_atom("ok");
const Term nil{Atom("nil")};

class Hashmap final : public GenServer {
 public:
  [[nodiscard]] Atom module() const override { return Atom("Elixir.Hashmap"); }
  [[nodiscard]] Term state_term() const override { return to_term(map_); }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    Term key;
    Term value;
    if (codec::match(request, get_atom, &key)) return reply(get_or(map_, key, nil));
    if (codec::match(request, get_atom, &key, &value)) return reply(get_or(map_, key, value));
    if (codec::match(request, get_all_atom)) return reply(to_term(map_));
    if (codec::match(request, update_atom, &key, &value) ||
        codec::match(request, put_atom, &key, &value)) {
      map_.insert_or_assign(std::move(key), std::move(value));
      return reply(ok_atom);
    }
    return no_match();
  }

  InfoResult handle_cast(const Term& message) override {
    Term key;
    if (!codec::match(message, delete_atom, &key)) return no_match();
    map_.erase(key);
    return noreply();
  }

 private:
  codec::TermMap map_;
};

}  // namespace

std::unique_ptr<GenServer> make_hashmap() { return std::make_unique<Hashmap>(); }

}  // namespace cppnode::servers::examples
