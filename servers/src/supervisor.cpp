// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/supervisor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <stdexcept>
#include <utility>

#include "cppnode/cnode/node.hpp"
#include "cppnode/servers/from.hpp"
#include "cppnode/servers/global_registry.hpp"
#include "cppnode/servers/start.hpp"
#include "exit_reasons.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

Supervisor::Supervisor(cnode::Node& node, std::vector<ChildSpec> children,
                       SupervisorOptions options)
    : cnode::Process(node), options_(std::move(options)) {
  set_trap_exit(true);
  for (auto& spec : children) children_.push_back(Child{std::move(spec), Atom(), std::nullopt});
}

codec::Result<std::shared_ptr<Supervisor>, Term> Supervisor::start(cnode::Node& node,
                                                                   std::vector<ChildSpec> children,
                                                                   SupervisorOptions options) {
  const bool needs_registry = std::any_of(children.begin(), children.end(), [](const ChildSpec& c) {
    return c.global_name.has_value();
  });
  if (needs_registry && !options.registry) options.registry = GlobalRegistry::for_node(node);
  auto sup = std::make_shared<Supervisor>(node, std::move(children), std::move(options));
  std::unique_lock gate(sup->gate_);
  const codec::Pid pid = node.spawn(sup);
  if (sup->options_.local_name && !node.register_name(*sup->options_.local_name, pid)) {
    const auto holder = node.whereis(*sup->options_.local_name);
    sup->start_failure_ = Term("normal"_a);
    return codec::unexpected(
        codec::tuple("already_started"_a, holder ? Term(*holder) : Term("undefined"_a)));
  }
  for (auto& child : sup->children_) {
    Term error = sup->start_child(child);
    if (!error.is_nil()) {
      sup->shut_down_children();
      sup->start_failure_ =
          codec::tuple("shutdown"_a, codec::tuple("failed_to_start_child"_a, child.spec.id, error));
      return codec::unexpected(*sup->start_failure_);
    }
  }
  sup->publish();
  return sup;
}

void Supervisor::on_start() {
  std::lock_guard gate(gate_);
  if (start_failure_) node().exit_process(self(), *start_failure_);
}

Term Supervisor::start_child(Child& child) {
  std::unique_ptr<GenServer> server;
  try {
    server = child.spec.make();
  } catch (const std::exception& e) {
    return codec::tuple("cpp_exception"_a, codec::binary(e.what()));
  }
  if (!server) return Term("no_server"_a);
  child.module = server->module();
  StartOptions options{child.spec.local_name, child.spec.global_name, options_.registry, self(),
                       child.spec.mailbox_limit};
  try {
    auto started = servers::start(node(), std::move(server), std::move(options));
    if (started) {
      child.pid = *started;
      return Term();
    }
    if (started.error().is_atom("ignore")) return Term();  // as OTP: not running, not an error
    return std::move(started).error();
  } catch (const std::invalid_argument& e) {
    return codec::tuple("cpp_exception"_a, codec::binary(e.what()));
  } catch (const std::logic_error&) {
    // Node::spawn refuses once the node is stopping: every process is ending anyway.
    node_stopping_ = true;
    return Term("node_stopping"_a);
  }
}

std::optional<codec::Pid> Supervisor::child_pid(Atom id) const {
  std::lock_guard lock(pids_mutex_);
  for (const auto& [child, pid] : pids_) {
    if (child == id) return pid;
  }
  return std::nullopt;
}

std::uint64_t Supervisor::restarts() const {
  std::lock_guard lock(pids_mutex_);
  return restarts_;
}

void Supervisor::publish() {
  std::lock_guard lock(pids_mutex_);
  pids_.clear();
  for (const auto& c : children_) pids_.emplace_back(c.spec.id, c.pid);
}

void Supervisor::on_signal(cnode::Signal signal) {
  if (gave_up_) return;
  if (auto* e = std::get_if<cnode::ExitSignal>(&signal)) {
    if (const auto* pid = e->from.get_if<codec::Pid>()) child_exited(*pid, e->reason);
  } else if (auto* m = std::get_if<cnode::MessageSignal>(&signal)) {
    auto* t = m->message.get_if<codec::Tuple>();
    if (t != nullptr && t->elements.size() == 3 && t->elements[0].is_atom("$gen_call")) {
      handle_call(*t);
    } else {
      spdlog::error("Supervisor received unexpected message: {}", codec::to_string(m->message));
    }
  }
}

