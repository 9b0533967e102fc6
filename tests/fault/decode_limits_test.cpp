// SPDX-License-Identifier: Apache-2.0
// Decode limits of issue #15, against the real executable, each beside a BEAM node doing the
// same: integers the BEAM cannot hold, COMPRESSED in distribution messages, atoms (messages to
// missing names, the atom limit) and terms nested deeper than the decoder's limit.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "cppnode/codec/codec.hpp"
#include "cppnode/test_support/beam_node.hpp"
#include "fault_fixture.hpp"
#include "raw_peer.hpp"

namespace cppnode::fault_testing {
namespace {

using namespace std::chrono_literals;
using cnode::testing::RawPeer;
using codec::Atom;
using codec::Term;
using test_support::BeamNode;

/// A raw peer that finished a real handshake with `node_name` listening on `port`.
struct Raw {
  Raw(std::uint16_t port, const std::string& cookie, const std::string& node_name)
      : peer(port), name(test_support::unique_name("raw") + "@" + test_support::short_hostname()) {
    // Hand-built pass-through packets: a BEAM node that negotiated the atom cache closes the
    // connection on them.
    peer.flags &= ~cnode::detail::dflag::dist_hdr_atom_cache;
    const std::string status = peer.handshake(name, cookie, node_name);
    EXPECT_EQ(status, "") << "handshake with " << node_name;
  }
  [[nodiscard]] codec::Pid pid() const { return codec::Pid{Atom(name), 1, 0, 1}; }
  /// A REG_SEND packet to `to` from this peer with `payload` (the payload term's bytes, 131
  /// included).
  void reg_send(const std::string& to, const std::string& payload) {
    std::string body = "p";
    codec::encode(codec::tuple(6, pid(), Atom(), Atom(to)), body);
    body += payload;
    std::string packet;
    cnode::detail::put_u32(packet, static_cast<std::uint32_t>(body.size()));
    peer.send(packet + body);
  }
  /// `{'$gen_call', {Pid, Ref}, Request}` from this peer, as term_to_binary bytes.
  [[nodiscard]] std::string gen_call(const Term& request) const {
    codec::Reference ref;
    ref.node = Atom(name);
    ref.length = 3;
    ref.ids = {1, 2, 3, 0, 0};
    ref.creation = 1;
    return codec::encode(codec::tuple(Atom("$gen_call"), codec::tuple(pid(), ref), request));
  }
  RawPeer peer;
  std::string name;
};

/// `{'$gen_call', {Pid, Ref}, {put, Key, N}}` where N is a LARGE_BIG_EXT of `digits` bytes
/// (built by hand: the encoder refuses one the BEAM cannot hold).
std::string put_big(const Raw& raw, const std::string& key, std::size_t digits) {
  std::string bytes = raw.gen_call(codec::tuple(Atom("put"), Atom(key), 0));
  bytes.resize(bytes.size() - 2);           // the SMALL_INTEGER_EXT 0 at the end
  bytes.push_back(static_cast<char>(111));  // LARGE_BIG_EXT
  cnode::detail::put_u32(bytes, static_cast<std::uint32_t>(digits));
  bytes.push_back('\0');  // positive
  bytes.append(digits, '\x01');
  return bytes;
}

class DecodeLimits : public Fault {
 protected:
  /// An erl node hosting the Erlang seed kv_store, registered as kv_store.
  std::unique_ptr<BeamNode> start_reference(std::vector<std::string> erl_args = {}) {
    auto ref = std::make_unique<BeamNode>(epmd, beam("ref", std::move(erl_args)));
    EXPECT_EQ(ref->eval("cppnode_fault:start_kv_store()."), "ok");
    return ref;
  }
  std::string stat(BeamNode& from, const CppNodeProcess& cpp, const std::string& key) {
    return from.eval("cppnode_fault:stat(" + cpp.atom() + ", " + key + ").");
  }
};

TEST_F(DecodeLimits, IntegersTheBeamCannotHoldAreRefusedAndNeverServed) {
  auto cpp = start_cpp();
  auto ref = start_reference();
  BeamNode client(epmd, beam("client"));
  const std::string cpp_kv = "{erl_kv_store, " + cpp->atom() + "}";
  const std::string ref_kv = "{kv_store, '" + ref->node_name() + "'}";
  ASSERT_EQ(client.eval("erlang:monitor_node(" + cpp->atom() + ", true)."), "true");
  const std::string size_of_get =
      "case gen_server:call(~s, {get, ~s}, 30000) of N when is_integer(N) -> "
      "byte_size(binary:encode_unsigned(N)); Other -> Other end.";
  auto get_size = [&](const std::string& dest, const std::string& key) {
    std::string code = size_of_get;
    code.replace(code.find("~s"), 2, dest);
    code.replace(code.find("~s"), 2, key);
    return client.eval(code, 60s);
  };
  // The put came over another connection than the get, so the get may overtake it (decoding a
  // 4 MiB integer takes a while under a sanitizer): ask until the key is there.
  auto stored_size = [&](const std::string& dest, const std::string& key) {
    std::string size = get_size(dest, key);
    for (int i = 0; i < 300 && size == "undefined"; ++i) {
      std::this_thread::sleep_for(100ms);
      size = get_size(dest, key);
    }
    return size;
  };

  // The largest integer both take: stored, and served to a BEAM node.
  for (auto [port, node, dest, name] :
       {std::tuple{cpp->port(), cpp->node_name(), cpp_kv, std::string("erl_kv_store")},
        std::tuple{epmd.port_of(ref->sname()), ref->node_name(), ref_kv,
                   std::string("kv_store")}}) {
    Raw raw(port, cookie, node);
    raw.reg_send(name, put_big(raw, "largest", codec::max_integer_bytes));
    EXPECT_EQ(stored_size(dest, "largest"), std::to_string(codec::max_integer_bytes)) << node;
    EXPECT_FALSE(raw.peer.closed_by_node(1ms)) << node;
  }

  // One byte more: the BEAM refuses it and closes the sender's connection (measured here).
  {
    Raw raw(epmd.port_of(ref->sname()), cookie, ref->node_name());
    raw.reg_send("kv_store", put_big(raw, "over", codec::max_integer_bytes + 1));
    EXPECT_TRUE(raw.peer.closed_by_node(30s));
    EXPECT_EQ(get_size(ref_kv, "over"), "undefined");
  }
  // The C node refuses that message alone (its framing and control were fine) and keeps the
  // connection; what it stores never holds such an integer, so no BEAM node that reads it loses
  // its connection.
  {
    Raw raw(cpp->port(), cookie, cpp->node_name());
    raw.reg_send("erl_kv_store", put_big(raw, "over", codec::max_integer_bytes + 1));
    EXPECT_TRUE(cpp->wait_log("digit bytes in LARGE_BIG_EXT, got 4194297", 30s))
        << cpp->stderr_text();
    EXPECT_TRUE(cpp->wait_log("refused a message from " + raw.name, 1s)) << cpp->stderr_text();
    EXPECT_FALSE(raw.peer.closed_by_node(500ms));
    EXPECT_EQ(get_size(cpp_kv, "over"), "undefined");
  }
  EXPECT_EQ(stat(client, *cpp, "messages_refused"), "1");
  EXPECT_EQ(client.eval("receive {nodedown, N} -> {nodedown, N} after 0 -> none end."), "none");
  EXPECT_TRUE(cpp->running());
}

TEST_F(DecodeLimits, CompressedTermsInMessagesCloseTheConnectionAsOnTheBeam) {
  auto cpp = start_cpp();
  auto ref = start_reference();
  BeamNode client(epmd, beam("client"));
  ASSERT_EQ(client.eval("gen_server:call({erl_kv_store, " + cpp->atom() + "}, {put, k, v})."),
            "ok");
  ASSERT_EQ(client.eval("erlang:monitor_node(" + cpp->atom() + ", true)."), "true");
  // A put whose value inflates from about 4 KiB to 4 MiB.
  auto payload = [](const Raw& raw) {
    const std::string plain = raw.gen_call(
        codec::tuple(Atom("put"), Atom("zipped"), codec::binary(std::string(4 << 20, 'z'))));
    const auto term = codec::decode(codec::as_bytes(plain));
    return codec::encode_compressed(term.value());
  };
  for (auto [port, node, name] :
       {std::tuple{epmd.port_of(ref->sname()), ref->node_name(), std::string("kv_store")},
        std::tuple{cpp->port(), cpp->node_name(), std::string("erl_kv_store")}}) {
    Raw raw(port, cookie, node);
    const std::string zipped = payload(raw);
    ASSERT_EQ(static_cast<unsigned char>(zipped[1]), 80);
    ASSERT_LT(zipped.size(), 64U * 1024);
    raw.reg_send(name, zipped);
    EXPECT_TRUE(raw.peer.closed_by_node(30s)) << node << " kept a connection that sent COMPRESSED";
  }
  EXPECT_TRUE(cpp->wait_log("got COMPRESSED (tag 80)", 10s)) << cpp->stderr_text();
  EXPECT_EQ(client.eval("gen_server:call({kv_store, '" + ref->node_name() + "'}, {get, zipped})."),
            "undefined");
  EXPECT_EQ(client.eval("gen_server:call({erl_kv_store, " + cpp->atom() + "}, {get, zipped})."),
            "undefined");
  // Only that connection: the client's stayed up.
  EXPECT_EQ(client.eval("receive {nodedown, N} -> {nodedown, N} after 0 -> none end."), "none");
  EXPECT_EQ(client.eval("gen_server:call({erl_kv_store, " + cpp->atom() + "}, {get, k})."), "v");
}

TEST_F(DecodeLimits, MessagesToMissingNamesAreDroppedUndecodedAndAtomsAreBounded) {
  // A small atom table on both sides: the C node's through --max-atoms, the BEAM's through +t.
  constexpr int limit = 20'000;
  auto cpp = start_cpp({"--max-atoms", std::to_string(limit)});
  auto ref = start_reference({"+t", std::to_string(limit), "-env", "ERL_CRASH_DUMP_SECONDS", "0"});
  BeamNode client(epmd, beam("client"));
  ASSERT_EQ(client.eval("erlang:monitor_node(" + cpp->atom() + ", true)."), "true");
  const std::string cpp_kv = "{erl_kv_store, " + cpp->atom() + "}";
  const std::string ref_kv = "{kv_store, '" + ref->node_name() + "'}";
  ASSERT_EQ(client.eval("gen_server:call(" + cpp_kv + ", {put, kept, 1})."), "ok");
  auto number = [](const std::string& s) {
    return s.find_first_not_of("0123456789") == std::string::npos && !s.empty() ? std::stol(s)
                                                                                : -1L;
  };

  // (a) 5,000 new atoms in messages to a name that does not exist: neither node decodes them
  // (each count is taken after a call, so the code loading that a first call causes is done).
  EXPECT_EQ(client.eval("gen_server:call(" + ref_kv + ", {get, kept})."), "undefined");
  const long cpp_atoms = number(stat(client, *cpp, "atoms"));
  const long ref_atoms = number(ref->eval("erlang:system_info(atom_count)."));
  ASSERT_GT(cpp_atoms, 0);
  ASSERT_LT(cpp_atoms, limit - 6000) << "the C node starts with too many atoms for this test";
  ASSERT_LT(ref_atoms, limit - 6000) << "the BEAM node starts with too many atoms for this test";
  for (const std::string& node : {cpp->atom(), "'" + ref->node_name() + "'"}) {
    ASSERT_EQ(client.eval("cppnode_fault:send_new_atoms({no_such_name, " + node +
                          "}, \"missing\", 1, 5000)."),
              "ok");
  }
  // Calls after the casts on the same connections: handled after them.
  EXPECT_EQ(client.eval("gen_server:call(" + cpp_kv + ", {get, kept})."), "1");
  EXPECT_EQ(client.eval("gen_server:call(" + ref_kv + ", {get, kept})."), "undefined");
  const long cpp_grew = number(stat(client, *cpp, "atoms")) - cpp_atoms;
  const long ref_grew = number(ref->eval("erlang:system_info(atom_count).")) - ref_atoms;
  record_figure("atoms_added_by_5000_to_missing_name_cppnode", static_cast<double>(cpp_grew),
                "atoms");
  record_figure("atoms_added_by_5000_to_missing_name_beam", static_cast<double>(ref_grew), "atoms");
  // The C node: a few atoms of the control messages themselves (the name) and its own work.
  EXPECT_LT(cpp_grew, 100);
  // The BEAM drops the payloads undecoded too, but each new atom also travels in the
  // distribution header's atom cache, which the receiver reads for every message: it gains the
  // 5,000 atoms all the same (4,989 measured). The C node reads the same headers but keeps their
  // atoms as text until a term it decodes uses them.
  EXPECT_GT(ref_grew, 4000);

  // (b) New atoms in messages that are delivered, until beyond the limit. The BEAM node dies
  // ("no more index entries in atom_tab"); the C node refuses each message that needs a new
  // atom, keeps the connection, and every atom it has keeps working.
  const int flood = limit - static_cast<int>(cpp_atoms) + 1000;
  client.eval(
      "cppnode_fault:send_new_atoms(" + ref_kv + ", \"flood\", 1, " + std::to_string(limit) + ").",
      120s);
  EXPECT_TRUE(wait_until([&] { return !ref->running(); }, 60s))
      << "the BEAM node survived " << limit << " new atoms with +t " << limit;
  ASSERT_EQ(client.eval("cppnode_fault:send_new_atoms(" + cpp_kv + ", \"flood\", 1, " +
                            std::to_string(flood) + ").",
                        120s),
            "ok");
  EXPECT_EQ(client.eval("gen_server:call(" + cpp_kv + ", {get, kept})."), "1");
  EXPECT_EQ(number(stat(client, *cpp, "atoms")), limit);
  const long refused = number(stat(client, *cpp, "messages_refused"));
  EXPECT_GE(refused, 1000);
  EXPECT_LE(refused, flood);
  record_figure("atom_limit_refused_messages", static_cast<double>(refused), "messages");
  EXPECT_TRUE(cpp->wait_log("the atom table is full at its limit of 20000 atoms", 10s))
      << cpp->stderr_text();
  // Atoms the node has, the ones the flood brought in included, still decode.
  EXPECT_EQ(client.eval("gen_server:call(" + cpp_kv + ", {put, flood_1, 2})."), "ok");
  EXPECT_EQ(client.eval("gen_server:call(" + cpp_kv + ", {get, flood_1})."), "2");
  EXPECT_EQ(client.eval("receive {nodedown, N} -> {nodedown, N} after 0 -> none end."), "none");
  EXPECT_TRUE(cpp->running());
}

TEST_F(DecodeLimits, ADeepTermIsRefusedAloneWhereTheBeamStoresIt) {
  auto cpp = start_cpp();
  auto ref = start_reference();
  BeamNode client(epmd, beam("client"));
  ASSERT_EQ(client.eval("erlang:monitor_node(" + cpp->atom() + ", true)."), "true");
  const std::string cpp_kv = "{erl_kv_store, " + cpp->atom() + "}";
  const std::string ref_kv = "{kv_store, '" + ref->node_name() + "'}";
  auto depth_of = [&](const std::string& dest, const std::string& key) {
    return client.eval("case gen_server:call(" + dest + ", {get, " + key +
                       "}, 30000) of undefined -> undefined; T -> cppnode_fault:depth(T) end.");
  };
  // 500 levels (within the C node's 512): both store and serve it.
  for (const auto& dest : {cpp_kv, ref_kv}) {
    ASSERT_EQ(client.eval("cppnode_fault:send_nested(" + dest + ", shallow, 500)."), "ok");
    EXPECT_EQ(depth_of(dest, "shallow"), "500") << dest;
  }
  // 10,000 levels: the BEAM stores it; the C node refuses that message only (logged with the
  // sender and the reason), and the client's connection, its links and monitors stay.
  for (const auto& dest : {cpp_kv, ref_kv}) {
    ASSERT_EQ(client.eval("cppnode_fault:send_nested(" + dest + ", deep, 10000)."), "ok");
  }
  EXPECT_EQ(depth_of(ref_kv, "deep"), "10000");
  EXPECT_EQ(depth_of(cpp_kv, "deep"), "undefined");
  EXPECT_TRUE(cpp->wait_log("refused a message from " + client.node_name(), 10s))
      << cpp->stderr_text();
  EXPECT_EQ(cpp->log_count("nested terms, got more"), 1U) << cpp->stderr_text();
  EXPECT_EQ(stat(client, *cpp, "messages_refused"), "1");
  EXPECT_EQ(client.eval("receive {nodedown, N} -> {nodedown, N} after 0 -> none end."), "none");
  EXPECT_EQ(depth_of(cpp_kv, "shallow"), "500");
}

}  // namespace
}  // namespace cppnode::fault_testing
