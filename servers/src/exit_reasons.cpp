// SPDX-License-Identifier: Apache-2.0
#include "exit_reasons.hpp"

#include <utility>

#include "atoms.hpp"
#include "cppnode/servers/errors.hpp"

namespace cppnode::servers::detail {

using codec::Term;

Term function_clause_reason(codec::Atom module, codec::Atom function, std::vector<Term> args) {
  return codec::tuple(
      atoms().function_clause,
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
    return codec::tuple(codec::tuple(atoms().cpp_exception, codec::binary(x.what())),
                        codec::list(codec::tuple(module, function, codec::list_of(std::move(args)),
                                                 codec::list())));
  } catch (...) {
    return codec::tuple(codec::tuple(atoms().cpp_exception, codec::binary("unknown exception")),
                        codec::list(codec::tuple(module, function, codec::list_of(std::move(args)),
                                                 codec::list())));
  }
}

bool is_normal_exit(const Term& reason) {
  const auto& a = atoms();
  if (const auto* atom = reason.get_if<codec::Atom>()) {
    return *atom == a.normal || *atom == a.shutdown;
  }
  const auto* t = reason.get_if<codec::Tuple>();
  return t != nullptr && t->elements.size() == 2 && t->elements[0].is_atom("shutdown");
}

}  // namespace cppnode::servers::detail
