// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/detail/control.hpp"

#include <array>
#include <limits>
#include <optional>
#include <vector>

#include "cppnode/cnode/detail/framing.hpp"

namespace cppnode::cnode::detail {
namespace {

using codec::Term;

constexpr char version_byte = static_cast<char>(131);
constexpr char small_tuple_ext = 104;
constexpr char small_integer_ext = 97;

// ---- Parsing ----

struct Shape {
  std::size_t arity;  // including the operation
  bool payload;
};

// Arity (operation included) and payload of each operation this node accepts, by operation
// number; arity 0 marks an operation it does not accept (SPAWN_REPLY: this node never sends
// SPAWN_REQUEST).
constexpr auto shapes = [] {
  std::array<Shape, 38> t{};
  t[op::link] = t[op::unlink] = t[op::group_leader] = {3, false};
  t[op::send] = t[op::send_sender] = t[op::payload_exit] = t[op::payload_exit2] =
      t[op::alias_send] = {3, true};
  t[op::exit] = t[op::exit2] = t[op::monitor_p] = t[op::demonitor_p] = t[op::unlink_id] =
      t[op::unlink_id_ack] = {4, false};
  t[op::node_link] = {1, false};
  t[op::reg_send] = t[op::send_tt] = t[op::send_sender_tt] = t[op::payload_exit_tt] =
      t[op::payload_exit2_tt] = t[op::payload_monitor_p_exit] = t[op::alias_send_tt] =
          t[op::altact_sig_send] = {4, true};
  t[op::exit_tt] = t[op::exit2_tt] = t[op::monitor_p_exit] = {5, false};
  t[op::reg_send_tt] = {5, true};
  t[op::spawn_request] = {6, true};
  t[op::spawn_request_tt] = {7, true};
  return t;
}();

Shape shape_of(std::int64_t operation) {
  if (operation <= 0 || operation >= static_cast<std::int64_t>(shapes.size())) {
    return {0, false};
  }
  return shapes[static_cast<std::size_t>(operation)];
}

bool take_pid(const Term& t, codec::Pid& out) {
  if (const auto* p = t.get_if<codec::Pid>()) {
    out = *p;
    return true;
  }
  return false;
}

bool take_id(const Term& t, std::uint64_t& out) {
  if (const auto* i = t.get_if<std::int64_t>()) {
    if (*i <= 0) {
      return false;
    }
    out = static_cast<std::uint64_t>(*i);
    return true;
  }
  if (const auto* b = t.get_if<codec::BigInt>()) {
    if (b->negative || b->magnitude.size() > 8) {
      return false;
    }
    out = 0;
    for (std::size_t i = b->magnitude.size(); i-- > 0;) {
      out = (out << 8) | b->magnitude[i];
    }
    return true;
  }
  return false;
}

// The flags' least significant byte, as erts reads them: any non-negative integer will do.
std::optional<std::uint8_t> altact_flags(const Term& t) {
  if (const auto* i = t.get_if<std::int64_t>()) {
    return *i < 0 ? std::nullopt : std::optional(static_cast<std::uint8_t>(*i & 0xff));
  }
  if (const auto* b = t.get_if<codec::BigInt>()) {
    return b->negative || b->magnitude.empty() ? std::nullopt : std::optional(b->magnitude.front());
  }
  return std::nullopt;
}

// {37, Flags, From, To[, Token]}: what it stands for, by the flags (erts dist.c checks the same).
std::optional<incoming::Operation> take_altact(const std::vector<Term>& e) {
  const auto flags = altact_flags(e[1]);
  codec::Pid from;
  if (!flags || !take_pid(e[2], from)) return std::nullopt;
  if ((*flags & altact::token) != 0 && e.size() < 5) return std::nullopt;
  const bool exit = (*flags & altact::exit) != 0;
  const Term& to = e[3];
  const bool to_alias = (*flags & altact::alias) != 0;
  const bool to_name = (*flags & altact::name) != 0;
  if (to_alias  ? !to.is<codec::Reference>() || to_name
      : to_name ? !to.is<codec::Atom>()
                : !to.is<codec::Pid>()) {
    return std::nullopt;
  }
  if (exit) return incoming::Exit2{from, to};
  if (to_alias) return incoming::AliasSend{from, to.as<codec::Reference>()};
  if (to_name) return incoming::RegSend{from, to.as<codec::Atom>()};
  return incoming::Send{to.as<codec::Pid>()};
}

bool is_proc(const Term& t) { return t.is<codec::Pid>() || t.is<codec::Atom>(); }

codec::DecodeOptions dist_options(const codec::DecodeOptions& options) {
  codec::DecodeOptions o = options;
  o.allow_compressed = false;
  return o;
}

// The operation of a control tuple `e` of the right arity for `operation`; nullopt if an element
// has the wrong type.
std::optional<incoming::Operation> take_operation(int operation, const std::vector<Term>& e) {
  codec::Pid from;
  codec::Pid to;
  std::uint64_t id = 0;
  switch (operation) {
    case op::link:
      if (!take_pid(e[1], from) || !take_pid(e[2], to)) return std::nullopt;
      return incoming::Link{from, to};
    case op::unlink:
      if (!take_pid(e[1], from) || !take_pid(e[2], to)) return std::nullopt;
      return incoming::Unlink{from, to};
    case op::send:
    case op::send_tt:
      if (!take_pid(e[2], to)) return std::nullopt;
      return incoming::Send{to};
    case op::send_sender:
    case op::send_sender_tt:
      if (!take_pid(e[1], from) || !take_pid(e[2], to)) return std::nullopt;
      return incoming::Send{to};
    case op::reg_send:
    case op::reg_send_tt:
      if (!take_pid(e[1], from) || !e[3].is<codec::Atom>()) return std::nullopt;
      return incoming::RegSend{from, e[3].as<codec::Atom>()};
    case op::exit:
    case op::exit_tt:
    case op::payload_exit:
    case op::payload_exit_tt:
      if (!take_pid(e[1], from) || !take_pid(e[2], to)) return std::nullopt;
      return incoming::Exit{from, to};
    case op::exit2:
    case op::exit2_tt:
    case op::payload_exit2:
    case op::payload_exit2_tt:
      if (!take_pid(e[1], from) || !take_pid(e[2], to)) return std::nullopt;
      return incoming::Exit2{from, Term(to)};
    case op::monitor_p:
    case op::demonitor_p:
      if (!take_pid(e[1], from) || !is_proc(e[2]) || !e[3].is<codec::Reference>()) {
        return std::nullopt;
      }
      if (operation == op::monitor_p) {
        return incoming::Monitor{from, e[2], e[3].as<codec::Reference>()};
      }
      return incoming::Demonitor{from, e[2], e[3].as<codec::Reference>()};
    case op::monitor_p_exit:
    case op::payload_monitor_p_exit:
      if (!is_proc(e[1]) || !take_pid(e[2], to) || !e[3].is<codec::Reference>()) {
        return std::nullopt;
      }
      return incoming::MonitorExit{e[1], to, e[3].as<codec::Reference>()};
    case op::alias_send:
    case op::alias_send_tt:
      if (!take_pid(e[1], from) || !e[2].is<codec::Reference>()) return std::nullopt;
      return incoming::AliasSend{from, e[2].as<codec::Reference>()};
    case op::altact_sig_send:
      return take_altact(e);
    case op::unlink_id:
    case op::unlink_id_ack:
      if (!take_id(e[1], id) || !take_pid(e[2], from) || !take_pid(e[3], to)) return std::nullopt;
      if (operation == op::unlink_id) return incoming::UnlinkId{id, from, to};
      return incoming::UnlinkIdAck{id, from, to};
    case op::spawn_request:
    case op::spawn_request_tt: {
      const auto* mfa = e[4].get_if<codec::Tuple>();
      if (!e[1].is<codec::Reference>() || !take_pid(e[2], from) || mfa == nullptr ||
          mfa->elements.size() != 3 || !mfa->elements[0].is<codec::Atom>() ||
          !mfa->elements[1].is<codec::Atom>() || !mfa->elements[2].is<std::int64_t>() ||
          !e[5].is_list()) {
        return std::nullopt;
      }
      return incoming::SpawnRequest{e[1].as<codec::Reference>(), from, e[4], e[5]};
    }
    default:  // NODE_LINK, GROUP_LEADER
      return incoming::Ignored{};
  }
}

}  // namespace

codec::Result<ControlMessage, std::string> parse_control(std::span<const std::uint8_t> packet,
                                                         const codec::DecodeOptions& options,
                                                         codec::AtomCacheIn* cache) {
  const bool headed =
      cache != nullptr && !packet.empty() && packet[0] == static_cast<std::uint8_t>(version_byte);
  if (packet.empty() || (packet[0] != pass_through && !headed)) {
    return codec::unexpected(std::string("expected ") +
                             (cache != nullptr ? "a distribution header (131, 68) or " : "") +
                             "the pass-through byte 112 at the start of a packet, got " +
                             (packet.empty() ? std::string("nothing") : std::to_string(packet[0])));
  }
  std::size_t offset = 1;
  codec::DecodeOptions control_options = dist_options(options);
  if (headed) {
    offset = 0;
    if (auto header = cache->read_header(packet, offset); !header) {
      return codec::unexpected(header.error().what());
    }
    control_options.atom_cache = cache;
  }
  auto control = headed ? codec::decode_unversioned_prefix(packet, offset, control_options)
                        : codec::decode_prefix(packet, offset, control_options);
  if (!control) {
    return codec::unexpected("undecodable control message: " + control.error().what());
  }
  const auto* tuple = control->get_if<codec::Tuple>();
  const std::int64_t* opp = tuple != nullptr && !tuple->elements.empty()
                                ? tuple->elements[0].get_if<std::int64_t>()
                                : nullptr;
  if (opp == nullptr) {
    return codec::unexpected(
        "expected a control message tuple starting with an integer operation, got " +
        codec::to_string(*control));
  }
  ControlMessage m;
  m.op = static_cast<int>(*opp);
  const Shape shape = shape_of(*opp);
  const auto& e = tuple->elements;
  if (shape.arity == 0) {
    return codec::unexpected("unknown or unsupported control operation " + std::to_string(*opp) +
                             " in " + codec::to_string(*control));
  }
  // ALTACT_SIG_SEND "might be extended with more elements in the future" (erts dist.c).
  const bool extensible = m.op == op::altact_sig_send;
  if (extensible ? e.size() < shape.arity : e.size() != shape.arity) {
    return codec::unexpected("control operation " + std::to_string(m.op) + " needs a tuple of " +
                             (extensible ? "at least " : "") + std::to_string(shape.arity) +
                             " elements, got " + codec::to_string(*control));
  }
  auto operation = take_operation(m.op, e);
  const bool ok = operation.has_value();
  if (ok) m.operation = std::move(*operation);
  // The old exit forms carry their reason in the control tuple.
  if (m.op == op::exit || m.op == op::exit2) m.payload = e[3];
  if (m.op == op::exit_tt || m.op == op::exit2_tt) m.payload = e[4];
  if (m.op == op::monitor_p_exit) m.payload = e[4];
  if (!ok) {
    return codec::unexpected("ill-formed control message for operation " + std::to_string(m.op) +
                             ": " + codec::to_string(*control));
  }
  if (shape.payload) {
    if (offset >= packet.size()) {
      return codec::unexpected("control operation " + std::to_string(m.op) +
                               " must be followed by a payload term");
    }
    m.payload_bytes = packet.subspan(offset);
    m.atom_cache = headed ? cache : nullptr;
    return m;
  }
  if (offset != packet.size()) {
    return codec::unexpected(std::to_string(packet.size() - offset) +
                             " unexpected bytes after control operation " + std::to_string(m.op));
  }
  return m;
}

codec::Result<void> decode_payload(ControlMessage& m, const codec::DecodeOptions& options) {
  codec::DecodeOptions o = dist_options(options);
  o.atom_cache = m.atom_cache;
  auto payload = m.atom_cache != nullptr ? codec::decode_unversioned(m.payload_bytes, o)
                                         : codec::decode(m.payload_bytes, o);
  if (!payload) {
    return codec::unexpected(std::move(payload).error());
  }
  m.payload = std::move(*payload);
  return {};
}

codec::Result<ControlMessage, std::string> parse_control_full(std::span<const std::uint8_t> packet,
                                                              const codec::DecodeOptions& options,
                                                              codec::AtomCacheIn* cache) {
  auto m = parse_control(packet, options, cache);
  if (m && !m->payload_bytes.empty()) {
    if (auto payload = decode_payload(*m, options); !payload) {
      return codec::unexpected("undecodable payload for control operation " +
                               std::to_string(m->op) + ": " + payload.error().what());
    }
  }
  return m;
}

// ---- Encoding ----

namespace {

// Writes one packet: its length, then either the pass-through byte and the terms with their
// version bytes, or (with an atom cache: DFLAG_DIST_HDR_ATOM_CACHE) a distribution header and the
// terms without them. With a cache nothing reaches `out` before finish(): a term that cannot be
// encoded leaves `out` as it was.
class PacketWriter {
 public:
  PacketWriter(std::string& out, codec::AtomCacheOut* cache, std::size_t arity, int operation)
      : out_(out), cache_(cache) {
    if (cache_ != nullptr) {
      cache_->begin();
      terms_ = &cache_->body();
    } else {
      at_ = begin_packet(out_);
      out_.push_back(static_cast<char>(pass_through));
      out_.push_back(version_byte);
      terms_ = &out_;
    }
    small_int(small_tuple_ext, arity);
    small_int(small_integer_ext, operation);
  }
  PacketWriter(const PacketWriter&) = delete;
  PacketWriter& operator=(const PacketWriter&) = delete;
  ~PacketWriter() = default;

