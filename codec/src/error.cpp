// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/error.hpp"

#include <string>

namespace cppnode::codec {
namespace {

class CodecCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "cppnode.codec"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::truncated:
        return "input ended inside a term";
      case errc::bad_version:
        return "first byte is not the ETF version 131";
      case errc::unknown_tag:
        return "unknown ETF tag";
      case errc::bad_value:
        return "field holds a value the format forbids";
      case errc::too_deep:
        return "terms nested deeper than the limit";
      case errc::too_large:
        return "size above a limit";
      case errc::bad_atom:
        return "invalid atom text";
      case errc::duplicate_map_key:
        return "map has the same key twice";
      case errc::bad_compression:
        return "compressed data does not inflate to the announced size";
      case errc::trailing_bytes:
        return "bytes left after the term";
      case errc::atom_table_full:
        return "a new atom while the atom table is full";
      case errc::compressed_refused:
        return "a compressed term where none is allowed";
    }
    return "unknown codec error";
  }
};

}  // namespace

const std::error_category& codec_category() noexcept {
  static const CodecCategory category;
  return category;
}

std::string Error::what() const { return "offset " + std::to_string(offset) + ": " + message; }

}  // namespace cppnode::codec
