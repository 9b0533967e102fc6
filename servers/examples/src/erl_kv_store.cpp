// SPDX-License-Identifier: Apache-2.0
// kv_store (Erlang, seed 003): {put, K, V} → ok, {get, K} → the value or undefined, all → the
// map, any other call → {error, unknown_request}; cast {delete, K}, other casts ignored.
#include <spdlog/spdlog.h>

#include "cppnode/codec/term_map.hpp"
#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using codec::Atom;
using codec::Term;

namespace {

const Atom put_atom("put");
const Atom get_atom("get");
const Atom all_atom("all");
const Atom delete_atom("delete");
const Atom ok_atom("ok");
const Term undefined{Atom("undefined")};

class ErlKVStore final : public GenServer {
 public:
  [[nodiscard]] Atom module() const override { return Atom("kv_store"); }
  [[nodiscard]] Term state_term() const override { return to_term(map_); }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    Term key;
    Term value;
    if (codec::match(request, put_atom, &key, &value)) {
      map_.insert_or_assign(std::move(key), std::move(value));
      return reply(ok_atom);
    }
    if (codec::match(request, get_atom, &key)) {
      return reply(get_or(map_, key, undefined));
    }
    if (const auto* a = request.get_if<Atom>(); a != nullptr && *a == all_atom) {
      return reply(to_term(map_));
    }
    return reply(codec::tuple(Atom("error"), Atom("unknown_request")));
  }

  InfoResult handle_cast(const Term& message) override {
    Term key;
    if (codec::match(message, delete_atom, &key)) map_.erase(key);
    return noreply();
  }

  // The module has no handle_info/2: gen_server logs the message and keeps going.
  InfoResult handle_info(const Term& message) override {
    spdlog::warn("** Undefined handle_info in kv_store\n** Unhandled message: {}",
                 codec::to_string(message));
    return noreply();
  }

 private:
  codec::TermMap map_;
};

}  // namespace

std::unique_ptr<GenServer> make_erl_kv_store() { return std::make_unique<ErlKVStore>(); }

}  // namespace cppnode::servers::examples
