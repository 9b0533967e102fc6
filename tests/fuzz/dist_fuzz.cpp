// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the post-handshake packet path: the bytes are what a connected peer sends.
// They go through PacketReader<4> in reads of varying sizes and every complete packet (pass-through
// or with a distribution header) through parse_control and its payload through decode_payload, as
// Peer::on_read / Peer::handle_packet and NodeImpl::handle_control do. Whatever the bytes, each
// packet ends in a ControlMessage, a refused payload or an error message, the reader's buffer stays
// bounded by the packet limit, and a parsed message re-encodes (with the encoders the node sends
// with, with and without an atom cache) to a packet that parses back to the same message.
//
// Run it (clang, ASan + UBSan), seeded from captured traffic (tests/data/fuzz_seeds/dist):
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang
//   -DCPPNODE_FUZZ=ON cmake --build build-fuzz --target dist_fuzz ctest --test-dir build-fuzz -R
//   dist_fuzz_run --output-on-failure
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cppnode/cnode/detail/control.hpp"
#include "cppnode/cnode/detail/framing.hpp"
#include "fuzz_check.hpp"

namespace codec = cppnode::codec;
namespace detail = cppnode::cnode::detail;
namespace in = cppnode::cnode::detail::incoming;

namespace {

// The node's default is 64 MiB; the reader's code paths are the same for any limit, and a small
// one keeps each input cheap (the reader allocates up to the announced length at once).
constexpr std::uint32_t max_packet = 1U << 20;
constexpr std::size_t initial_capacity = 16384;
constexpr std::size_t min_read = 4096;

codec::DecodeOptions decode_options() {
  codec::DecodeOptions o;
  o.max_decompressed_size = std::size_t{4} << 20;  // keep within libFuzzer's RSS limit
  return o;
}

// Encodes `m` again with the node's own encoders, in every form the node may send it (the
// PAYLOAD_ forms depend on the peer's flags); none for what the node never sends.
struct Reencoder {
  const detail::ControlMessage& m;
  codec::AtomCacheOut* cache;
  std::vector<std::string>& out;

