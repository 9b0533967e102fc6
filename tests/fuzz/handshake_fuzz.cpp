// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the handshake parsers of both sides: the bytes are what a peer sends
// before it is authenticated (anyone who can reach the listen port). They go through
// PacketReader<2> (the handshake's {packet, 2} framing; Handshake::read_message reads the same
// header and rejects an empty message) and every message through each parser the handshake
// uses: the acceptor's parse_send_name, parse_status ("true"/"false" after "alive") and
// parse_challenge_reply, the initiator's parse_status, parse_challenge and parse_challenge_ack.
// Each ends in a value or an error message, and a parsed message re-encodes to the same bytes.
//
// Run it (clang, ASan + UBSan), seeded from captured traffic (tests/data/fuzz_seeds/handshake):
//   cmake --build build-fuzz --target handshake_fuzz
//   ctest --test-dir build-fuzz -R handshake_fuzz_run --output-on-failure
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "cppnode/cnode/detail/dist_flags.hpp"
#include "cppnode/cnode/detail/framing.hpp"
#include "cppnode/cnode/detail/handshake_protocol.hpp"
#include "fuzz_check.hpp"

namespace detail = cppnode::cnode::detail;

namespace {

using Bytes = std::span<const std::uint8_t>;

std::string with_header(Bytes body) {
  std::string out;
  detail::put_u16(out, static_cast<std::uint16_t>(body.size()));
  out.append(reinterpret_cast<const char*>(body.data()), body.size());
  return out;
}

std::string prefix_with_header(Bytes body, std::size_t n) {
  return with_header(body.first(std::min(n, body.size())));
}

void check_message(Bytes body) {
  if (auto m = detail::parse_send_name(body)) {
    // Bytes after the name are ignored, as the protocol allows.
    FUZZ_CHECK(detail::encode_send_name(m->flags, m->creation, m->name) ==
               prefix_with_header(body, 15 + m->name.size()));
    (void)detail::is_valid_node_name(m->name);
    (void)detail::missing_mandatory_flags(detail::expand_peer_flags(m->flags));
  } else {
    FUZZ_CHECK(!m.error().empty());
  }
  if (auto m = detail::parse_challenge(body)) {
    FUZZ_CHECK(detail::encode_challenge(m->flags, m->challenge, m->creation, m->name) ==
               prefix_with_header(body, 19 + m->name.size()));
    (void)detail::missing_mandatory_flags(m->flags);
  } else {
    FUZZ_CHECK(!m.error().empty());
  }
  if (auto m = detail::parse_challenge_reply(body)) {
    FUZZ_CHECK(m->digest.size() == 16);
    detail::Digest d{};
    std::copy(m->digest.begin(), m->digest.end(), d.begin());
    FUZZ_CHECK(detail::digest_equal(d, m->digest));
    FUZZ_CHECK(detail::encode_challenge_reply(m->challenge, d) == with_header(body));
  } else {
    FUZZ_CHECK(!m.error().empty());
  }
  if (auto m = detail::parse_challenge_ack(body)) {
    FUZZ_CHECK(m->size() == 16);
    detail::Digest d{};
    std::copy(m->begin(), m->end(), d.begin());
    FUZZ_CHECK(detail::encode_challenge_ack(d) == with_header(body));
  } else {
    FUZZ_CHECK(!m.error().empty());
  }
  if (auto s = detail::parse_status(body)) {
    FUZZ_CHECK(detail::encode_status(*s) == with_header(body));
  } else {
    FUZZ_CHECK(!s.error().empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The 2-byte header cannot announce more than 65535 bytes: that is the limit.
  detail::PacketReader<2> reader(0xffff, 512);
  std::size_t fed = 0;
  std::uint32_t rng = static_cast<std::uint32_t>(size) * 2654435761U + 7;
  while (fed < size) {
    auto buf = reader.prepare(256);
    rng = rng * 1103515245U + 12345U;
    const std::size_t want = (rng >> 16) % 3 == 0 ? 1 + (rng >> 8) % 5 : buf.size();
    const std::size_t n = std::min({want, buf.size(), size - fed});
    std::memcpy(buf.data(), data + fed, n);
    reader.commit(n);
    fed += n;
    FUZZ_CHECK(reader.capacity() <=
               std::max<std::size_t>(512, reader.buffered() + 2 + 0xffff + 512));
    std::span<const std::uint8_t> body;
    while (true) {
      const auto status = reader.next(body);
      FUZZ_CHECK(status != detail::PacketReader<2>::Status::too_large);
      if (status == detail::PacketReader<2>::Status::need_more) break;
      if (body.empty()) return 0;  // "empty handshake message": the handshake fails
      check_message(body);
    }
  }
  return 0;
}
