// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cppnode::codec::detail {

/// Number of code points in `s` if it is valid UTF-8 as the BEAM accepts it (no overlong forms,
/// no surrogates, nothing above U+10FFFF), else -1.
inline std::ptrdiff_t utf8_length(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  std::ptrdiff_t n = 0;
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
    } else if (c < 0xC2) {  // NOLINT(bugprone-branch-clone): the ranges in order, like the table
      return -1;
    } else if (c < 0xE0) {
      if (end - p < 2 || (p[1] & 0xC0) != 0x80) return -1;
      p += 2;
    } else if (c < 0xF0) {
      if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return -1;
      const unsigned cp = ((c & 0x0FU) << 12) | ((p[1] & 0x3FU) << 6) | (p[2] & 0x3FU);
      if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
      p += 3;
    } else if (c < 0xF5) {
      if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) {
        return -1;
      }
      const unsigned cp =
          ((c & 0x07U) << 18) | ((p[1] & 0x3FU) << 12) | ((p[2] & 0x3FU) << 6) | (p[3] & 0x3FU);
      if (cp < 0x10000 || cp > 0x10FFFF) return -1;
      p += 4;
    } else {
      return -1;
    }
    ++n;
  }
  return n;
}

/// Decodes the code point at `s[i]` of valid UTF-8 and advances `i`.
inline std::uint32_t utf8_next(std::string_view s, std::size_t& i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) { return static_cast<std::uint32_t>(s[i + k]) & 0x3FU; };
  std::uint32_t cp;
  if (c < 0x80) {
    cp = c;
    i += 1;
  } else if (c < 0xE0) {
    cp = ((c & 0x1FU) << 6) | cont(1);
    i += 2;
  } else if (c < 0xF0) {
    cp = ((c & 0x0FU) << 12) | (cont(1) << 6) | cont(2);
    i += 3;
  } else {
    cp = ((c & 0x07U) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
    i += 4;
  }
  return cp;
}

/// Appends code point `cp` as UTF-8.
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace cppnode::codec::detail