  void operator()(const in::Send& op) const {
    detail::encode_send(out[0], op.to, m.payload, cache);
  }
  void operator()(const in::RegSend& op) const {
    detail::encode_reg_send(out[0], op.from, op.to_name, m.payload, cache);
  }
  void operator()(const in::AliasSend& op) const {
    detail::encode_alias_send(out[0], op.from, op.alias, m.payload, cache);
  }
  void operator()(const in::Link& op) const { detail::encode_link(out[0], op.from, op.to, cache); }
  void operator()(const in::Unlink& op) const {
    detail::encode_unlink(out[0], op.from, op.to, cache);
  }
  void operator()(const in::UnlinkId& op) const {
    detail::encode_unlink_id(out[0], detail::op::unlink_id, op.id, op.from, op.to, cache);
  }
  void operator()(const in::UnlinkIdAck& op) const {
    detail::encode_unlink_id(out[0], detail::op::unlink_id_ack, op.id, op.from, op.to, cache);
  }
  void operator()(const in::Exit& op) const {
    detail::encode_exit(out[0], true, true, op.from, op.to, m.payload, cache);
    detail::encode_exit(out[1], false, true, op.from, op.to, m.payload, cache);
  }
  void operator()(const in::Exit2& op) const {
    const auto* to = op.to.get_if<codec::Pid>();
    if (to == nullptr) return;  // to a name or an alias: the node sends exits to pids only
    detail::encode_exit(out[0], true, false, op.from, *to, m.payload, cache);
    detail::encode_exit(out[1], false, false, op.from, *to, m.payload, cache);
  }
  void operator()(const in::Monitor& op) const {
    detail::encode_monitor(out[0], detail::op::monitor_p, op.watcher, op.target, op.ref, cache);
  }
  void operator()(const in::Demonitor& op) const {
    detail::encode_monitor(out[0], detail::op::demonitor_p, op.watcher, op.target, op.ref, cache);
  }
  void operator()(const in::MonitorExit& op) const {
    detail::encode_monitor_exit(out[0], true, op.target, op.watcher, op.ref, m.payload, cache);
    detail::encode_monitor_exit(out[1], false, op.target, op.watcher, op.ref, m.payload, cache);
  }
  // The node answers SPAWN_REQUEST but never sends one.
  void operator()(const in::SpawnRequest&) const {}
  void operator()(const in::Ignored&) const {}
};

std::vector<std::string> reencode(const detail::ControlMessage& m, codec::AtomCacheOut* cache) {
  std::vector<std::string> out(2);
  std::visit(Reencoder{m, cache, out}, m.operation);
  std::erase_if(out, [](const std::string& s) { return s.empty(); });
  return out;
}

// The two halves of an atom cache, as the node's output and its peer's input on one connection.
struct CachePair {
  codec::AtomCacheOut out;
  codec::AtomCacheIn in;
};

void check_roundtrip(const detail::ControlMessage& m, const codec::DecodeOptions& options,
                     CachePair* caches) {
  for (const std::string& out : reencode(m, caches != nullptr ? &caches->out : nullptr)) {
    const auto bytes = codec::as_bytes(out);
    FUZZ_CHECK(bytes.size() >= 4 && detail::get_u32(bytes.data()) == bytes.size() - 4);
    auto back = detail::parse_control_full(bytes.subspan(4), options,
                                           caches != nullptr ? &caches->in : nullptr);
    if (!back) {
      std::fprintf(stderr, "re-encoded message does not parse: %s\n", back.error().c_str());
    }
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(back->operation == m.operation);
    FUZZ_CHECK(back->payload == m.payload);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const codec::DecodeOptions options = decode_options();
  detail::PacketReader<4> reader(max_packet, initial_capacity);
  // Packets may start with distribution headers, as from a peer with DIST_HDR_ATOM_CACHE; each
  // input is one connection, with fresh caches.
  const auto cache = std::make_unique<codec::AtomCacheIn>();
  const auto echo = std::make_unique<CachePair>();
  // TCP may split the stream anywhere: vary the read sizes with a generator seeded by the input
  // size, so the same input always takes the same path.
  std::uint32_t rng = static_cast<std::uint32_t>(size) * 2654435761U + 1;
  std::size_t fed = 0;
  while (fed < size) {
    auto buf = reader.prepare(min_read);
    FUZZ_CHECK(buf.size() >= min_read);
    // Bounded by what is buffered plus the largest packet the limit allows.
    FUZZ_CHECK(reader.capacity() <=
               std::max(initial_capacity, reader.buffered() + 4 + max_packet + 2 * min_read));
    rng = rng * 1103515245U + 12345U;
    const std::size_t want = (rng >> 16) % 3 == 0 ? 1 + (rng >> 8) % 7 : buf.size();
    const std::size_t n = std::min({want, buf.size(), size - fed});
    std::memcpy(buf.data(), data + fed, n);
    reader.commit(n);
    fed += n;
    std::span<const std::uint8_t> packet;
    while (true) {
      const auto status = reader.next(packet);
      if (status == detail::PacketReader<4>::Status::need_more) break;
      if (status == detail::PacketReader<4>::Status::too_large) {
        FUZZ_CHECK(reader.too_large_length() > max_packet);
        return 0;  // the connection closes
      }
      if (packet.empty()) continue;  // a tick
      FUZZ_CHECK(packet.size() <= max_packet);
      auto message = detail::parse_control(packet, options, cache.get());
      if (!message) {
        FUZZ_CHECK(!message.error().empty());
        return 0;  // the connection closes
      }
      if (!message->payload_bytes.empty()) {
        if (auto payload = detail::decode_payload(*message, options); !payload) {
          if (payload.error().code == codec::errc::compressed_refused) return 0;  // it closes
          continue;  // only this message is refused
        }
      }
      check_roundtrip(*message, options, nullptr);
      check_roundtrip(*message, options, echo.get());
    }
  }
  return 0;
}
