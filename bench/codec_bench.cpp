// SPDX-License-Identifier: Apache-2.0
// Decode and encode speed over the golden corpus and typical messages. bench/codec_compare runs
// this beside bench/codec_beam_bench.erl, which times the BEAM on the same bytes.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../tests/codec/corpus.hpp"
#include "cppnode/codec/codec.hpp"

namespace {

namespace codec = cppnode::codec;

struct Workload {
  std::vector<std::string> inputs;  // term_to_binary bytes
  std::vector<codec::Term> terms;
  std::size_t bytes = 0;
};

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// "corpus" is every T record that is not a bench message; other names pick one bench message.
Workload load(const std::string& name) {
  Workload w;
  for (const auto* r : codec::testing::corpus_of('T')) {
    const bool is_bench = r->name.rfind("bench_", 0) == 0;
    if (name == "corpus" ? is_bench : r->name != "bench_" + name) continue;
    w.inputs.push_back(codec::testing::unhex(r->fields.at(0)));
    w.terms.push_back(codec::decode(bytes_of(w.inputs.back())).value());
    w.bytes += w.inputs.back().size();
  }
  return w;
}

void decode_workload(benchmark::State& state, const std::string& name) {
  const Workload w = load(name);
  for (auto _ : state) {
    for (const auto& in : w.inputs) {
      auto t = codec::decode(bytes_of(in));
      benchmark::DoNotOptimize(t);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * w.bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * w.inputs.size()));
}

void encode_workload(benchmark::State& state, const std::string& name) {
  const Workload w = load(name);
  std::string out;
  for (auto _ : state) {
    for (const auto& t : w.terms) {
      out.clear();
      codec::encode(t, out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * w.bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * w.terms.size()));
}

const char* const workloads[] = {"corpus",   "gen_call",  "gen_reply", "small_map",
                                 "int_list", "binary_1k", "records"};

double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// Two noisy cores: each figure is repeated and the "_min" aggregate is the least disturbed run,
// which is what codec_compare compares with the BEAM's best run.
[[maybe_unused]] const bool registered = [] {
  for (const char* name : workloads) {
    benchmark::RegisterBenchmark((std::string("decode/") + name).c_str(),
                                 [name](benchmark::State& s) { decode_workload(s, name); })
        ->Repetitions(5)
        ->ComputeStatistics("min", min_of);
    benchmark::RegisterBenchmark((std::string("encode/") + name).c_str(),
                                 [name](benchmark::State& s) { encode_workload(s, name); })
        ->Repetitions(5)
        ->ComputeStatistics("min", min_of);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
