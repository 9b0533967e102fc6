// SPDX-License-Identifier: Apache-2.0
#include "server_process.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <stdexcept>
#include <utility>

#include "cppnode/cnode/node.hpp"
#include "cppnode/servers/global_registry.hpp"
#include "cppnode/servers/rpc.hpp"
#include "exit_reasons.hpp"

namespace cppnode::servers::detail {

using namespace codec::literals;

using codec::Atom;
using codec::Term;
using codec::Tuple;

namespace {

// Late replies to calls that timed out are dropped if they come within this many later calls.
constexpr std::size_t stale_refs_kept = 64;

bool is_atom(const Term& t, Atom a) {
  const Atom* x = t.get_if<Atom>();
  return x != nullptr && *x == a;
}

// `{system, From, Request}`: a `sys` request.
bool is_system(const Term& message) {
  const auto* t = message.get_if<Tuple>();
  return t != nullptr && t->elements.size() == 3 && is_atom(t->elements[0], "system"_a);
}

// A connected BEAM node to resolve `{global, Name}` through: one the node's registry knows,
// else any peer that reports itself visible.
std::optional<Atom> some_beam_node(cnode::Node& node) {
  try {
    if (auto known = GlobalRegistry::for_node(node)->beam_node()) return known;
  } catch (const std::logic_error&) {
    // The node is stopping: no registry can start any more.
  }
  for (const auto& n : node.connected_nodes()) {
    if (!n.hidden) return n.node;
  }
  return std::nullopt;
}

}  // namespace

ServerProcess::ServerProcess(cnode::Node& node, std::unique_ptr<GenServer> server,
                             StartOptions options)
    : cnode::Process(node), server_(std::move(server)), options_(std::move(options)) {
  set_trap_exit(true);
  set_mailbox_limit(options_.mailbox_limit);  // before spawn: bounded from the first message
}

std::shared_ptr<ServerProcess> ServerProcess::shared_self() {
  return std::static_pointer_cast<ServerProcess>(shared_from_this());
}

template <class F>
void ServerProcess::post_self(F&& f) {
  boost::asio::post(strand(), [self = shared_self(), f = std::forward<F>(f)]() mutable {
    if (!self->running()) return;
    if (self->suspended_) {
      self->deferred_.emplace_back(std::move(f));
      return;
    }
    f();
  });
}

// ---- Start ----

codec::Result<codec::Pid, Term> ServerProcess::start() {
  // Opens the gate on every way out, so that on_start sees init's outcome.
  struct OpenGate {
    std::atomic<bool>& init_done;
    ~OpenGate() {
      init_done.store(true, std::memory_order_release);
      init_done.notify_all();
    }
  } open_gate{init_done_};
  const codec::Pid pid = node().spawn(shared_from_this());
  server_->process_ = this;
  if (options_.parent) node().link(pid, *options_.parent);
  if (options_.local_name && !node().register_name(*options_.local_name, pid)) {
    const auto holder = node().whereis(*options_.local_name);
    init_exit_ = std::make_unique<Term>("normal"_a);
    return codec::unexpected(
        codec::tuple("already_started"_a, holder ? Term(*holder) : Term("undefined"_a)));
  }
  std::optional<InitResult> result;
  try {
    result = server_->init();
  } catch (...) {
    Term reason = exception_reason(std::current_exception(), server_->module(), "init"_a, {});
    spdlog::error("GenServer {} failed to start: {}", display_name(), codec::to_string(reason));
    init_exit_ = std::make_unique<Term>(reason);
    return codec::unexpected(std::move(reason));
  }
  Outcome& o = result->outcome();
  switch (o.action) {
    case Action::stop:
      init_exit_ = std::make_unique<Term>(o.reason);
      return codec::unexpected(std::move(o.reason));
    case Action::ignore:
      init_exit_ = std::make_unique<Term>("normal"_a);
      return codec::unexpected(Term("ignore"_a));
    default:
      break;
  }
  init_timeout_ = o.timeout;
  if (options_.global_name) {
    if (!options_.registry) options_.registry = GlobalRegistry::for_node(node());
    options_.registry->set(*options_.global_name, pid);
    global_registered_ = true;
  }
  return pid;
}

void ServerProcess::on_start() {
  init_done_.wait(false, std::memory_order_acquire);
  if (init_exit_) {
    exiting_ = true;
    node().exit_process(self(), *init_exit_);
    return;
  }
  running_ = true;
  arm_idle(init_timeout_);
}

void ServerProcess::on_exit(const Term& reason) {
  (void)reason;
  running_ = false;
  exiting_ = true;
  timers_.clear();
  if (idle_timer_) idle_timer_->cancel();
  idle_armed_ = false;
  for (auto& [id, c] : out_calls_) {
    if (c.timer) c.timer->cancel();
  }
  out_calls_.clear();
  out_refs_.clear();
  deferred_.clear();
  if (global_registered_) options_.registry->forget(*options_.global_name, self());
}

// ---- Dispatch ----

bool ServerProcess::exempt_from_limit(const Term& message) const { return is_system(message); }

void ServerProcess::on_signal(cnode::Signal signal) {
  if (!running()) return;
  if (suspended_) {
    // Only system messages are handled while suspended (sys:suspend/1); the rest waits.
    const auto* m = std::get_if<cnode::MessageSignal>(&signal);
    if (m == nullptr || !is_system(m->message)) {
      deferred_.emplace_back([this, s = std::move(signal)]() mutable { handle_signal(s); });
      return;
    }
  }
  handle_signal(signal);
}

void ServerProcess::handle_signal(cnode::Signal& signal) {
  if (auto* m = std::get_if<cnode::MessageSignal>(&signal)) {
    deliver(std::move(m->message));
  } else if (auto* e = std::get_if<cnode::ExitSignal>(&signal)) {
    handle_exit_signal(*e);
  } else if (auto* d = std::get_if<cnode::DownSignal>(&signal)) {
    handle_down(*d);
  }
}

void ServerProcess::deliver(Term message) {
  cancel_idle();
  if (auto* t = message.get_if<Tuple>()) {
    auto& e = t->elements;
    if (e.size() == 3) {
      if (is_atom(e[0], "$gen_call"_a)) {
        handle_gen_call(message, *t);
        return;
      }
      if (is_atom(e[0], "system"_a)) {
        handle_system(*t);
        return;
      }
    } else if (e.size() == 2) {
      if (is_atom(e[0], "$gen_cast"_a)) {
        const Term& msg = e[1];
        run_info("handle_cast"_a, msg, [&] { return server_->handle_cast(msg); });
        return;
      }
      if (e[0].is<codec::Reference>() && take_call_reply(*t)) return;
    }
  }
  run_info("handle_info"_a, message, [&] { return server_->handle_info(message); });
}

void ServerProcess::handle_gen_call(Term& message, Tuple& call) {
  auto* from_tuple = call.elements[1].get_if<Tuple>();
  if (from_tuple == nullptr || from_tuple->elements.size() != 2 ||
      !from_tuple->elements[0].is<codec::Pid>()) {
    // Not {Pid, Tag}: nobody could be answered, so it is just a message.
    run_info("handle_info"_a, message, [&] { return server_->handle_info(message); });
    return;
  }
  From from(node(), self(), from_tuple->elements[0].as<codec::Pid>(),
            std::move(from_tuple->elements[1]));
  const Term& request = call.elements[2];
  std::optional<CallResult> result;
  try {
    result = server_->handle_call(request, from);
  } catch (...) {
    Term reason = exception_reason(std::current_exception(), server_->module(), "handle_call"_a,
                                   {request, from.to_term(), state_or_undefined()});
    stop_with(std::move(reason), &request);
    return;
  }
  apply_call(result->outcome(), from, request);
}

void ServerProcess::apply_call(Outcome& o, From& from, const Term& request) {
  switch (o.action) {
    case Action::reply:
      std::move(from).reply(std::move(o.reply));
      arm_idle(o.timeout);
      return;
    case Action::stop_reply: {
      Term reason = run_terminate(std::move(o.reason));
      from.reply(std::move(o.reply));
      exit_with(reason, &request);
      return;
    }
    case Action::stop:
      stop_with(std::move(o.reason), &request);
      return;
    case Action::no_match:
      stop_with(function_clause_reason(server_->module(), "handle_call"_a,
                                       {request, from.to_term(), state_or_undefined()}),
                &request);
      return;
    default:
      arm_idle(o.timeout);
      return;
  }
}

void ServerProcess::run_info(Atom callback, const Term& message,
                             const std::function<InfoResult()>& invoke) {
  std::optional<InfoResult> result;
  try {
    result = invoke();
  } catch (...) {
    stop_with(exception_reason(std::current_exception(), server_->module(), callback,
                               {message, state_or_undefined()}),
              &message);
    return;
  }
  apply_info(result->outcome(), callback, message);
}

void ServerProcess::apply_info(Outcome& o, Atom callback, const Term& message) {
  switch (o.action) {
    case Action::stop:
      stop_with(std::move(o.reason), &message);
      return;
    case Action::no_match:
      stop_with(
          function_clause_reason(server_->module(), callback, {message, state_or_undefined()}),
          &message);
      return;
    default:
      arm_idle(o.timeout);
      return;
  }
}

void ServerProcess::handle_exit_signal(cnode::ExitSignal& exit) {
  if (!exit.is_link && is_atom(exit.reason, "kill"_a)) {
    die(Term("killed"_a));  // exit(Pid, kill) cannot be trapped
    return;
  }
  const auto* from_pid = exit.from.get_if<codec::Pid>();
  const bool from_parent = options_.parent && from_pid != nullptr && *from_pid == *options_.parent;
  if (from_parent && user_trap_exit_) {
    // gen_server: the parent's exit ends a trapping server through terminate.
    stop_with(exit.reason, nullptr);
    return;
  }
  if (from_pid != nullptr && options_.registry && options_.registry->is_name_server(*from_pid)) {
    return;  // global's bookkeeping link from the registering node, see is_name_server
  }
  if (user_trap_exit_) {
    Term message = codec::tuple("EXIT"_a, exit.from, exit.reason);
    run_info("handle_info"_a, message, [&] { return server_->handle_info(message); });
    return;
  }
  if (is_atom(exit.reason, "normal"_a)) return;  // ignored by a process that does not trap exits
  die(exit.reason);
}

void ServerProcess::handle_down(cnode::DownSignal& down) {
  for (const auto& [ref, id] : out_refs_) {
    if (ref == down.ref) {
      Term reason = down.reason;
      if (is_atom(reason, "noconnection"_a)) {
        // gen:call turns a lost connection into {nodedown, Node}.
        auto it = out_calls_.find(id);
        if (it != out_calls_.end()) reason = codec::tuple("nodedown"_a, it->second.target_node);
      }
      complete_call(id, false, std::move(reason));
      return;
    }
  }
  deliver(codec::tuple("DOWN"_a, down.ref, "process"_a, down.object, down.reason));
}

// ---- Ending ----

Term ServerProcess::state_or_undefined() const {
  try {
    return server_->state_term();
  } catch (...) {
    return Term("undefined"_a);
  }
}

Term ServerProcess::run_terminate(Term reason) {
  try {
    server_->terminate(reason);
  } catch (...) {
    // As in gen_server, a crash in terminate replaces the reason.
    reason = exception_reason(std::current_exception(), server_->module(), "terminate"_a,
                              {reason, state_or_undefined()});
  }
  return reason;
}

void ServerProcess::stop_with(Term reason, const Term* last_message) {
  if (exiting_) return;
  exit_with(run_terminate(std::move(reason)), last_message);
}

void ServerProcess::exit_with(const Term& reason, const Term* last_message) {
  if (exiting_) return;
  if (!is_normal_exit(reason)) {
    spdlog::error("GenServer {} terminating\n** (exit) {}\nLast message: {}\nState: {}",
                  display_name(), codec::to_string(reason),
                  last_message != nullptr ? codec::to_string(*last_message) : std::string("none"),
                  codec::to_string(state_or_undefined()));
  }
  die(reason);
}

void ServerProcess::die(const Term& reason) {
  if (exiting_) return;
  exiting_ = true;
  cancel_idle();
  node().exit_process(self(), reason);
}

// ---- Timeouts and timers ----

void ServerProcess::arm_idle(const Timeout& timeout) {
  last_timeout_ = timeout;
  if (!timeout || exiting_) return;
  if (!idle_timer_) idle_timer_ = std::make_unique<boost::asio::steady_timer>(strand());
  idle_armed_ = true;
  const std::uint64_t generation = ++idle_generation_;
  idle_timer_->expires_after(*timeout);
  idle_timer_->async_wait([self = shared_self(), generation](const boost::system::error_code& ec) {
    if (ec || !self->running() || !self->idle_armed_ || self->idle_generation_ != generation) {
      return;
    }
    self->idle_armed_ = false;
    if (self->suspended_) {
      self->deferred_.emplace_back([self] { self->deliver(Term("timeout"_a)); });
      return;
    }
    self->deliver(Term("timeout"_a));
  });
}

TimerRef ServerProcess::send_after(std::chrono::milliseconds delay, Term message) {
  const std::uint64_t id = ++next_timer_;
  auto timer = std::make_unique<Timer>(strand());
  timer->message = std::move(message);
  timer->timer.expires_after(delay);
  timer->timer.async_wait([self = shared_self(), id](const boost::system::error_code& ec) {
    if (!ec) self->fire_timer(id);
  });
  timers_.emplace(id, std::move(timer));
  return TimerRef{id};
}

bool ServerProcess::cancel_timer(TimerRef timer) {
  auto it = timers_.find(timer.id);
  if (it == timers_.end()) return false;
  it->second->timer.cancel();
  timers_.erase(it);
  return true;
}

void ServerProcess::fire_timer(std::uint64_t id) {
  auto it = timers_.find(id);
  if (it == timers_.end() || !running()) return;
  Term message = std::move(it->second->message);
  timers_.erase(it);
  if (suspended_) {
    deferred_.emplace_back([this, m = std::move(message)]() mutable { deliver(std::move(m)); });
    return;
  }
  deliver(std::move(message));
}

// ---- Sending and calling out ----

void ServerProcess::send(const Dest& dest, Term message) {
  switch (dest.kind()) {
    case Dest::Kind::pid:
      node().send(self(), dest.pid(), std::move(message));
      return;
    case Dest::Kind::name:
      node().send(self(), dest.name(), dest.node().value_or(node().name()), std::move(message));
      return;
    case Dest::Kind::global: {
      const auto through = some_beam_node(node());
      if (!through) {
        spdlog::warn("GenServer {}: no BEAM node connected to resolve {}, message dropped",
                     display_name(), codec::to_string(dest.to_term()));
        return;
      }
      cnode::Node& n = node();
      const codec::Pid me = self();
      rpc(n, *through, "global"_a, "whereis_name"_a, codec::list(dest.global_name()),
          std::chrono::milliseconds(5'000),
          [&n, me, message = std::move(message)](RpcOutcome r) mutable {
            if (const auto* pid = r.value.get_if<codec::Pid>(); r.ok && pid != nullptr) {
              n.send(me, *pid, std::move(message));
            }
          });
      return;
    }
  }
}

void ServerProcess::call(const Dest& dest, Term request, std::chrono::milliseconds timeout,
                         CallContinuation k) {
  const std::uint64_t id = ++next_call_;
  OutCall& c = out_calls_[id];
  c.k = std::move(k);
  c.timer = std::make_unique<boost::asio::steady_timer>(strand());
  c.timer->expires_after(timeout);
  c.timer->async_wait([self = shared_self(), id](const boost::system::error_code& ec) {
    if (ec || !self->running()) return;
    if (self->suspended_) {
      self->deferred_.emplace_back(
          [self, id] { self->complete_call(id, false, Term("timeout"_a)); });
      return;
    }
    self->complete_call(id, false, Term("timeout"_a));
  });

  switch (dest.kind()) {
    case Dest::Kind::pid:
      c.target_node = dest.pid().node;
      if (dest.pid() == self()) {
        post_self([this, id] { complete_call(id, false, Term("calling_self"_a)); });
        return;
      }
      start_out_call(id, dest.pid(), dest.pid().node, std::move(request));
      return;
    case Dest::Kind::name: {
      const Atom target_node = dest.node().value_or(node().name());
      c.target_node = target_node;
      if (target_node == node().name()) {
        const auto pid = node().whereis(dest.name());
        if (pid && *pid == self()) {
          post_self([this, id] { complete_call(id, false, Term("calling_self"_a)); });
          return;
        }
      }
      start_out_call(id, dest.name(), target_node, std::move(request));
      return;
    }
    case Dest::Kind::global: {
      const auto through = some_beam_node(node());
      if (!through) {
        post_self([this, id] { complete_call(id, false, Term("noproc"_a)); });
        return;
      }
      c.target_node = *through;
      rpc(node(), *through, "global"_a, "whereis_name"_a, codec::list(dest.global_name()), timeout,
          [self = shared_self(), id, request = std::move(request)](RpcOutcome r) mutable {
            self->post_self([self, id, r = std::move(r), request = std::move(request)]() mutable {
              if (self->out_calls_.find(id) == self->out_calls_.end()) return;  // timed out
              const auto* pid = r.value.get_if<codec::Pid>();
              if (!r.ok || pid == nullptr) {
                self->complete_call(id, false, r.ok ? Term("noproc"_a) : std::move(r.value));
                return;
              }
              if (*pid == self->self()) {
                self->complete_call(id, false, Term("calling_self"_a));
                return;
              }
              self->out_calls_[id].target_node = pid->node;
              self->start_out_call(id, *pid, pid->node, std::move(request));
            });
          });
      return;
    }
  }
}

void ServerProcess::start_out_call(std::uint64_t id, const Term& target, Atom target_node,
                                   Term request) {
  codec::Reference mref = node().monitor(self(), target, target_node);
  out_calls_[id].mref = mref;
  out_refs_.emplace_back(mref, id);
  Term message = codec::tuple("$gen_call"_a, codec::tuple(self(), mref), std::move(request));
  if (const auto* pid = target.get_if<codec::Pid>()) {
    node().send(self(), *pid, std::move(message));
  } else {
    node().send(self(), target.as<Atom>(), target_node, std::move(message));
  }
}

bool ServerProcess::take_call_reply(Tuple& message) {
  const auto& ref = message.elements[0].as<codec::Reference>();
  for (const auto& [mref, id] : out_refs_) {
    if (mref == ref) {
      complete_call(id, true, std::move(message.elements[1]));  // erases the entry: stop here
      return true;
    }
  }
  // A reply that came after its call timed out is dropped.
  return std::any_of(stale_refs_.begin(), stale_refs_.end(),
                     [&](const codec::Reference& stale) { return stale == ref; });
}

void ServerProcess::complete_call(std::uint64_t id, bool ok, Term value) {
  auto it = out_calls_.find(id);
  if (it == out_calls_.end()) return;
  OutCall c = std::move(it->second);
  out_calls_.erase(it);
  if (c.timer) c.timer->cancel();
  if (c.mref) {
    for (auto r = out_refs_.begin(); r != out_refs_.end(); ++r) {
      if (r->second == id) {
        out_refs_.erase(r);
        break;
      }
    }
    if (ok || is_atom(value, "timeout"_a)) node().demonitor(self(), *c.mref);
    if (!ok && is_atom(value, "timeout"_a)) {
      stale_refs_.push_back(*c.mref);
      if (stale_refs_.size() > stale_refs_kept) stale_refs_.erase(stale_refs_.begin());
    }
  }
  cancel_idle();
  CallOutcome outcome{ok, std::move(value)};
  const Term shown = codec::tuple(outcome.ok, outcome.value);
  run_info("handle_call_reply"_a, shown, [&] { return c.k(std::move(outcome)); });
}

// ---- System messages (sys) ----

std::string ServerProcess::display_name() const {
  if (options_.local_name) return std::string(options_.local_name->name());
  return codec::to_string(self());
}

Term ServerProcess::status_term() const {
  const Atom module = server_->module();
  const Term parent = options_.parent ? Term(*options_.parent) : Term(self());
  const Atom sys_state(suspended_ ? "suspended" : "running");
  std::vector<Term> pdict;
  pdict.push_back(codec::tuple("$initial_call"_a, codec::tuple(module, "init"_a, 1)));
  if (options_.parent) pdict.push_back(codec::tuple("$ancestors"_a, codec::list(parent)));
  // The mailbox figures go with the process's own (status, parent), keeping gen_server's three
  // entries (header, process data, state) in place for code that matches on them.
  const auto limit = mailbox_limit();
  const Term shown_limit =
      limit ? codec::tuple(static_cast<std::uint64_t>(limit->max_queued),
                           Atom(limit->policy == cnode::OverflowPolicy::drop ? "drop" : "exit"))
            : Term("infinity"_a);
  Term misc = codec::list(
      codec::tuple("header"_a, codec::charlist("Status for generic server " + display_name())),
      codec::tuple("data"_a,
                   codec::list(codec::tuple(codec::charlist("Status"), sys_state),
                               codec::tuple(codec::charlist("Parent"), parent),
                               codec::tuple(codec::charlist("Logged events"), codec::list()),
                               codec::tuple(codec::charlist("Message queue length"),
                                            static_cast<std::uint64_t>(queued())),
                               codec::tuple(codec::charlist("Mailbox limit"), shown_limit),
                               codec::tuple(codec::charlist("Dropped messages"), dropped()))),
      codec::tuple("data"_a,
                   codec::list(codec::tuple(codec::charlist("State"), state_or_undefined()))));
  return codec::tuple("status"_a, self(), codec::tuple("module"_a, "gen_server"_a),
                      codec::list(codec::list_of(std::move(pdict)), sys_state, parent,
                                  codec::list(), std::move(misc)));
}

bool ServerProcess::expects_ok_state(const Term& tag) {
  // sys:get_state/1,2 of OTP 26.1 and later match the answer against {ok, State} (erlang/otp
  // #4029); OTP 25's take it bare, so each caller must get its own form. The request is the
  // same ({system, From, get_state}, checked on 25, 27 and 29); what tells them apart is the
  // tag gen:call makes, [alias | Ref]: since OTP 26 a monitor alias is a 5-word "pid reference",
  // before that a 3-word one. OTP 26.0 (5 words, bare state) is out of support and not told apart.
  const auto* l = tag.get_if<codec::List>();
  if (l == nullptr || l->proper || l->elements.size() != 2) return false;
  const auto* ref = l->elements[1].get_if<codec::Reference>();
  return ref != nullptr && ref->length > 3;
}

void ServerProcess::handle_system(Tuple& message) {
  auto* from_tuple = message.elements[1].get_if<Tuple>();
  if (from_tuple == nullptr || from_tuple->elements.size() != 2 ||
      !from_tuple->elements[0].is<codec::Pid>()) {
    Term m(std::move(message));
    run_info("handle_info"_a, m, [&] { return server_->handle_info(m); });
    return;
  }
  From from(node(), self(), from_tuple->elements[0].as<codec::Pid>(), from_tuple->elements[1]);
  const Term& request = message.elements[2];
  const Atom module = server_->module();
  auto unknown = [&] {
    return codec::tuple("error"_a, codec::tuple("unknown_system_msg"_a, request));
  };
  if (const auto* op = request.get_if<Atom>()) {
    if (op->name() == "get_state") {
      try {
        Term state = server_->state_term();
        from.reply(expects_ok_state(from_tuple->elements[1])
                       ? codec::tuple("ok"_a, std::move(state))
                       : std::move(state));
      } catch (const std::exception& e) {
        from.reply(codec::tuple(
            "error"_a, codec::tuple("callback_failed"_a, codec::tuple(module, "system_get_state"_a),
                                    codec::tuple("error"_a, codec::binary(e.what())))));
      }
    } else if (op->name() == "get_status") {
      from.reply(status_term());
    } else if (op->name() == "suspend") {
      suspended_ = true;
      from.reply("ok"_a);
    } else if (op->name() == "resume") {
      suspended_ = false;
      from.reply("ok"_a);
      // In arrival order; nothing else runs meanwhile (this is the strand).
      for (auto& work : std::exchange(deferred_, {})) {
        if (!running()) break;
        work();
      }
    } else {
      from.reply(unknown());
    }
    arm_idle(last_timeout_);  // as gen_server, the timeout starts over after a system message
    return;
  }
  Term op_reason;
  if (codec::match(request, "terminate"_a, &op_reason)) {
    // sys:terminate/2: the server ends through terminate, then the caller gets ok.
    Term reason = run_terminate(std::move(op_reason));
    from.reply("ok"_a);
    exit_with(reason, &request);
    return;
  }
  if (codec::match(request, "replace_state"_a, codec::_)) {
    from.reply(codec::tuple(
        "error"_a,
        codec::tuple("callback_failed"_a, codec::tuple(module, "system_replace_state"_a),
                     codec::tuple("error"_a, codec::binary("a C++ server cannot apply an Erlang "
                                                           "fun to its state")))));
  } else if (codec::match(request, "debug"_a, "no_debug"_a)) {
    from.reply("ok"_a);
  } else {
    from.reply(unknown());
  }
  arm_idle(last_timeout_);
}

}  // namespace cppnode::servers::detail
