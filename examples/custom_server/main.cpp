// SPDX-License-Identifier: Apache-2.0
// A node hosting one C++ GenServer of its own, the leaderboard, as `{:global, :leaderboard}` and
// `{:leaderboard, node}`. Usage: leaderboard_node [--sname NAME[@HOST]] [--cookie C]
// [--connect NODE]...  (no --cookie: ~/.erlang.cookie, as erl; ERL_EPMD_PORT is honoured).
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cppnode/cnode/cookie.hpp"
#include "cppnode/cnode/epmd.hpp"
#include "cppnode/cnode/node.hpp"
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

std::string short_hostname() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return "localhost";
  std::string host(buf.data());
  return host.substr(0, host.find('.'));
}

int usage(const char* why) {
  std::fprintf(stderr,
               "leaderboard_node: %s\nusage: leaderboard_node [--sname NAME[@HOST]] "
               "[--cookie COOKIE] [--connect NODE]...\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  cppnode::cnode::NodeConfig config;
  std::string sname = "leaderboard";
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); i += 2) {
    if (i + 1 == args.size()) return usage("an option without its value");
    const std::string value(args[i + 1]);
    if (args[i] == "--sname") {
      sname = value;
    } else if (args[i] == "--cookie") {
      config.cookie = value;
    } else if (args[i] == "--connect") {
      config.connect.push_back(value);
    } else {
      return usage("unknown option");
    }
  }
  config.node_name = sname.find('@') == std::string::npos ? sname + "@" + short_hostname() : sname;
  std::string message;
  if ((config.cookie.empty() &&
       cppnode::cnode::load_default_cookie(config.cookie, nullptr, &message)) ||
      cppnode::cnode::epmd_port_from_env(config.epmd_port, &message)) {
    std::fprintf(stderr, "leaderboard_node: %s\n", message.c_str());
    return 1;
  }
  config.start_epmd = true;  // as erl does when no epmd answers

  cppnode::cnode::Node node(std::move(config));
  if (node.start(&message)) {
    std::fprintf(stderr, "leaderboard_node: cannot start %s: %s\n", node.config().node_name.c_str(),
                 message.c_str());
    return 1;
  }
  if (!cppnode::servers::start(node, std::make_unique<Leaderboard>(),
                               {.local_name = "leaderboard"_a, .global_name = "leaderboard"_a})) {
    std::fprintf(stderr, "leaderboard_node: the leaderboard did not start\n");
    return 1;
  }
  boost::asio::signal_set signals(node.io(), SIGINT, SIGTERM);
  signals.async_wait([&node](const boost::system::error_code& ec, int) {
    if (!ec) node.stop();
  });
  std::printf("leaderboard running on node %s\n", node.config().node_name.c_str());
  std::fflush(stdout);
  node.run();
  return 0;
}
