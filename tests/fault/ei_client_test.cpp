// SPDX-License-Identifier: Apache-2.0
// erl_interface's own client API (ei_connect, ei_reg_send, ei_receive_msg_tmo, ei_rpc) as a
// foreign peer of the real executable, compared with a BEAM node hosting the real seed modules.
#include <ei.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cppnode/codec/codec.hpp"
#include "cppnode/test_support/beam_node.hpp"
#include "cppnode/test_support/names.hpp"
#include "fault_fixture.hpp"

namespace cppnode::fault_testing {
namespace {

using codec::Atom;
using codec::Term;
using test_support::BeamKind;
using test_support::BeamNode;

/// A term that ei encoded, with or without the version byte (ei_rpc leaves it out), or nullopt.
std::optional<Term> decode_ei(const char* buff, int size) {
  std::string bytes(buff, static_cast<std::size_t>(size));
  if (bytes.empty() || static_cast<unsigned char>(bytes[0]) != 131) bytes.insert(0, 1, '\x83');
  auto term =
      codec::decode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  if (!term) return std::nullopt;
  return std::move(*term);
}

/// One ei connection to a node, as a hidden C node of its own.
class EiClient {
 public:
  EiClient(std::uint16_t port, const std::string& cookie) {
    ei_init();
    const std::string alive = test_support::unique_name("ei");
    if (ei_connect_init(&ec_, alive.c_str(), cookie.c_str(), 1) < 0) {
      ADD_FAILURE() << "ei_connect_init failed";
      return;
    }
    std::string host = "127.0.0.1";
    fd_ = ei_connect_host_port_tmo(&ec_, host.data(), port, 10'000);
    if (fd_ < 0) ADD_FAILURE() << "ei_connect_host_port to port " << port << " failed: " << fd_;
  }
  ~EiClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  EiClient(const EiClient&) = delete;
  EiClient& operator=(const EiClient&) = delete;

  /// gen_server:call(Name, Request) by hand over ei_reg_send: the reply, or "timeout".
  std::string call(const std::string& name, const Term& request) {
    codec::Reference tag;
    tag.node = self().node;
    tag.creation = self().creation;
    tag.ids = {++calls_, 0, 0};
    send(name, codec::tuple(Atom("$gen_call"), codec::tuple(self(), tag), request));
    for (int i = 0; i < 100; ++i) {
      const auto m = receive();
      if (!m) return "timeout";
      const auto* t = m->get_if<codec::Tuple>();
      if (t != nullptr && t->elements.size() == 2 && t->elements[0] == Term(tag)) {
        return codec::to_string(t->elements[1]);
      }
    }
    return "no reply among 100 messages";
  }
  void cast(const std::string& name, const Term& message) {
    send(name, codec::tuple(Atom("$gen_cast"), message));
  }
  /// ei_rpc(M, F, []): the answer, or what failed.
  std::string rpc(const std::string& module, const std::string& function) {
    ei_x_buff args;
    ei_x_buff result;
    ei_x_new(&args);
    ei_x_new(&result);
    ei_x_encode_empty_list(&args);
    std::string m = module;
    std::string f = function;
    std::string out = "ei_rpc failed";
    if (ei_rpc(&ec_, fd_, m.data(), f.data(), args.buff, args.index, &result) >= 0) {
      auto term = decode_ei(result.buff, result.index);
      out = term ? codec::to_string(*term) : "undecodable answer";
    }
    ei_x_free(&args);
    ei_x_free(&result);
    return out;
  }

 private:
  /// This client's pid, as a term.
  codec::Pid self() {
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_pid(&x, ei_self(&ec_));
    auto pid = decode_ei(x.buff, x.index);
    ei_x_free(&x);
    return pid ? pid->as<codec::Pid>() : codec::Pid{};
  }
  void send(const std::string& name, const Term& message) {
    std::string bytes = codec::encode(message);
    std::string n = name;
    if (ei_reg_send(&ec_, fd_, n.data(), bytes.data(), static_cast<int>(bytes.size())) < 0) {
      ADD_FAILURE() << "ei_reg_send to " << name << " failed";
    }
  }
  /// The next message (ticks are answered by ei itself), or nullopt after 10 s or on error.
  std::optional<Term> receive() {
    ei_x_buff x;
    ei_x_new(&x);
    erlang_msg msg;
    std::optional<Term> out;
    while (true) {
      const int got = ei_receive_msg_tmo(fd_, &msg, &x, 10'000);
      if (got == ERL_TICK) continue;
      if (got == ERL_MSG && (msg.msgtype == ERL_SEND || msg.msgtype == ERL_REG_SEND)) {
        auto term = decode_ei(x.buff, x.index);
        if (term) out = std::move(*term);
      }
      break;
    }
    ei_x_free(&x);
    return out;
  }

  ei_cnode ec_{};
  int fd_ = -1;
  std::uint32_t calls_ = 0;
};

/// Calls and casts to every seed server, one line per answer (the JInterface client's list).
std::vector<std::string> seed_answers(EiClient& c) {
  using codec::binary;
  const Term i5(std::int64_t{5});
  std::vector<std::pair<std::string, Term>> calls{
      {"counter", Atom("get_count")},
      {"stack", Atom("pop")},
      {"kv_store", codec::tuple(Atom("put"), Atom("name"), binary("Elixir"))},
      {"kv_store", codec::tuple(Atom("put"), Term(std::int64_t{1}), Atom("a"))},
      {"kv_store", codec::tuple(Atom("get"), Atom("name"))},
      {"kv_store", codec::tuple(Atom("get"), Atom("missing"))},
      {"kv_store", Atom("keys")},
      {"erl_kv_store", codec::tuple(Atom("put"), Atom("name"), codec::charlist("Alice"))},
      {"erl_kv_store", Atom("all")},
      {"hashmap", codec::tuple(Atom("put"), binary("name"), binary("John"))},
      {"hashmap", codec::tuple(Atom("get_all"))},
      {"shopping_cart", codec::tuple(Atom("add_item"), Atom("apple"), Term(std::int64_t{3}))},
      {"shopping_cart", codec::tuple(Atom("add_item"), Atom("pear"), Term(0.5))},
      {"shopping_cart", Atom("total")},
      {"shopping_cart", Atom("list_items")}};
  std::vector<std::string> out;
  c.cast("counter", codec::tuple(Atom("increment"), i5));
  c.cast("stack", codec::tuple(Atom("push"), Atom("world")));
  for (const auto& [name, request] : calls) {
    out.push_back(name + " " + codec::to_string(request) + " -> " + c.call(name, request));
  }
  return out;
}

TEST_F(Fault, EiClientGetsFromTheCNodeWhatTheBeamGivesIt) {
  auto cpp = start_cpp();
  auto options = beam("reference", {"-pa", CPPNODE_HARNESS_EBIN});
  options.kind = BeamKind::elixir;
  BeamNode reference(epmd, options);
  ASSERT_EQ(reference.eval(":cppnode_harness.start_local_references()"), "ok");
  EiClient at_cpp(cpp->port(), cookie);
  EiClient at_beam(epmd.port_of(reference.sname()), cookie);
  const auto from_beam = seed_answers(at_beam);
  EXPECT_EQ(seed_answers(at_cpp), from_beam);
  EXPECT_EQ(from_beam.front(), "counter get_count -> 5");
  EXPECT_EQ(at_cpp.rpc("cppnode", "version"),
            reference.eval(":rpc.call(:\"" + cpp->node_name() + "\", :cppnode, :version, [])"));
  EXPECT_EQ(at_beam.rpc("erlang", "node"), reference.node_name());
}

}  // namespace
}  // namespace cppnode::fault_testing
