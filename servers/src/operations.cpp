// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/operations.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "cppnode/cnode/node.hpp"

namespace cppnode::servers {

using codec::Atom;
using codec::Term;

namespace {

const Atom cppnode_atom("cppnode");
const Atom stats_atom("stats");

Term count(std::uint64_t n) { return Term(n); }

Term mailboxes(const cnode::Node& node, std::size_t top) {
  auto procs = node.processes();
  std::erase_if(procs, [](const cnode::Node::ProcessInfo& p) { return p.queued == 0; });
  const auto deepest = [](const auto& a, const auto& b) { return a.queued > b.queued; };
  const std::size_t n = std::min(top, procs.size());
  std::partial_sort(procs.begin(), procs.begin() + static_cast<std::ptrdiff_t>(n), procs.end(),
                    deepest);
  std::vector<Term> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    codec::Map m;
    m.entries.emplace_back(Atom("pid"), procs[i].pid);
    if (procs[i].name) m.entries.emplace_back(Atom("name"), *procs[i].name);
    m.entries.emplace_back(Atom("queued"), count(procs[i].queued));
    out.emplace_back(std::move(m));
  }
  return codec::list_of(std::move(out));
}

class StatsServer final : public GenServer {
 public:
  [[nodiscard]] Atom module() const override { return Atom("cppnode_stats"); }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    if (request == Term(stats_atom)) return reply(node_stats(node()));
    return no_match();
  }
};

}  // namespace

Term node_stats(const cnode::Node& node, std::size_t top) {
  const auto totals = node.stats();
  std::vector<Term> nodes;
  for (const auto& event : node.connected_nodes()) nodes.emplace_back(event.node);
  std::sort(nodes.begin(), nodes.end());
  const std::size_t connections = nodes.size();
  return codec::map({
      {Atom("node"), node.name()},
      {Atom("connections"), count(connections)},
      {Atom("connected_nodes"), codec::list_of(std::move(nodes))},
      {Atom("connections_total"), count(totals.connections)},
      {Atom("processes"), count(totals.processes)},
      {Atom("messages_in"), count(totals.messages_in)},
      {Atom("messages_out"), count(totals.messages_out)},
      {Atom("messages_refused"), count(totals.messages_refused)},
      {Atom("atoms"), count(codec::atom_count())},
      {Atom("mailboxes"), mailboxes(node, top)},
  });
}

std::unique_ptr<GenServer> make_stats_server() { return std::make_unique<StatsServer>(); }

Supervisor::StartResult start_operations(cnode::Node& node,
                                         const std::shared_ptr<const RpcFunctions>& functions,
                                         std::function<void(const Term& reason)> on_give_up) {
  const Atom rex("rex");
  std::vector<ChildSpec> children;
  children.push_back(ChildSpec{rex, [functions] { return make_rex(functions); }, Restart::permanent,
                               rex, std::nullopt});
  children.push_back(
      ChildSpec{cppnode_atom, make_stats_server, Restart::permanent, cppnode_atom, std::nullopt});
  serve_rpc_spawns(node);
  SupervisorOptions options;
  options.local_name = Atom("cppnode_ops_sup");
  options.on_give_up = std::move(on_give_up);
  return Supervisor::start(node, std::move(children), std::move(options));
}

void register_node_functions(const std::shared_ptr<RpcFunctions>& functions, cnode::Node& node,
                             const std::string& version) {
  functions->register_function(cppnode_atom, stats_atom, 0,
                               [&node](const std::vector<Term>&) { return node_stats(node); });
  functions->register_function(
      cppnode_atom, Atom("version"), 0,
      [v = codec::binary(version)](const std::vector<Term>&) { return v; });
  // A weak reference: the table holds this function, which must not keep the table alive.
  functions->register_function(
      cppnode_atom, Atom("functions"), 0,
      [weak = std::weak_ptr<RpcFunctions>(functions)](const std::vector<Term>&) -> Term {
        auto table = weak.lock();
        return table ? table->list() : codec::list();
      });
}

}  // namespace cppnode::servers
