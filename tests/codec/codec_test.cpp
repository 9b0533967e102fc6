// SPDX-License-Identifier: Apache-2.0
#include "cppnode/codec/codec.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <zlib.h>

#include <limits>
#include <string>
#include <vector>

namespace cppnode::codec {
namespace {

using namespace literals;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

Result<Term> decode_str(const std::string& s, const DecodeOptions& o = {}) {
  return decode(bytes_of(s), o);
}

TEST(Encode, IntegersLikeTermToBinary) {
  EXPECT_EQ(encode(Term(0)), bytes({131, 97, 0}));
  EXPECT_EQ(encode(Term(255)), bytes({131, 97, 255}));
  EXPECT_EQ(encode(Term(256)), bytes({131, 98, 0, 0, 1, 0}));
  EXPECT_EQ(encode(Term(-1)), bytes({131, 98, 255, 255, 255, 255}));
  EXPECT_EQ(encode(Term(std::int64_t{1} << 31)), bytes({131, 110, 4, 0, 0, 0, 0, 128}));
  EXPECT_EQ(encode(Term(-(std::int64_t{1} << 31) - 1)), bytes({131, 110, 4, 1, 1, 0, 0, 128}));
  EXPECT_EQ(encode(Term(std::numeric_limits<std::int64_t>::min())),
            bytes({131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128}));
}

TEST(Encode, AtomsLikeOtp25) {
  EXPECT_EQ(encode(Term("ok"_a)), bytes({131, 100, 0, 2, 'o', 'k'}));
  EXPECT_EQ(encode(Term(Atom("\xC3\xA9"))), bytes({131, 100, 0, 1, 0xE9}));     // é is Latin-1
  EXPECT_EQ(encode(Term(Atom("\xCE\xBB"))), bytes({131, 119, 2, 0xCE, 0xBB}));  // λ
  std::string long_utf8;
  for (int i = 0; i < 200; ++i) long_utf8 += "\xCE\xBB";
  const std::string enc = encode(Term(Atom(long_utf8)));
  EXPECT_EQ(enc.substr(0, 4), bytes({131, 118, 1, 144}));  // 400 bytes: ATOM_UTF8_EXT
}

TEST(Encode, SmallMapsInKeyOrderLargeMapsAsStored) {
  const Term m = map({{"b"_a, 1}, {"a"_a, 2}, {1.0, 3}, {2, 4}});
  EXPECT_EQ(encode(m), encode(map({{2, 4}, {1.0, 3}, {"a"_a, 2}, {"b"_a, 1}})));
  Map big;
  for (int i = 40; i > 0; --i) big.entries.emplace_back(i, i);
  const std::string enc = encode(Term(big));
  auto back = decode_str(enc);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->as<Map>().entries.front().first, Term(40));  // stored order kept
}

TEST(Encode, ListsOfBytesBecomeStrings) {
  EXPECT_EQ(encode(list(1, 2, 3)), bytes({131, 107, 0, 3, 1, 2, 3}));
  EXPECT_EQ(encode(list(1, 256)), bytes({131, 108, 0, 0, 0, 2, 97, 1, 98, 0, 0, 1, 0, 106}));
  EXPECT_EQ(encode(charlist("")), bytes({131, 106}));
  EXPECT_EQ(encode(improper_list({1}, 2)), bytes({131, 108, 0, 0, 0, 1, 97, 1, 97, 2}));
  const std::string big(70000, 'x');
  const std::string enc = encode(charlist(big));
  EXPECT_EQ(enc.substr(0, 6), bytes({131, 108, 0, 1, 0x11, 0x70}));
  auto back = decode_str(enc);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, charlist(big));
}

TEST(Encode, PortsUseV4OnlyForLargeIds) {
  EXPECT_EQ(encode(Term(Port{"a"_a, 5, 1}))[1], 89);
  EXPECT_EQ(encode(Term(Port{"a"_a, std::uint64_t{1} << 28, 1}))[1], 120);
}

