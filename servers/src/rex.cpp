// SPDX-License-Identifier: Apache-2.0
// rex: the RPC server every Erlang node registers. Answer shapes follow OTP 25's rpc.erl
// (execute_call/3 and handle_info/2), checked against a real node.
#include "cppnode/servers/rex.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

#include "cppnode/cnode/node.hpp"
#include "cppnode/servers/errors.hpp"
#include "exit_reasons.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

RpcResult raised(Term reason, Term stack) {
  return {RpcResult::Kind::raised, std::move(reason), std::move(stack)};
}

class Rex final : public GenServer {
 public:
  explicit Rex(std::shared_ptr<const RpcFunctions> functions) : functions_(std::move(functions)) {}

  [[nodiscard]] Atom module() const override { return "cppnode_rex"_a; }
  /// `:sys.get_state({rex, Node})` lists what can be called.
  [[nodiscard]] Term state_term() const override { return functions_->list(); }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    Term m;
    Term f;
    Term args;
    if (codec::match(request, "call"_a, &m, &f, &args, codec::_) ||
        codec::match(request, "block_call"_a, &m, &f, &args, codec::_)) {
      return reply(functions_->apply(m, f, args).rpc_reply());
    }
    if (codec::match(request, "$cppnode_apply"_a, &m, &f, &args)) {
      const RpcResult r = functions_->apply(m, f, args);
      const Atom kind = r.kind == RpcResult::Kind::returned ? "return"_a
                        : r.kind == RpcResult::Kind::exited ? "exit"_a
                                                            : "error"_a;
      return reply(codec::tuple(kind, r.value, r.stack));
    }
    spdlog::debug("rex: ignoring the call {}", codec::to_string(request));
    return noreply();  // OTP's rex ignores unknown calls: the caller times out
  }

  InfoResult handle_cast(const Term& message) override {
    Term m;
    Term f;
    Term args;
    if (codec::match(message, "cast"_a, &m, &f, &args, codec::_)) {
      const RpcResult r = functions_->apply(m, f, args);
      if (r.kind != RpcResult::Kind::returned) {
        spdlog::warn("rex: the cast apply({}, {}, {}) failed: {}", codec::to_string(m),
                     codec::to_string(f), codec::to_string(args), codec::to_string(r.rpc_reply()));
      }
    }
    return noreply();
  }

  InfoResult handle_info(const Term& message) override {
    codec::Pid from;
    Term request;
    if (!codec::match(message, &from, &request)) return noreply();
    Term m;
    Term f;
    Term args;
    Term name;
    Term msg;
    if (codec::match(request, "call"_a, &m, &f, &args, codec::_)) {
      send(from, codec::tuple("rex"_a, functions_->apply(m, f, args).rpc_reply()));
    } else if (codec::match(request, "sbcast"_a, &name, &msg)) {
      send(from, codec::tuple("rex"_a, node().name(), sbcast(name, std::move(msg))));
    }
    return noreply();
  }

 private:
  // `Name ! Msg` to a locally registered name: this node's name, or why not.
  Term sbcast(const Term& name, Term msg) {
    const auto* atom = name.get_if<Atom>();
    if (atom != nullptr && node().whereis(*atom)) {
      send(*atom, std::move(msg));
      return node().name();
    }
    return codec::tuple("nonexisting_name"_a, name);
  }

  std::shared_ptr<const RpcFunctions> functions_;
};

}  // namespace

Term RpcResult::rpc_reply() const {
  switch (kind) {
    case Kind::returned:
      return value;
    case Kind::exited:
      return codec::tuple("badrpc"_a, codec::tuple("EXIT"_a, value));
    case Kind::raised:
      return codec::tuple("badrpc"_a, codec::tuple("EXIT"_a, codec::tuple(value, stack)));
  }
  return value;
}

void RpcFunctions::register_function(Atom module, Atom function, std::size_t arity, RpcFunction f) {
  auto shared = std::make_shared<const RpcFunction>(std::move(f));
  std::lock_guard lock(mutex_);
  functions_.insert_or_assign(Key{module, function, arity}, std::move(shared));
}

bool RpcFunctions::unregister_function(Atom module, Atom function, std::size_t arity) {
  std::lock_guard lock(mutex_);
  return functions_.erase(Key{module, function, arity}) != 0;
}

Term RpcFunctions::list() const {
  std::vector<Term> out;
  std::lock_guard lock(mutex_);
  out.reserve(functions_.size());
  for (const auto& [key, f] : functions_) {
    const auto& [module, function, arity] = key;
    out.push_back(codec::tuple(module, function, static_cast<std::int64_t>(arity)));
  }
  return codec::list_of(std::move(out));
}

RpcResult RpcFunctions::apply(const Term& module, const Term& function, const Term& args) const {
  const auto* m = module.get_if<Atom>();
  const auto* f = function.get_if<Atom>();
  const auto* l = args.get_if<codec::List>();
  if (m == nullptr || f == nullptr || !args.is_list() || (l != nullptr && !l->proper)) {
    // erlang:apply/3's badarg, naming its arguments.
    return raised(Term("badarg"_a),
                  codec::list(codec::tuple("erlang"_a, "apply"_a,
                                           codec::list(module, function, args), codec::list())));
  }
  std::vector<Term> elements = args.list_elements();
  std::shared_ptr<const RpcFunction> fn;
  {
    std::lock_guard lock(mutex_);
    if (auto it = functions_.find(Key{*m, *f, elements.size()}); it != functions_.end()) {
      fn = it->second;
    }
  }
  if (!fn) {
    return raised(Term("undef"_a), codec::list(codec::tuple(*m, *f, args, codec::list())));
  }
  try {
    return {RpcResult::Kind::returned, (*fn)(elements), {}};
  } catch (const ExitError& e) {
    return {RpcResult::Kind::exited, e.reason(), {}};
  } catch (...) {
    // {Reason, Stack}, the shape a crashed Erlang function leaves.
    Term r = detail::exception_reason(std::current_exception(), *m, *f, std::move(elements));
    auto& parts = r.as<codec::Tuple>().elements;
    return raised(std::move(parts[0]), std::move(parts[1]));
  }
}

std::unique_ptr<GenServer> make_rex(std::shared_ptr<const RpcFunctions> functions) {
  return std::make_unique<Rex>(std::move(functions));
}

}  // namespace cppnode::servers
