// SPDX-License-Identifier: Apache-2.0
// kv_store (Erlang, seed 003): {put, K, V} → ok, {get, K} → the value or undefined, all → the
// map, any other call → {error, unknown_request}; cast {delete, K}, other casts ignored.
#include <spdlog/spdlog.h>

#include "cppnode/codec/term_map.hpp"
#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

const Term undefined{"undefined"_a};

class ErlKVStore final : public GenServer {
 public:
  [[nodiscard]] Atom module() const override { return "kv_store"_a; }
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
      return reply(get_or(map_, key, undefined));
    }
    if (const auto* a = request.get_if<Atom>(); a != nullptr && *a == "all"_a) {
      return reply(to_term(map_));
    }
    return reply(codec::tuple("error"_a, "unknown_request"_a));
  }

  InfoResult handle_cast(const Term& message) override {
    Term key;
    if (codec::match(message, "delete"_a, &key)) map_.erase(key);
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
