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
  node().reply(self(), caller, std::move(tag), "yes"_a);
}

}  // namespace cppnode::cnode
