// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/echo.hpp"

#include "cppnode/cnode/node.hpp"

namespace cppnode::cnode {

using namespace codec::literals;

void EchoProcess::on_signal(Signal signal) {
  auto* m = std::get_if<MessageSignal>(&signal);
  if (m == nullptr) return;
  using codec::Atom;
  codec::Term from;
  codec::Term request;
  codec::Pid pid;
  codec::Term tag;
  if (codec::match(m->message, "$gen_call"_a, &from, &request) && codec::match(from, &pid, &tag)) {
    // OTP 24+ callers tag with [alias | Ref]: answer the alias, so a late reply is dropped.
    const auto* l = tag.get_if<codec::List>();
    codec::Term reply = codec::tuple(tag, std::move(request));
    if (l != nullptr && !l->proper && l->elements.size() == 2 && l->elements[0].is_atom("alias") &&
        l->elements[1].is<codec::Reference>()) {
      node().send_alias(self(), l->elements[1].as<codec::Reference>(), pid, std::move(reply));
    } else {
      node().send(self(), pid, std::move(reply));
    }
    return;
  }
  codec::Term payload;
  if (codec::match(m->message, &pid, &payload)) {
    node().send(self(), pid, codec::tuple("echo"_a, self(), std::move(payload)));
  }
}

}  // namespace cppnode::cnode