TEST(Encode, AppendsToTheCallersBuffer) {
  std::string out = "xy";
  encode(Term("a"_a), out);
  EXPECT_EQ(out, std::string("xy") + bytes({131, 100, 0, 1, 'a'}));
  std::string body;
  encode_body(Term(1), body);
  EXPECT_EQ(body, bytes({97, 1}));
}

TEST(Encode, CompressedFallsBackWhenItDoesNotPay) {
  EXPECT_EQ(encode_compressed(Term("a"_a)), encode(Term("a"_a)));
  const Term t = list_of(std::vector<Term>(1000, Term("a"_a)));
  const std::string c = encode_compressed(t);
  EXPECT_EQ(static_cast<unsigned char>(c[1]), 80);
  EXPECT_LT(c.size(), encode(t).size());
  auto back = decode_str(c);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, t);
}

TEST(Decode, PrefixReadsTermsBackToBack) {
  std::string buf;
  encode(tuple(2, ""_a, Term(Pid{"a@b"_a, 1, 0, 1})), buf);
  encode(Term("hello"_a), buf);
  std::size_t offset = 0;
  auto first = decode_prefix(bytes_of(buf), offset);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->is<Tuple>());
  auto second = decode_prefix(bytes_of(buf), offset);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, Term("hello"_a));
  EXPECT_EQ(offset, buf.size());
  auto none = decode_prefix(bytes_of(buf), offset);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, errc::truncated);
}

TEST(Decode, PrefixAfterCompressedTerm) {
  const Term t = list_of(std::vector<Term>(500, Term(7)));
  std::string buf = encode_compressed(t);
  const std::size_t first_size = buf.size();
  encode(Term(1), buf);
  std::size_t offset = 0;
  auto a = decode_prefix(bytes_of(buf), offset);
  ASSERT_TRUE(a) << a.error().what();
  EXPECT_EQ(*a, t);
  EXPECT_EQ(offset, first_size);
  auto b = decode_prefix(bytes_of(buf), offset);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, Term(1));
}