void Supervisor::child_exited(const codec::Pid& pid, const Term& reason) {
  auto it = std::find_if(children_.begin(), children_.end(),
                         [&](const Child& c) { return c.pid && *c.pid == pid; });
  if (it == children_.end()) return;  // not (or no longer) one of ours
  it->pid.reset();
  const Atom id = it->spec.id;
  const bool normal = detail::is_normal_exit(reason);
  if (!normal) {
    spdlog::error("Child {} of Supervisor {} terminated\n** (exit) {}", id.name(),
                  codec::to_string(self()), codec::to_string(reason));
  }
  bool again = false;
  switch (it->spec.restart) {
    case Restart::permanent:
      again = true;
      break;
    case Restart::transient:
      again = !normal;
      break;
    case Restart::temporary:
      children_.erase(it);
      break;
  }
  publish();
  if (again) restart(id);
}

void Supervisor::restart(Atom id) {
  if (gave_up_ || node_stopping_) return;
  auto it = std::find_if(children_.begin(), children_.end(),
                         [&](const Child& c) { return c.spec.id == id; });
  if (it == children_.end() || it->pid) return;
  {
    std::lock_guard lock(pids_mutex_);
    ++restarts_;
  }
  if (intensity_exceeded()) {
    give_up();
    return;
  }
  Term error = start_child(*it);
  publish();
  if (error.is_nil() || node_stopping_) return;
  spdlog::error("Supervisor {} could not restart child {}: {}; trying again",
                codec::to_string(self()), id.name(), codec::to_string(error));
  // As OTP's try_again_restart: go through the mailbox, so other signals come first.
  boost::asio::post(strand(),
                    [self = std::static_pointer_cast<Supervisor>(shared_from_this()), id] {
                      if (self->alive()) self->restart(id);
                    });
}

bool Supervisor::intensity_exceeded() {
  const auto now = std::chrono::steady_clock::now();
  restart_times_.push_back(now);
  std::erase_if(restart_times_, [&](auto t) { return now - t > options_.period; });
  return restart_times_.size() > static_cast<std::size_t>(std::max(options_.max_restarts, 0));
}

void Supervisor::give_up() {
  gave_up_ = true;
  spdlog::error(
      "Supervisor {} reached its maximum restart intensity ({} restarts in {} ms); shutting "
      "down",
      codec::to_string(self()), options_.max_restarts, options_.period.count());
  shut_down_children();
  publish();
  const Term reason("reached_max_restart_intensity"_a);
  if (options_.on_give_up) {
    try {
      options_.on_give_up(reason);
    } catch (const std::exception& e) {
      spdlog::error("Supervisor on_give_up threw: {}", e.what());
    }
  }
  node().exit_process(self(), Term("shutdown"_a));
}

void Supervisor::shut_down_children() {
  // Last started, first stopped.
  std::for_each(children_.rbegin(), children_.rend(), [this](Child& child) {
    if (child.pid) {
      node().exit_signal(self(), *child.pid, Term("shutdown"_a));
      child.pid.reset();
    }
  });
}

void Supervisor::handle_call(codec::Tuple& message) {
  auto* from_tuple = message.elements[1].get_if<codec::Tuple>();
  if (from_tuple == nullptr || from_tuple->elements.size() != 2 ||
      !from_tuple->elements[0].is<codec::Pid>()) {
    return;
  }
  From from(node(), self(), from_tuple->elements[0].as<codec::Pid>(), from_tuple->elements[1]);
  const Term& request = message.elements[2];
  if (request.is_atom("which_children")) {
    std::vector<Term> out;
    for (const auto& c : children_) {
      out.push_back(codec::tuple(c.spec.id, c.pid ? Term(*c.pid) : Term("undefined"_a), "worker"_a,
                                 codec::list(c.module)));
    }
    from.reply(codec::list_of(std::move(out)));
  } else if (request.is_atom("count_children")) {
    const auto n = static_cast<std::int64_t>(children_.size());
    const auto active = static_cast<std::int64_t>(
        std::count_if(children_.begin(), children_.end(), [](const Child& c) { return c.pid; }));
    from.reply(codec::list(codec::tuple("specs"_a, n), codec::tuple("active"_a, active),
                           codec::tuple("supervisors"_a, std::int64_t{0}),
                           codec::tuple("workers"_a, n)));
  } else {
    from.reply(codec::tuple("error"_a, codec::tuple("unknown_call"_a, request)));
  }
}

}  // namespace cppnode::servers
