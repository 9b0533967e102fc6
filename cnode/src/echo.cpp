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
    node().reply(self(), pid, std::move(tag), std::move(request));
    return;
  }
  codec::Term payload;
  if (codec::match(m->message, &pid, &payload)) {
    node().send(self(), pid, codec::tuple("echo"_a, self(), std::move(payload)));
  }
}

}  // namespace cppnode::cnode