  void small_int(char tag, std::size_t value) {
    terms_->push_back(tag);
    terms_->push_back(static_cast<char>(value));
  }
  void element(const Term& t) {
    if (cache_ != nullptr) {
      codec::encode_body(t, *terms_, *cache_);
    } else {
      codec::encode_body(t, *terms_);
    }
  }
  void payload(const Term& t) {
    if (cache_ != nullptr) {
      codec::encode_body(t, *terms_, *cache_);
    } else {
      codec::encode(t, *terms_);
    }
  }
  void finish() {
    if (cache_ != nullptr) {
      at_ = begin_packet(out_);
      cache_->finish(out_);
    }
    end_packet(out_, at_);
  }

 private:
  std::string& out_;
  codec::AtomCacheOut* cache_;
  std::string* terms_ = nullptr;
  std::size_t at_ = 0;
};

const Term& empty_atom() {
  static const Term t{codec::Atom()};
  return t;
}

}  // namespace

void encode_send(std::string& out, const codec::Pid& to, const codec::Term& message,
                 codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, 3, op::send);
  w.element(empty_atom());
  w.element(Term(to));
  w.payload(message);
  w.finish();
}

void encode_reg_send(std::string& out, const codec::Pid& from, codec::Atom to_name,
                     const codec::Term& message, codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, 4, op::reg_send);
  w.element(Term(from));
  w.element(empty_atom());
  w.element(Term(to_name));
  w.payload(message);
  w.finish();
}

