// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace cppnode::codec::testing {

/// One line of tests/data/etf_corpus.txt (see make_corpus.erl for the record kinds).
struct CorpusRecord {
  char kind = 0;
  std::string name;
  std::vector<std::string> fields;  // after kind and name
};

inline std::string unhex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd hex length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw std::invalid_argument("bad hex digit");
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
  }
  return out;
}

inline const std::vector<CorpusRecord>& corpus() {
  static const std::vector<CorpusRecord> records = [] {
    std::ifstream in(CPPNODE_CORPUS_FILE);
    if (!in) throw std::runtime_error("cannot open " CPPNODE_CORPUS_FILE);
    std::vector<CorpusRecord> v;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> parts;
      std::size_t start = 0;
      for (;;) {
        const std::size_t tab = line.find('\t', start);
        parts.push_back(line.substr(start, tab - start));
        if (tab == std::string::npos) break;
        start = tab + 1;
      }
      CorpusRecord r;
      r.kind = parts.at(0).at(0);
      r.name = parts.at(1);
      r.fields.assign(parts.begin() + 2, parts.end());
      v.push_back(std::move(r));
    }
    return v;
  }();
  return records;
}

/// The records of one kind.
inline std::vector<const CorpusRecord*> corpus_of(char kind) {
  std::vector<const CorpusRecord*> v;
  for (const auto& r : corpus()) {
    if (r.kind == kind) v.push_back(&r);
  }
  return v;
}

}  // namespace cppnode::codec::testing
