// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/rpc.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <utility>

#include "cppnode/cnode/node.hpp"
#include "cppnode/cnode/process.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

// One RPC: rex answers `{rex, Result}` without any correlation tag, so each call gets a
// process of its own.
class RpcProcess final : public cnode::Process {
 public:
  RpcProcess(cnode::Node& node, Atom target, Term request, std::chrono::milliseconds timeout,
             std::function<void(RpcOutcome)> done)
      : cnode::Process(node),
        target_(target),
        request_(std::move(request)),
        timeout_(timeout),
        done_(std::move(done)),
        timer_(strand()) {}

 protected:
  void on_start() override {
    timer_.expires_after(timeout_);
    timer_.async_wait([self = std::static_pointer_cast<RpcProcess>(shared_from_this())](
                          const boost::system::error_code& ec) {
      if (!ec) self->finish(false, Term("timeout"_a));
    });
    mref_ = node().monitor(self(), "rex"_a, target_);
    node().send(self(), "rex"_a, target_, codec::tuple(self(), std::move(request_)));
  }

  void on_signal(cnode::Signal signal) override {
    if (auto* m = std::get_if<cnode::MessageSignal>(&signal)) {
      auto* t = m->message.get_if<codec::Tuple>();
      if (t != nullptr && t->elements.size() == 2 && t->elements[0].is_atom("rex")) {
        finish(true, std::move(t->elements[1]));
      }
    } else if (auto* d = std::get_if<cnode::DownSignal>(&signal)) {
      if (d->ref == mref_) finish(false, codec::tuple("nodedown"_a, target_));
    }
  }

 private:
  void finish(bool ok, Term value) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    timer_.cancel();
    if (ok) node().demonitor(self(), mref_);
    try {
      done(RpcOutcome{ok, std::move(value)});
    } catch (const std::exception& e) {
      spdlog::error("rpc to {}: the completion handler threw: {}", target_.name(), e.what());
    }
    node().exit_process(self(), Term("normal"_a));
  }

  Atom target_;
  Term request_;
  std::chrono::milliseconds timeout_;
  std::function<void(RpcOutcome)> done_;
  boost::asio::steady_timer timer_;
  codec::Reference mref_;
};

}  // namespace

void rpc(cnode::Node& node, Atom target, Atom module, Atom function, Term args,
         std::chrono::milliseconds timeout, std::function<void(RpcOutcome)> done) {
  Term request = codec::tuple("call"_a, module, function, std::move(args), "user"_a);
  node.spawn(
      std::make_shared<RpcProcess>(node, target, std::move(request), timeout, std::move(done)));
}

}  // namespace cppnode::servers
