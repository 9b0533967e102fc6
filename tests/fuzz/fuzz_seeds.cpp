// SPDX-License-Identifier: Apache-2.0
// Writes every input of the golden corpus into a directory, one file each, as fuzzer seeds.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "../codec/corpus.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: codec_fuzz_seeds DIR\n";
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  int n = 0;
  for (const auto& r : cppnode::codec::testing::corpus()) {
    std::ofstream(dir / (std::string(1, r.kind) + "_" + r.name), std::ios::binary)
        << cppnode::codec::testing::unhex(r.fields.at(0));
    ++n;
  }
  std::cout << "wrote " << n << " seeds to " << dir << "\n";
  return 0;
}
