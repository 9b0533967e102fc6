// SPDX-License-Identifier: Apache-2.0
// Distribution headers and the atom cache, one connection's two halves against each other. What
// a real BEAM node sends and accepts is checked live (LivePeerFlags.DistributionHeaders...).
#include "cppnode/codec/dist_header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cppnode/codec/codec.hpp"

namespace cppnode::codec {
namespace {

using namespace literals;

// One message through both halves: header and terms out, then header and terms back in.
class DistHeaderTest : public ::testing::Test {
 protected:
  std::string send(const std::vector<Term>& terms) {
    out.begin();
    for (const Term& t : terms) encode_body(t, out.body(), out);
    std::string packet;
    out.finish(packet);
    return packet;
  }
  std::vector<Term> receive(const std::string& packet) {
    std::size_t offset = 0;
    const auto bytes = as_bytes(packet);
    if (auto header = in.read_header(bytes, offset); !header) {
      ADD_FAILURE() << header.error().what();
      return {};
    }
    DecodeOptions options;
    options.atom_cache = &in;
    std::vector<Term> terms;
    while (offset < bytes.size()) {
      auto t = decode_unversioned_prefix(bytes, offset, options);
      if (!t) {
        ADD_FAILURE() << t.error().what();
        return terms;
      }
      terms.push_back(std::move(*t));
    }
    return terms;
  }

