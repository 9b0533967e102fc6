// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/gen_server.hpp"

#include <cxxabi.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "cppnode/cnode/node.hpp"
#include "server_process.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Term;

Term GenServer::state_term() const { return Term(module()); }

codec::Atom GenServer::module() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string name = status == 0 && demangled ? demangled.get() : mangled;
  if (name.size() > codec::Atom::max_chars) name.resize(codec::Atom::max_chars);
  return codec::Atom(name);
}

InitResult GenServer::init() { return InitResult::ok(); }

CallResult GenServer::handle_call(const Term& request, const From& from) {
  (void)from;
  // Elixir's `use GenServer` raises here; the exit reason names the request instead.
  spdlog::error("attempted to call GenServer {} but no handle_call/3 clause was provided",
                codec::to_string(self()));
  return stop(codec::tuple("bad_call"_a, request));
}

InfoResult GenServer::handle_cast(const Term& message) {
  spdlog::error("attempted to cast GenServer {} but no handle_cast/2 clause was provided",
                codec::to_string(self()));
  return stop(codec::tuple("bad_cast"_a, message));
}

InfoResult GenServer::handle_info(const Term& message) {
  spdlog::error("{} {} received unexpected message in handle_info/2: {}", module().name(),
                codec::to_string(self()), codec::to_string(message));
  return noreply();
}

void GenServer::terminate(const Term& reason) { (void)reason; }

detail::ServerProcess& GenServer::process() const {
  if (process_ == nullptr) {
    throw std::logic_error("GenServer helper used on a server that was not started");
  }
  return *process_;
}

const codec::Pid& GenServer::self() const { return process().self(); }

cnode::Node& GenServer::node() const { return process().node(); }

void GenServer::send(const Dest& dest, Term message) { process().send(dest, std::move(message)); }

void GenServer::cast(const Dest& dest, Term message) {
  process().send(dest, codec::tuple("$gen_cast"_a, std::move(message)));
}

void GenServer::call(const Dest& dest, Term request, std::chrono::milliseconds timeout,
                     CallContinuation k) {
  process().call(dest, std::move(request), timeout, std::move(k));
}

TimerRef GenServer::send_after(std::chrono::milliseconds delay, Term message) {
  return process().send_after(delay, std::move(message));
}

bool GenServer::cancel_timer(TimerRef timer) { return process().cancel_timer(timer); }

codec::Reference GenServer::monitor(const codec::Pid& pid) {
  return node().monitor(self(), pid, pid.node);
}

void GenServer::demonitor(const codec::Reference& ref) { node().demonitor(self(), ref); }

void GenServer::link(const codec::Pid& pid) { node().link(self(), pid); }

void GenServer::unlink(const codec::Pid& pid) { node().unlink(self(), pid); }

void GenServer::trap_exit(bool on) { process().set_user_trap_exit(on); }

}  // namespace cppnode::servers
