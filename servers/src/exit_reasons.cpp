// SPDX-License-Identifier: Apache-2.0
#include "exit_reasons.hpp"

#include <utility>

#include "cppnode/servers/errors.hpp"

namespace cppnode::servers::detail {

using namespace codec::literals;

using codec::Term;

Term function_clause_reason(codec::Atom module, codec::Atom function, std::vector<Term> args) {
  return codec::tuple(
      "function_clause"_a,
      codec::list(codec::tuple(module, function, codec::list_of(std::move(args)), codec::list())));
}

Term exception_reason(const std::exception_ptr& e, codec::Atom module, codec::Atom function,
                      std::vector<Term> args) {
  const auto arity = static_cast<std::int64_t>(args.size());
  try {
    std::rethrow_exception(e);
  } catch (const ExitError& x) {
    return x.reason();
  } catch (const ErlangError& x) {
    Term here = codec::tuple(module, function, arity, codec::list());
    Term stack =
        x.frame().is_nil() ? codec::list(std::move(here)) : codec::list(x.frame(), std::move(here));
    return codec::tuple(x.reason(), std::move(stack));
  } catch (const std::exception& x) {
    return codec::tuple(codec::tuple("cpp_exception"_a, codec::binary(x.what())),
                        codec::list(codec::tuple(module, function, codec::list_of(std::move(args)),
                                                 codec::list())));
  } catch (...) {
    return codec::tuple(codec::tuple("cpp_exception"_a, codec::binary("unknown exception")),
                        codec::list(codec::tuple(module, function, codec::list_of(std::move(args)),
                                                 codec::list())));
  }
}

bool is_normal_exit(const Term& reason) {
  if (const auto* atom = reason.get_if<codec::Atom>()) {
    return *atom == "normal"_a || *atom == "shutdown"_a;
  }
  const auto* t = reason.get_if<codec::Tuple>();
  return t != nullptr && t->elements.size() == 2 && t->elements[0].is_atom("shutdown");
}

}  // namespace cppnode::servers::detail
