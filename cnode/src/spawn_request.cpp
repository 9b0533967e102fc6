// SPDX-License-Identifier: Apache-2.0
// SPAWN_REQUEST (DFLAG_SPAWN, ERTS "Distribution Protocol"): the spawn handler makes the
// process; the node sets up the requested link and monitor, then replies, then starts it.
#include <spdlog/spdlog.h>

#include <exception>
#include <optional>
#include <stdexcept>

#include "node_impl.hpp"

namespace cppnode::cnode {
namespace {

using codec::Atom;
using codec::Term;

struct SpawnOptions {
  bool link = false;
  bool monitor = false;
};

// `link`, `monitor` and `{monitor, MonitorOpts}` are acted on. Other `{Key, Value}` options
// tune a BEAM process (priority, heap sizes, ...) and have no meaning here; anything else is
// `badopt`, as a BEAM node answers.
std::optional<SpawnOptions> read_options(const Term& options) {
  const auto* list = options.get_if<codec::List>();
  if (options.is<codec::String>() || (list != nullptr && !list->proper)) {
    return std::nullopt;
  }
  SpawnOptions out;
  for (const Term& o : options.list_elements()) {
    const auto* tuple = o.get_if<codec::Tuple>();
    if (o.is_atom("link")) {
      out.link = true;
    } else if (o.is_atom("monitor") || (tuple != nullptr && tuple->elements.size() == 2 &&
                                        tuple->elements[0].is_atom("monitor"))) {
      out.monitor = true;
    } else if (tuple == nullptr || tuple->elements.size() != 2 || !tuple->elements[0].is<Atom>()) {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

void NodeImpl::handle_spawn_request(const std::shared_ptr<Peer>& peer,
                                    const detail::incoming::SpawnRequest& request,
                                    const codec::Term& args) {
  const auto& mfa = request.mfa.as<codec::Tuple>().elements;
  auto refuse = [&](const char* reason) {
    spdlog::debug("refusing a spawn request from {} for {}: {}", peer->name().name(),
                  codec::to_string(request.mfa), reason);
    peer->send(OutSpawnReply{request.req_id, request.parent, 0, Term(Atom(reason))});
  };
  const auto* arg_list = args.get_if<codec::List>();
  const auto options = read_options(request.options);
  if (!options || !args.is_list() || (arg_list != nullptr && !arg_list->proper)) {
    refuse("badopt");
    return;
  }
  Node::SpawnHandler handler;
  {
    std::lock_guard lock(spawn_mutex);
    handler = spawn_handler;
  }
  std::shared_ptr<Process> process;
  if (handler) {
    try {
      process = handler(Node::SpawnRequest{request.parent, mfa[0].as<Atom>(), mfa[1].as<Atom>(),
                                           args.list_elements()});
    } catch (const std::exception& e) {
      spdlog::error("the spawn handler threw for {}: {}", codec::to_string(request.mfa), e.what());
    }
  }
  if (!process) {
    refuse("notsup");
    return;
  }
  const std::int64_t flags = (options->link ? 1 : 0) | (options->monitor ? 2 : 0);
  try {
    spawn(process, [&](const SlotPtr& s) {
      const codec::Pid self = s->process->self();
      // Counted before the reply leaves, so a nodedown scan from now on sees them.
      if (options->link) {
        signals_of(*s).links.emplace(request.parent, LinkInfo{request.parent, true, 0, peer});
        s->remote_entries.fetch_add(1, std::memory_order_seq_cst);
      }
      if (options->monitor) {
        signals_of(*s).watchers.emplace(request.req_id,
                                        Watcher{request.req_id, request.parent, Term(self), peer});
        s->remote_entries.fetch_add(1, std::memory_order_seq_cst);
      }
      // Before on_start is posted: nothing the process sends can overtake the reply.
      peer->send(OutSpawnReply{request.req_id, request.parent, flags, Term(self)});
    });
  } catch (const std::logic_error&) {
    refuse("notsup");  // the node is stopping
  }
}

}  // namespace cppnode::cnode
