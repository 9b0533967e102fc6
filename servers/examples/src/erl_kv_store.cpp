// SPDX-License-Identifier: Apache-2.0
// kv_store (Erlang, seed 003): {put, K, V} → ok, {get, K} → the value or undefined, all → the
// map, any other call → {error, unknown_request}; cast {delete, K}, other casts ignored.
#include <spdlog/spdlog.h>

#include "cppnode/servers/examples/example_servers.hpp"
#include "map_server.hpp"

namespace cppnode::servers::examples {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

class ErlKVStore final : public MapServer {
 public:
  ErlKVStore() : MapServer("undefined"_a) {}
  [[nodiscard]] Atom module() const override { return "kv_store"_a; }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    if (auto answer = put_or_get(request)) return std::move(*answer);
    if (const auto* a = request.get_if<Atom>(); a != nullptr && *a == "all"_a) {
      return reply(to_term(map_));
    }
    return reply(codec::tuple("error"_a, "unknown_request"_a));
  }

  InfoResult handle_cast(const Term& message) override {
    deleted(message);  // any other cast is ignored
    return noreply();
  }

  // The module has no handle_info/2: gen_server logs the message and keeps going.
  InfoResult handle_info(const Term& message) override {
    spdlog::warn("** Undefined handle_info in kv_store\n** Unhandled message: {}",
                 codec::to_string(message));
    return noreply();
  }
};

}  // namespace

std::unique_ptr<GenServer> make_erl_kv_store() { return std::make_unique<ErlKVStore>(); }

}  // namespace cppnode::servers::examples
