// SPDX-License-Identifier: Apache-2.0
#include "atoms.hpp"

namespace cppnode::servers::detail {

const Atoms& atoms() {
  static const Atoms instance;
  return instance;
}

}  // namespace cppnode::servers::detail