  AtomCacheOut out;
  AtomCacheIn in;
};

Term call_like() {
  const Pid from{"client@host"_a, 42, 0, 7};
  Reference ref;
  ref.node = "client@host"_a;
  ref.creation = 7;
  ref.ids = {1, 2, 3};
  return tuple("$gen_call"_a, tuple(from, improper_list({Term("alias"_a)}, Term(ref))),
               tuple("put"_a, binary("k"), list("v"_a, 1.5, "v"_a)));
}

TEST_F(DistHeaderTest, TermsComeBackAndTheSecondHeaderNamesCachedAtomsWithoutText) {
  const Term control = tuple(6, Pid{"client@host"_a, 1, 0, 7}, ""_a, "kv_store"_a);
  const std::vector<Term> message{control, call_like()};
  const std::string first = send(message);
  EXPECT_EQ(receive(first), message);
  EXPECT_EQ(in.header_atoms(), 7U);  // client@host, '', kv_store, $gen_call, alias, put, v
  EXPECT_EQ(in.header_new_atoms(), 7U);
  const std::string second = send(message);
  EXPECT_EQ(receive(second), message);
  EXPECT_EQ(in.header_atoms(), 7U);
  EXPECT_EQ(in.header_new_atoms(), 0U);
  EXPECT_LT(second.size() + 40, first.size());
  // Atoms written as references are two bytes each, not their text.
  EXPECT_EQ(second.find("kv_store"), std::string::npos);
}

TEST_F(DistHeaderTest, WithoutAtomsTheHeaderIsThreeBytes) {
  const std::string packet = send({Term(1), binary("x")});
  EXPECT_EQ(packet.substr(0, 3), std::string("\x83\x44\x00", 3));
  EXPECT_EQ(receive(packet), (std::vector<Term>{Term(1), binary("x")}));
}

// Two atoms of one message that want the same entry: the second goes as text.
TEST_F(DistHeaderTest, AtomsThatShareAnEntryInOneMessageStillComeBack) {
  std::vector<Atom> seen(atom_cache_size, Atom());
  std::vector<bool> used(atom_cache_size, false);
  Term pair;
  for (int i = 0;; ++i) {
    const Atom a("collide_" + std::to_string(i));
    const std::size_t entry = a.hash() % atom_cache_size;
    if (used[entry]) {
      pair = tuple(seen[entry], a);
      break;
    }
    used[entry] = true;
    seen[entry] = a;
  }
  EXPECT_EQ(receive(send({pair})), std::vector<Term>{pair});
  EXPECT_EQ(in.header_atoms(), 1U);
  // The next message may put the other one in that entry.
  const Term second = pair.as<Tuple>().elements[1];
  EXPECT_EQ(receive(send({second})), std::vector<Term>{second});
  EXPECT_EQ(in.header_new_atoms(), 1U);
  const Term first = pair.as<Tuple>().elements[0];
  EXPECT_EQ(receive(send({first, second})), (std::vector<Term>{first, second}));
}

TEST_F(DistHeaderTest, PastTheHeaderLimitAtomsGoAsText) {
  std::vector<Term> atoms;
  for (int i = 0; i < 600; ++i) atoms.emplace_back(Atom("many_" + std::to_string(i)));
  const Term big = list_of(atoms);
  EXPECT_EQ(receive(send({big})), std::vector<Term>{big});
  EXPECT_LE(in.header_atoms(), max_header_atoms);
  EXPECT_GT(in.header_atoms(), 200U);
}

TEST_F(DistHeaderTest, LongAtomsUseTwoLengthBytes) {
  std::string text;
  for (int i = 0; i < 255; ++i) text += "\xc3\xa9";  // 255 characters, 510 bytes
  const Term long_atom{Atom(text)};
  const std::string packet = send({long_atom, "short"_a});
  EXPECT_EQ(receive(packet), (std::vector<Term>{long_atom, "short"_a}));
}

TEST_F(DistHeaderTest, AMessageBegunButNotFinishedChangesNothing) {
  out.begin();
  encode_body(Term("abandoned"_a), out.body(), out);
  const std::string packet = send({Term("abandoned"_a)});
  EXPECT_EQ(receive(packet), std::vector<Term>{Term("abandoned"_a)});
  EXPECT_EQ(in.header_new_atoms(), 1U);
}

TEST_F(DistHeaderTest, NewAtomsAreInternedOnlyWhenATermUsesThem) {
  const std::string unique = "only_in_a_header_" + std::to_string(atom_count());
  // Build the header by hand: one new entry (segment 0, index 5) with that text, then a term
  // that does not use it.
  std::string packet("\x83\x44\x01\x08\x05", 5);
  packet.push_back(static_cast<char>(unique.size()));
  packet += unique;
  packet += std::string("\x61\x07", 2);  // 7
  const std::size_t before = atom_count();
  EXPECT_EQ(receive(packet), std::vector<Term>{Term(7)});
  EXPECT_EQ(atom_count(), before);
  // The same entry, now used by the term.
  const std::string used("\x83\x44\x01\x00\x05\x52\x00", 7);
  const std::size_t limit = atom_limit();
  set_atom_limit(atom_count());
  std::size_t offset = 0;
  ASSERT_TRUE(in.read_header(as_bytes(used), offset));
  DecodeOptions options;
  options.atom_cache = &in;
  auto refused = decode_unversioned_prefix(as_bytes(used), offset, options);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(errc::atom_table_full));
  set_atom_limit(limit);
  EXPECT_EQ(receive(used), std::vector<Term>{Term(Atom(unique))});
  EXPECT_EQ(atom_count(), before + 1);
}

struct BadHeader {
  std::string bytes;
  errc code;
  std::string message;
};

TEST(DistHeaderErrors, NameWhatWasExpectedAndWhatCame) {
  const std::vector<BadHeader> cases{
      {std::string("\x83\x44", 2), errc::truncated, "131, 68 and the atom count"},
      {std::string("\x83\x45\x00", 3), errc::bad_version, "expected 131, 68, got 131, 69"},
      {std::string("\x83\x44\x02\x00", 4), errc::truncated, "for the flags"},
      {std::string("\x83\x44\x01\x00\x05", 5), errc::bad_value, "entry 5, which no header"},
      {std::string("\x83\x44\x01\x08\x05\x03\x61\x62", 8), errc::truncated, "an atom's text"},
      {std::string("\x83\x44\x01\x08\x05\x01\xff", 7), errc::bad_atom, "UTF-8"},
      {std::string("\x83\x44\x01\x08", 4), errc::truncated, "cache index"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    AtomCacheIn in;
    std::size_t offset = 0;
    const auto header = in.read_header(as_bytes(c.bytes), offset);
    ASSERT_FALSE(header);
    EXPECT_EQ(header.error().code, make_error_code(c.code));
    EXPECT_NE(header.error().message.find(c.message), std::string::npos) << header.error().message;
  }
}

TEST(DistHeaderErrors, AtomCacheRefsNeedAHeaderAndAnIndexItHas) {
  const auto alone = decode(as_bytes(std::string("\x83\x52\x00", 3)));
  ASSERT_FALSE(alone);
  EXPECT_NE(alone.error().message.find("only after a distribution header"), std::string::npos);

  AtomCacheIn in;
  const std::string packet("\x83\x44\x01\x08\x05\x01x\x52\x01", 9);
  std::size_t offset = 0;
  ASSERT_TRUE(in.read_header(as_bytes(packet), offset));
  DecodeOptions options;
  options.atom_cache = &in;
  const auto past = decode_unversioned_prefix(as_bytes(packet), offset, options);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, make_error_code(errc::bad_value));
  EXPECT_NE(past.error().message.find("below the 1 atoms"), std::string::npos)
      << past.error().message;
}

}  // namespace
}  // namespace cppnode::codec