TEST(Decode, ErrorsNameOffsetAndWhat) {
  auto r = decode_str(bytes({131, 104, 2, 97, 1, 200}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unknown_tag);
  EXPECT_EQ(r.error().offset, 5u);
  EXPECT_EQ(r.error().what(), "offset 5: expected an ETF tag, got unknown tag 200");

  r = decode_str(bytes({130}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_version);
  EXPECT_EQ(r.error().message, "expected the version byte 131, got 130");

  r = decode_str(bytes({131, 97, 1, 0}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::trailing_bytes);
  EXPECT_EQ(r.error().offset, 3u);

  r = decode_str(bytes({131, 109, 0, 0, 0, 5, 1, 2}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::truncated);
  EXPECT_EQ(r.error().message, "expected 5 bytes for the bytes of BINARY_EXT, got 2");

  r = decode_str(bytes({131, 116, 0, 0, 0, 2, 97, 1, 97, 1, 97, 1, 97, 2}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::duplicate_map_key);
  EXPECT_EQ(r.error().offset, 1u);

  EXPECT_THROW((void)decode_str(bytes({131})).value(), std::runtime_error);
}

TEST(Decode, EmptyListsAreNil) {
  for (const std::string& in :
       {bytes({131, 106}), bytes({131, 107, 0, 0}), bytes({131, 108, 0, 0, 0, 0, 106})}) {
    auto t = decode_str(in);
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->is<List>());
    EXPECT_TRUE(t->is_nil());
    EXPECT_EQ(encode(*t), bytes({131, 106}));
  }
}

TEST(Decode, LatinOneAtomsEqualUtf8Atoms) {
  auto a = decode_str(bytes({131, 100, 0, 1, 0xE9}));
  auto b = decode_str(bytes({131, 119, 2, 0xC3, 0xA9}));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->as<Atom>().name(), "\xC3\xA9");
}

TEST(Decode, RejectsBadAtoms) {
  auto r = decode_str(bytes({131, 119, 2, 0xC0, 0x80}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_atom);
  std::string long_atom = bytes({131, 100, 1, 0});
  long_atom += std::string(256, 'a');
  r = decode_str(long_atom);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_atom);
}

std::string nested(std::size_t depth, int open_tag) {
  std::string s(1, static_cast<char>(131));
  for (std::size_t i = 0; i < depth; ++i) {
    if (open_tag == 104) {
      s += bytes({104, 1});
    } else {
      s += bytes({108, 0, 0, 0, 1});
    }
  }
  s += bytes({106});
  if (open_tag == 108) s += std::string(depth, static_cast<char>(106));
  return s;
}

TEST(Decode, DepthIsLimited) {
  DecodeOptions o;
  EXPECT_EQ(o.max_depth, 512u);
  for (int tag : {104, 108}) {
    auto ok = decode_str(nested(512, tag));
    ASSERT_TRUE(ok) << ok.error().what();
    EXPECT_EQ(encode(*ok), nested(512, tag));
    auto deep = decode_str(nested(513, tag));
    ASSERT_FALSE(deep);
    EXPECT_EQ(deep.error().code, errc::too_deep);
    // Far beyond the limit: an error, not a stack overflow.
    auto very_deep = decode_str(nested(1'000'000, tag));
    ASSERT_FALSE(very_deep);
    EXPECT_EQ(very_deep.error().code, errc::too_deep);
  }
  o.max_depth = 3;
  EXPECT_TRUE(decode_str(nested(3, 104), o));
  EXPECT_FALSE(decode_str(nested(4, 104), o));
}

void* decode_nested_on_small_stack(void* arg) {
  auto* ok = static_cast<bool*>(arg);
  for (int tag : {104, 108}) {
    const std::string in = nested(512, tag);
    auto t = decode_str(in);
    *ok = *ok && t && encode(*t) == in && to_string(*t).size() > 512 && *t == *t;
  }
  return nullptr;
}

// Sanitizers put red zones around every local, which makes each recursive frame several times
// larger than in the builds users run; the 1 MiB promise is about those builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::size_t sanitizer_frame_growth = 8;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr std::size_t sanitizer_frame_growth = 8;
#else
constexpr std::size_t sanitizer_frame_growth = 1;
#endif
#else
constexpr std::size_t sanitizer_frame_growth = 1;
#endif

TEST(Decode, DefaultDepthFitsInOneMiBOfStack) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, (std::size_t{1} << 20) * sanitizer_frame_growth);
  bool ok = true;
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attr, decode_nested_on_small_stack, &ok), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_TRUE(ok);
}

TEST(Decode, ListTailsNestWithoutDepth) {
  // [1 | [2 | [3 | ... ]]] written as nested LIST_EXT tails is one flat list.
  std::string s(1, static_cast<char>(131));
  const int n = 100000;
  for (int i = 0; i < n; ++i) s += bytes({108, 0, 0, 0, 1, 97, 1});
  s += bytes({106});
  auto r = decode_str(s);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->list_elements().size(), static_cast<std::size_t>(n));
}

TEST(Decode, HugeLengthsFailWithoutAllocating) {
  for (int tag : {104, 105, 107, 108, 109, 110, 111, 116, 77}) {
    std::string s = bytes({131, tag, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF});
    auto r = decode_str(s);
    ASSERT_FALSE(r) << tag;
    EXPECT_EQ(r.error().code, errc::truncated) << tag << ": " << r.error().what();
  }
}

std::string compressed_blob(std::uint32_t announced, const std::string& body) {
  uLongf len = compressBound(static_cast<uLong>(body.size()));
  std::string z(len, '\0');
  compress(reinterpret_cast<Bytef*>(z.data()), &len, reinterpret_cast<const Bytef*>(body.data()),
           static_cast<uLong>(body.size()));
  z.resize(len);
  return bytes({131, 80, static_cast<int>(announced >> 24),
                static_cast<int>((announced >> 16) & 0xFF),
                static_cast<int>((announced >> 8) & 0xFF), static_cast<int>(announced & 0xFF)}) +
         z;
}

