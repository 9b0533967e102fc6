// SPDX-License-Identifier: Apache-2.0
// The smallest useful server: the README's example of writing a GenServer in C++.
#include "cppnode/servers/examples/example_servers.hpp"

namespace cppnode::servers::examples {

using namespace cppnode::codec;

// GenServer.call(pid, {:greet, "Ann"}) → "Hello, Ann!"; GenServer.call(pid, :count) → 1.
class Greeter : public GenServer {
 public:
  // What :sys.get_state/1 shows.
  [[nodiscard]] Term state_term() const override { return greeted_; }

 protected:
  CallResult handle_call(const Term& request, const From&) override {
    Binary name;
    if (match(request, "greet"_a, &name)) {  // {greet, <<"Ann">>}
      ++greeted_;
      return reply(binary("Hello, " + name.bytes + "!"));
    }
    if (request.is_atom("count")) return reply(greeted_);
    return no_match();  // exits with {function_clause, ...} naming the request, as Elixir would
  }

 private:
  std::int64_t greeted_ = 0;
};

std::unique_ptr<GenServer> make_greeter() { return std::make_unique<Greeter>(); }

}  // namespace cppnode::servers::examples