void encode_alias_send(std::string& out, const codec::Pid& from, const codec::Reference& alias,
                       const codec::Term& message, codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, 3, op::alias_send);
  w.element(Term(from));
  w.element(Term(alias));
  w.payload(message);
  w.finish();
}

void encode_altact_alias_send(std::string& out, const codec::Pid& from,
                              const codec::Reference& alias, const codec::Term& message,
                              codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, 4, op::altact_sig_send);
  w.small_int(small_integer_ext, altact::alias);
  w.element(Term(from));
  w.element(Term(alias));
  w.payload(message);
  w.finish();
}

void encode_link(std::string& out, const codec::Pid& from, const codec::Pid& to,
                 codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, 3, op::link);
  w.element(Term(from));
  w.element(Term(to));
  w.finish();
}

void encode_unlink(std::string& out, const codec::Pid& from, const codec::Pid& to,
                   codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, 3, op::unlink);
  w.element(Term(from));
  w.element(Term(to));
  w.finish();
}

void encode_unlink_id(std::string& out, int operation, std::uint64_t id, const codec::Pid& from,
                      const codec::Pid& to, codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, 4, operation);
  w.element(Term(id));
  w.element(Term(from));
  w.element(Term(to));
  w.finish();
}

void encode_exit(std::string& out, bool payload_form, bool is_link, const codec::Pid& from,
                 const codec::Pid& to, const codec::Term& reason, codec::AtomCacheOut* cache) {
  const int operation = payload_form ? (is_link ? op::payload_exit : op::payload_exit2)
                                     : (is_link ? op::exit : op::exit2);
  PacketWriter w(out, cache, payload_form ? 3 : 4, operation);
  w.element(Term(from));
  w.element(Term(to));
  if (payload_form) {
    w.payload(reason);
  } else {
    w.element(reason);
  }
  w.finish();
}

void encode_monitor(std::string& out, int operation, const codec::Pid& from,
                    const codec::Term& target, const codec::Reference& ref,
                    codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, 4, operation);
  w.element(Term(from));
  w.element(target);
  w.element(Term(ref));
  w.finish();
}

void encode_monitor_exit(std::string& out, bool payload_form, const codec::Term& from_proc,
                         const codec::Pid& to, const codec::Reference& ref,
                         const codec::Term& reason, codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, payload_form ? 4 : 5,
                 payload_form ? op::payload_monitor_p_exit : op::monitor_p_exit);
  w.element(from_proc);
  w.element(Term(to));
  w.element(Term(ref));
  if (payload_form) {
    w.payload(reason);
  } else {
    w.element(reason);
  }
  w.finish();
}

void encode_tick(std::string& out) { out.append(4, '\0'); }

void encode_spawn_reply(std::string& out, const codec::Reference& ref, const codec::Pid& to,
                        std::int64_t flags, const codec::Term& result, codec::AtomCacheOut* cache) {
  PacketWriter w(out, cache, 5, op::spawn_reply);
  w.element(Term(ref));
  w.element(Term(to));
  w.element(Term(flags));
  w.element(result);
  w.finish();
}

}  // namespace cppnode::cnode::detail
