// SPDX-License-Identifier: Apache-2.0
#include "cppnode/servers/operations.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "cppnode/cnode/node.hpp"

namespace cppnode::servers {

using namespace codec::literals;

using codec::Atom;
using codec::Term;

namespace {

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
    m.entries.emplace_back("pid"_a, procs[i].pid);
    if (procs[i].name) m.entries.emplace_back("name"_a, *procs[i].name);
    m.entries.emplace_back("queued"_a, count(procs[i].queued));
    out.emplace_back(std::move(m));
  }
  return codec::list_of(std::move(out));
}

class StatsServer final : public GenServer {
 public:
  [[nodiscard]] Atom module() const override { return "cppnode_stats"_a; }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    if (request == Term("stats"_a)) return reply(node_stats(node()));
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
      {"node"_a, node.name()},
      {"connections"_a, count(connections)},
      {"connected_nodes"_a, codec::list_of(std::move(nodes))},
      {"connections_total"_a, count(totals.connections)},
      {"processes"_a, count(totals.processes)},
      {"messages_in"_a, count(totals.messages_in)},
      {"messages_out"_a, count(totals.messages_out)},
      {"messages_refused"_a, count(totals.messages_refused)},
      {"atoms"_a, count(codec::atom_count())},
      {"mailboxes"_a, mailboxes(node, top)},
  });
}

std::unique_ptr<GenServer> make_stats_server() { return std::make_unique<StatsServer>(); }

codec::Result<std::shared_ptr<Supervisor>, Term> start_operations(
    cnode::Node& node, const std::shared_ptr<const RpcFunctions>& functions,
    std::function<void(const Term& reason)> on_give_up) {
  std::vector<ChildSpec> children;
  children.push_back(ChildSpec{"rex"_a, [functions] { return make_rex(functions); },
                               Restart::permanent, "rex"_a, std::nullopt});
  children.push_back(
      ChildSpec{"cppnode"_a, make_stats_server, Restart::permanent, "cppnode"_a, std::nullopt});
  serve_rpc_spawns(node);
  SupervisorOptions options;
  options.local_name = "cppnode_ops_sup"_a;
  options.on_give_up = std::move(on_give_up);
  return Supervisor::start(node, std::move(children), std::move(options));
}

void register_node_functions(const std::shared_ptr<RpcFunctions>& functions, cnode::Node& node,
                             const std::string& version) {
  functions->register_function("cppnode"_a, "stats"_a, 0,
                               [&node](const std::vector<Term>&) { return node_stats(node); });
  functions->register_function(
      "cppnode"_a, "version"_a, 0,
      [v = codec::binary(version)](const std::vector<Term>&) { return v; });
  // A weak reference: the table holds this function, which must not keep the table alive.
  functions->register_function(
      "cppnode"_a, "functions"_a, 0,
      [weak = std::weak_ptr<RpcFunctions>(functions)](const std::vector<Term>&) -> Term {
        auto table = weak.lock();
        return table ? table->list() : codec::list();
      });
}

}  // namespace cppnode::servers
