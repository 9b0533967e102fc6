// SPDX-License-Identifier: Apache-2.0
// A node hosting one C++ GenServer of its own, the leaderboard, as `{:global, :leaderboard}` and
// `{:leaderboard, node}`. Usage: leaderboard_node [--sname NAME[@HOST] | --name NAME@HOST]
// [--cookie C] [--connect NODE]...  (no --cookie: ~/.erlang.cookie, as erl; ERL_EPMD_PORT is
// honoured; see cppnode/cnode/startup.hpp).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cppnode/cnode/startup.hpp"
#include "cppnode/servers/servers.hpp"

using namespace cppnode::codec;
using cppnode::servers::CallResult;
using cppnode::servers::From;
using cppnode::servers::GenServer;
using cppnode::servers::InfoResult;

// {submit, Player, Score} → ok, keeping each player's best score; {top, N} → the N best as
// [{Player, Score}], highest score first, ties in player order; cast reset empties the board.
class Leaderboard final : public GenServer {
 public:
  [[nodiscard]] Term state_term() const override { return top(best_.size()); }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    Term player;
    std::int64_t score = 0;
    if (match(request, "submit"_a, &player, &score)) {
      auto [it, added] = best_.try_emplace(std::move(player), score);
      if (!added) it->second = std::max(it->second, score);
      return reply("ok"_a);
    }
    std::int64_t n = 0;
    if (match(request, "top"_a, &n) && n >= 0) return reply(top(static_cast<std::size_t>(n)));
    return no_match();  // exits {function_clause, ...} naming the request, as Elixir would
  }

  InfoResult handle_cast(const Term& message) override {
    if (!message.is_atom("reset")) return no_match();
    best_.clear();
    return noreply();
  }

 private:
  [[nodiscard]] Term top(std::size_t n) const {
    std::vector<std::pair<Term, std::int64_t>> rows(best_.begin(), best_.end());
    std::ranges::stable_sort(rows, std::greater{}, [](const auto& row) { return row.second; });
    rows.resize(std::min(n, rows.size()));
    std::vector<Term> out;
    out.reserve(rows.size());
    for (const auto& [player, score] : rows) out.push_back(tuple(player, score));
    return list_of(std::move(out));
  }

  std::map<Term, std::int64_t> best_;  // ordered by Erlang term order, so ties keep player order
};

namespace {

int fail(const std::string& why) {
  std::fprintf(stderr, "leaderboard_node: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto config = cppnode::cnode::config_from_command_line(argc, argv, "leaderboard");
  if (!config) return fail(config.error().message);
  cppnode::cnode::Node node(std::move(*config));
  if (auto started = node.start(); !started) return fail(started.error().message);
  if (!cppnode::servers::start(node, std::make_unique<Leaderboard>(),
                               {.local_name = "leaderboard"_a, .global_name = "leaderboard"_a})) {
    return fail("the leaderboard did not start");
  }
  std::printf("leaderboard running on node %s\n", node.config().node_name.c_str());
  std::fflush(stdout);
  cppnode::cnode::run_until_signal(node);
}