TEST(Decode, DecompressedSizeIsBounded) {
  // A 1 MiB binary of zeros compresses to about 1 KiB.
  const std::string body = bytes({109, 0, 0x10, 0, 0}) + std::string(1 << 20, '\0');
  const std::string blob = compressed_blob(static_cast<std::uint32_t>(body.size()), body);
  EXPECT_TRUE(decode_str(blob));
  DecodeOptions small;
  small.max_decompressed_size = 1 << 19;
  auto r = decode_str(blob, small);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::too_large);
  // Lies about the size are caught: too small, too large, or more than deflate can expand to.
  r = decode_str(compressed_blob(static_cast<std::uint32_t>(body.size() - 1), body));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_compression);
  r = decode_str(compressed_blob(static_cast<std::uint32_t>(body.size() + 1), body));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_compression);
  r = decode_str(bytes({131, 80, 0x03, 0xFF, 0xFF, 0xFF, 0x78, 0x9C, 0x03, 0x00}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_compression);
}

// LARGE_BIG_EXT with `n` digit bytes, all 1 but the most significant, `top`.
std::string large_big(std::size_t n, int top) {
  std::string s = bytes({131, 111, static_cast<int>(n >> 24), static_cast<int>((n >> 16) & 0xFF),
                         static_cast<int>((n >> 8) & 0xFF), static_cast<int>(n & 0xFF), 0});
  s.append(n - 1, '\x01');
  s.push_back(static_cast<char>(top));
  return s;
}

TEST(Decode, IntegersAreBoundedAsInOtp25) {
  // OTP 25's binary_to_term (64-bit) takes 4,194,296 digit bytes and refuses 4,194,297 even when
  // the extra byte is a leading zero (checked on erts 13.1.5).
  ASSERT_EQ(max_integer_bytes, 4'194'296U);
  auto r = decode_str(large_big(max_integer_bytes, 1));
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->as<BigInt>().magnitude.size(), max_integer_bytes);
  for (int top : {1, 0}) {
    r = decode_str(large_big(max_integer_bytes + 1, top));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::too_large);
    EXPECT_EQ(r.error().offset, 1U);
    EXPECT_NE(r.error().message.find("at most 4194296 digit bytes in LARGE_BIG_EXT, got 4194297"),
              std::string::npos)
        << r.error().message;
  }
}

TEST(Encode, RefusesIntegersNoBeamCanHold) {
  BigInt b;
  b.magnitude.assign(max_integer_bytes, 1);
  EXPECT_EQ(encode(Term(b)).size(), 1 + 5 + 1 + max_integer_bytes);
  b.magnitude.push_back(1);
  EXPECT_THROW(encode(Term(b)), std::invalid_argument);
}

TEST(Decode, CompressedCanBeRefused) {
  const std::string blob = encode_compressed(Term(binary(std::string(4096, 'a'))));
  ASSERT_EQ(static_cast<unsigned char>(blob[1]), 80);
  EXPECT_TRUE(decode_str(blob));  // binary_to_term takes it
  DecodeOptions dist;
  dist.allow_compressed = false;
  auto r = decode_str(blob, dist);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::compressed_refused);
  EXPECT_EQ(r.error().offset, 1U);
  // Refused before anything is inflated: even a size beyond max_decompressed_size says so.
  r = decode_str(bytes({131, 80, 0x7F, 0xFF, 0xFF, 0xFF, 0x78, 0x9C}), dist);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::compressed_refused);
}

TEST(Decode, FloatsMustBeFinite) {
  auto r = decode_str(bytes({131, 70, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_value);
  EXPECT_EQ(r.error().offset, 1u);
}

}  // namespace
}  // namespace cppnode::codec
