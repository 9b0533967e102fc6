// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cppnode/cnode/process.hpp"

namespace cppnode::cnode {

/// A diagnostic process: answers `{From, Msg}` with `{echo, self(), Msg}`, and
/// `gen_server:call(Echo, Request)` with `Request` (to the caller's alias when the tag has one).
/// Other messages are ignored. Handy to check a node from iex:
/// `send({:echo, :"cppnode@host"}, {self(), :hi}); flush()`.
class EchoProcess : public Process {
 public:
  using Process::Process;

 protected:
  void on_signal(Signal signal) override;
};

}  // namespace cppnode::cnode
