// SPDX-License-Identifier: Apache-2.0
#include "net_kernel.hpp"

#include <spdlog/spdlog.h>

#include "cppnode/cnode/node.hpp"

namespace cppnode::cnode {

using namespace codec::literals;

void NetKernel::on_signal(Signal signal) {
  auto* msg = std::get_if<MessageSignal>(&signal);
  if (msg == nullptr) {
    return;
  }
  using codec::Atom;
  using codec::Term;
  // {'$gen_call', {From, Tag}, Request}
  Term from;
  Term request;
  if (!codec::match(msg->message, "$gen_call"_a, &from, &request)) {
    spdlog::debug("net_kernel: ignoring {}", codec::to_string(msg->message));
    return;
  }
  codec::Pid caller;
  Term tag;
  if (!codec::match(from, &caller, &tag)) {
    return;
  }
  if (!codec::match(request, "is_auth"_a, codec::_)) {
    spdlog::debug("net_kernel: no answer for call {}", codec::to_string(request));
    return;
  }
  Term reply = codec::tuple(tag, "yes"_a);
  // OTP 24+ callers tag with [alias | Ref]: answer the alias so a late reply is dropped by them.
  if (const auto* l = tag.get_if<codec::List>();
      l != nullptr && !l->proper && l->elements.size() == 2 && l->elements[0].is_atom("alias") &&
      l->elements[1].is<codec::Reference>()) {
    node().send_alias(self(), l->elements[1].as<codec::Reference>(), caller, std::move(reply));
  } else {
    node().send(self(), caller, std::move(reply));
  }
}

}  // namespace cppnode::cnode
