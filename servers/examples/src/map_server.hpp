// SPDX-License-Identifier: Apache-2.0
// What the three map seeds (KVStore, kv_store, Hashmap) share: one map as the state, which
// `:sys.get_state` shows as that map; `{put, K, V}` → ok and `{get, K}` → the value or a
// default; the cast `{delete, K}`.
#pragma once

#include <optional>

#include "cppnode/codec/term_map.hpp"
#include "cppnode/servers/gen_server.hpp"

namespace cppnode::servers::examples {

class MapServer : public GenServer {
 public:
  /// `missing` is what `{get, K}` answers for a key that is not there (nil, undefined).
  explicit MapServer(codec::Term missing) : missing_(std::move(missing)) {}
  [[nodiscard]] codec::Term state_term() const override { return to_term(map_); }

 protected:
  /// The answer to `{put, K, V}` or `{get, K}`; nullopt for any other request.
  std::optional<CallResult> put_or_get(const codec::Term& request) {
    using namespace codec::literals;
    codec::Term key;
    codec::Term value;
    if (codec::match(request, "put"_a, &key, &value)) return put(std::move(key), std::move(value));
    if (codec::match(request, "get"_a, &key)) return reply(get_or(map_, key, missing_));
    return std::nullopt;
  }
  /// Stores `value` under `key` and answers ok.
  CallResult put(codec::Term key, codec::Term value) {
    using namespace codec::literals;
    map_.insert_or_assign(std::move(key), std::move(value));
    return reply("ok"_a);
  }
  /// Whether `message` is `{delete, K}`; if so, K is gone.
  bool deleted(const codec::Term& message) {
    using namespace codec::literals;
    codec::Term key;
    if (!codec::match(message, "delete"_a, &key)) return false;
    map_.erase(key);
    return true;
  }

  codec::TermMap map_;

 private:
  codec::Term missing_;
};

}  // namespace cppnode::servers::examples
