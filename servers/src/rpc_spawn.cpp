// SPDX-License-Identifier: Apache-2.0
// The processes OTP 23+ rpc and erpc spawn on this node: each asks rex to apply the function
// and exits with what erpc.erl's execute_call/4 and execute_cast/3 exit with, which the caller's
// monitor (or link) turns into its result.
#include <spdlog/spdlog.h>

#include <memory>
#include <utility>

#include "cppnode/cnode/node.hpp"
#include "cppnode/cnode/process.hpp"
#include "cppnode/servers/rex.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

class SpawnedApply final : public cnode::Process {
 public:
  // What the spawned function was: erpc:execute_call(Ref, ...), erpc:execute_cast(...), or a
  // plain M:F(Args...).
  enum class Form : std::uint8_t { call, cast, plain };

  SpawnedApply(cnode::Node& node, Form form, Term ref, Term m, Term f, Term args)
      : cnode::Process(node),
        form_(form),
        ref_(std::move(ref)),
        m_(std::move(m)),
        f_(std::move(f)),
        args_(std::move(args)) {}

 protected:
  void on_start() override {
    // As gen_server:call: the monitor tells if rex is not there; its reference is the tag.
    mref_ = node().monitor(self(), Term("rex"_a), node().name());
    node().send(self(), "rex"_a, node().name(),
                codec::tuple("$gen_call"_a, codec::tuple(self(), mref_),
                             codec::tuple("$cppnode_apply"_a, m_, f_, args_)));
  }

  void on_signal(cnode::Signal signal) override {
    if (const auto* m = std::get_if<cnode::MessageSignal>(&signal)) {
      Term answer;
      Atom kind;
      Term value;
      Term stack;
      if (codec::match(m->message, Term(mref_), &answer) &&
          codec::match(answer, &kind, &value, &stack)) {
        node().demonitor(self(), mref_);
        finish(kind, std::move(value), std::move(stack));
      }
    } else if (const auto* d = std::get_if<cnode::DownSignal>(&signal)) {
      if (d->ref == mref_) finish("exit"_a, d->reason, codec::list());
    }
  }

 private:
  void finish(Atom kind, Term value, Term stack) {
    const bool returned = kind == "return"_a;
    const bool exited = kind == "exit"_a;
    Term reason;
    switch (form_) {
      case Form::call:
        reason = exited || returned ? codec::tuple(ref_, kind, std::move(value))
                                    : codec::tuple(ref_, kind, std::move(value), std::move(stack));
        break;
      case Form::cast:
      case Form::plain:
        if (returned) {
          reason = "normal"_a;
        } else {
          reason = exited ? std::move(value) : codec::tuple(std::move(value), std::move(stack));
          if (form_ == Form::cast) reason = codec::tuple("exception"_a, std::move(reason));
          spdlog::warn("{}: apply({}, {}, {}) failed: {}", codec::to_string(Term(self())),
                       codec::to_string(m_), codec::to_string(f_), codec::to_string(args_),
                       codec::to_string(reason));
        }
        break;
    }
    node().exit_process(self(), reason);
  }

  Form form_;
  Term ref_;
  Term m_;
  Term f_;
  Term args_;
  codec::Reference mref_;
};

}  // namespace

void serve_rpc_spawns(cnode::Node& node) {
  using Form = SpawnedApply::Form;
  node.on_spawn_request(
      [&node](const cnode::Node::SpawnRequest& r) -> std::shared_ptr<cnode::Process> {
        const auto& a = r.args;
        if (r.module == "erpc"_a && r.function == "execute_call"_a && a.size() == 4) {
          return std::make_shared<SpawnedApply>(node, Form::call, a[0], a[1], a[2], a[3]);
        }
        if (r.module == "erpc"_a && r.function == "execute_cast"_a && a.size() == 3) {
          return std::make_shared<SpawnedApply>(node, Form::cast, Term(), a[0], a[1], a[2]);
        }
        return std::make_shared<SpawnedApply>(node, Form::plain, Term(), r.module, r.function,
                                              codec::list_of(r.args));
      });
}

}  // namespace cppnode::servers
