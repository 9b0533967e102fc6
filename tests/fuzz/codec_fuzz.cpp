// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the ETF decoder: whatever the bytes, decoding ends in a term or an error,
// and a decoded term re-encodes, decodes to an equal term and prints.
//
// Run it (clang, ASan + UBSan), seeded from the golden corpus:
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
//         -DCPPNODE_FUZZ=ON -DCPPNODE_FUZZ_SECONDS=60
//   cmake --build build-fuzz --target codec_fuzz codec_fuzz_seeds
//   ctest --test-dir build-fuzz -R codec_fuzz_run --output-on-failure
// or by hand: build-fuzz/tests/fuzz/codec_fuzz_seeds seeds && mkdir -p found &&
//   build-fuzz/tests/fuzz/codec_fuzz -max_total_time=60 -max_len=65536 found seeds
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "cppnode/codec/codec.hpp"

namespace codec = cppnode::codec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  codec::DecodeOptions options;
  options.max_decompressed_size = std::size_t{4} << 20;  // keep within libFuzzer's RSS limit
  const std::span<const std::uint8_t> in(data, size);
  auto t = codec::decode(in, options);
  if (!t) {
    if (t.error().message.empty()) std::abort();
    return 0;
  }
  const std::string again = codec::encode(*t);
  auto back = codec::decode(std::span<const std::uint8_t>(
                                reinterpret_cast<const std::uint8_t*>(again.data()), again.size()),
                            options);
  if (!back || !(*back == *t) || back->hash() != t->hash() || (*back <=> *t) != 0) std::abort();
  if (codec::encode(*back) != again) std::abort();
  (void)codec::to_string(*t);
  std::size_t offset = 0;
  while (offset < size && codec::decode_prefix(in, offset, options)) {
  }
  return 0;
}
