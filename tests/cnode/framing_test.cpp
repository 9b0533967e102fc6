// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/framing.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace cppnode::cnode::detail {
namespace {

using Reader = PacketReader<4>;

// Feeds `bytes` in chunks of `chunk` bytes and collects every packet.
std::vector<std::string> split(Reader& r, const std::string& bytes, std::size_t chunk,
                               Reader::Status* last = nullptr) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    auto buf = r.prepare(1);
    const std::size_t n = std::min({chunk, buf.size(), bytes.size() - pos});
    std::memcpy(buf.data(), bytes.data() + pos, n);
    r.commit(n);
    pos += n;
    std::span<const std::uint8_t> p;
    Reader::Status s;
    while ((s = r.next(p)) == Reader::Status::packet) {
      out.emplace_back(reinterpret_cast<const char*>(p.data()), p.size());
    }
    if (last != nullptr) *last = s;
    if (s == Reader::Status::too_large) break;
  }
  return out;
}

std::string packet(const std::string& body) {
  std::string out;
  const auto at = begin_packet(out);
  out += body;
  end_packet(out, at);
  return out;
}

TEST(PacketReader, SplitsManyPacketsFromOneRead) {
  Reader r(1024);
  const std::string stream = packet("a") + packet("") + packet(std::string(300, 'b')) + packet("c");
  const auto got = split(r, stream, stream.size());
  ASSERT_EQ(got.size(), 4U);
  EXPECT_EQ(got[0], "a");
  EXPECT_EQ(got[1], "");  // a tick
  EXPECT_EQ(got[2], std::string(300, 'b'));
  EXPECT_EQ(got[3], "c");
  EXPECT_EQ(r.buffered(), 0U);
}

TEST(PacketReader, ReassemblesPacketsSplitAcrossReads) {
  for (std::size_t chunk : {1U, 2U, 3U, 5U, 7U, 4096U}) {
    Reader r(1 << 20);
    std::string stream;
    std::vector<std::string> bodies;
    for (int i = 0; i < 50; ++i) {
      bodies.push_back(
          std::string(static_cast<std::size_t>(i * 37), static_cast<char>('a' + i % 26)));
      stream += packet(bodies.back());
    }
    EXPECT_EQ(split(r, stream, chunk), bodies) << "chunk " << chunk;
  }
}

TEST(PacketReader, LargePacketGrowsTheBufferOnlyAsDataArrives) {
  Reader r(1 << 24, 1024);
  const std::string big = packet(std::string(100'000, 'x'));
  const auto got = split(r, big, 8192);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].size(), 100'000U);
  EXPECT_LE(r.capacity(), 100'000U + 4 + 8192 * 2);
}

TEST(PacketReader, LargeLengthFieldAllocatesOnlyAsBytesArrive) {
  Reader r(64U << 20, 1024);
  Reader::Status last{};
  // A header announcing 60 MiB (within the limit) followed by only 4 bytes of body.
  const auto got = split(r,
                         std::string("\x03\xc0\x00\x00"
                                     "abcd",
                                     8),
                         8, &last);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(last, Reader::Status::need_more);
  (void)r.prepare();
  EXPECT_LE(r.capacity(), 128U * 1024);
}

TEST(PacketReader, OversizedLengthIsRejectedWithoutAllocating) {
  Reader r(1000, 512);
  Reader::Status last{};
  const auto got = split(r, std::string("\xff\xff\xff\xf0zzzz", 8), 8, &last);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(last, Reader::Status::too_large);
  EXPECT_EQ(r.too_large_length(), 0xfffffff0U);
  EXPECT_EQ(r.capacity(), 512U);
  Reader exact(5);
  EXPECT_EQ(split(exact, packet("12345"), 100).size(), 1U);
  Reader over(5);
  split(over, packet("123456"), 100, &last);
  EXPECT_EQ(last, Reader::Status::too_large);
}

TEST(PacketReader, TwoByteHeadersForTheHandshake) {
  PacketReader<2> r(65535);
  const std::string stream = std::string(
      "\x00\x03"
      "abc"
      "\x00\x01"
      "d",
      8);
  auto buf = r.prepare();
  std::memcpy(buf.data(), stream.data(), stream.size());
  r.commit(stream.size());
  std::span<const std::uint8_t> p;
  ASSERT_EQ(r.next(p), PacketReader<2>::Status::packet);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p.data()), p.size()), "abc");
  ASSERT_EQ(r.next(p), PacketReader<2>::Status::packet);
  EXPECT_EQ(p.size(), 1U);
  EXPECT_EQ(r.next(p), PacketReader<2>::Status::need_more);
}

TEST(BigEndian, PutAndGet) {
  std::string out;
  put_u16(out, 0x1234);
  put_u32(out, 0xdeadbeef);
  put_u64(out, 0x0102030405060708ULL);
  const auto* p = reinterpret_cast<const std::uint8_t*>(out.data());
  EXPECT_EQ(get_u16(p), 0x1234);
  EXPECT_EQ(get_u32(p + 2), 0xdeadbeefU);
  EXPECT_EQ(get_u64(p + 6), 0x0102030405060708ULL);
}

}  // namespace
}  // namespace cppnode::cnode::detail
