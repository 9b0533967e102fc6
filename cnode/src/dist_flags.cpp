// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/dist_flags.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace cppnode::cnode::detail {

std::string missing_mandatory_flags(std::uint64_t peer_flags) {
  static constexpr std::array<std::pair<std::uint64_t, std::string_view>, 11> names{{
      {dflag::extended_references, "EXTENDED_REFERENCES"},
      {dflag::fun_tags, "FUN_TAGS"},
      {dflag::extended_pids_ports, "EXTENDED_PIDS_PORTS"},
      {dflag::new_fun_tags, "NEW_FUN_TAGS"},
      {dflag::export_ptr_tag, "EXPORT_PTR_TAG"},
      {dflag::bit_binaries, "BIT_BINARIES"},
      {dflag::new_floats, "NEW_FLOATS"},
      {dflag::utf8_atoms, "UTF8_ATOMS"},
      {dflag::map_tag, "MAP_TAG"},
      {dflag::big_creation, "BIG_CREATION"},
      {dflag::handshake_23, "HANDSHAKE_23"},
  }};
  const std::uint64_t flags = expand_peer_flags(peer_flags);
  std::string missing;
  for (const auto& [bit, name] : names) {
    if ((flags & bit) == 0) {
      if (!missing.empty()) {
        missing += ", ";
      }
      missing += name;
    }
  }
  return missing;
}

}  // namespace cppnode::cnode::detail
