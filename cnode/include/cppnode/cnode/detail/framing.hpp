// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace cppnode::cnode::detail {

/// Big-endian helpers for the wire formats.
inline void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
inline void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(v >> shift));
  }
}
inline void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(v >> shift));
  }
}
[[nodiscard]] inline std::uint16_t get_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
[[nodiscard]] inline std::uint32_t get_u32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
[[nodiscard]] inline std::uint64_t get_u64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{get_u32(p)} << 32) | get_u32(p + 4);
}

/// Starts a length-prefixed packet in `out` (4-byte length, patched by `end_packet`).
[[nodiscard]] inline std::size_t begin_packet(std::string& out) {
  const std::size_t at = out.size();
  out.append(4, '\0');
  return at;
}
/// Writes the length of the packet begun at `at`.
inline void end_packet(std::string& out, std::size_t at) {
  const auto len = static_cast<std::uint32_t>(out.size() - at - 4);
  auto* p = reinterpret_cast<unsigned char*>(out.data() + at);
  p[0] = static_cast<unsigned char>(len >> 24);
  p[1] = static_cast<unsigned char>(len >> 16);
  p[2] = static_cast<unsigned char>(len >> 8);
  p[3] = static_cast<unsigned char>(len);
}

/// Splits a byte stream into packets that carry a big-endian length header of `HeaderSize` bytes
/// (2 during the handshake, 4 afterwards). Read into `prepare()`, report with `commit(n)`, then
/// take complete packets with `next()`. The buffer grows only as a packet's bytes arrive, so a
/// huge length field costs nothing until the data is there; a length above the limit is an error
/// without any allocation. Not thread-safe (one per connection, used on its strand).
template <std::size_t HeaderSize>
class PacketReader {
  static_assert(HeaderSize == 2 || HeaderSize == 4);

 public:
  enum class Status { packet, need_more, too_large };

  explicit PacketReader(std::uint32_t max_packet_size, std::size_t initial_capacity = 16384)
      : max_(max_packet_size), buf_(initial_capacity) {}

  /// Free space to read into (at least `min_read` bytes, growing toward the pending packet).
  [[nodiscard]] std::span<std::uint8_t> prepare(std::size_t min_read = 4096) {
    if (begin_ == end_) {
      begin_ = end_ = 0;
    }
    // Grow toward the pending packet at most geometrically, so a large length field costs memory
    // only in proportion to the bytes that have actually arrived.
    constexpr std::size_t min_growth = std::size_t{64} * 1024;
    const std::size_t want =
        std::max(min_read, std::min(pending_need_, std::max(buf_.size(), min_growth)));
    if (buf_.size() - end_ < want) {
      // Move the partial packet to the front before growing.
      if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (buf_.size() - end_ < want) {
        // Grow geometrically but never past what the pending packet needs plus one read.
        std::size_t size = std::max(buf_.size() * 2, end_ + want);
        buf_.resize(std::min(size, end_ + want + min_read));
      }
    }
    return {buf_.data() + end_, buf_.size() - end_};
  }
  void commit(std::size_t n) noexcept { end_ += n; }

  /// The next complete packet (without its header) in `packet`, valid until the next `prepare`.
  /// A zero-length packet (a tick) is a packet with an empty span.
  Status next(std::span<const std::uint8_t>& packet) {
    const std::size_t avail = end_ - begin_;
    if (avail < HeaderSize) {
      pending_need_ = HeaderSize - avail;
      return Status::need_more;
    }
    const std::uint8_t* p = buf_.data() + begin_;
    const std::uint32_t len = HeaderSize == 2 ? get_u16(p) : get_u32(p);
    if (len > max_) {
      too_large_length_ = len;
      return Status::too_large;
    }
    if (avail - HeaderSize < len) {
      pending_need_ = HeaderSize + len - avail;
      return Status::need_more;
    }
    packet = {p + HeaderSize, len};
    begin_ += HeaderSize + len;
    pending_need_ = 0;
    return Status::packet;
  }

  /// The offending length after `Status::too_large`.
  [[nodiscard]] std::uint32_t too_large_length() const noexcept { return too_large_length_; }
  /// Bytes received but not yet returned as packets.
  [[nodiscard]] std::size_t buffered() const noexcept { return end_ - begin_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return buf_.size(); }

 private:
  std::uint32_t max_;
  std::vector<std::uint8_t> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t pending_need_ = 0;
  std::uint32_t too_large_length_ = 0;
};

}  // namespace cppnode::cnode::detail
