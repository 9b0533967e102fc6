// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cppnode/codec/atom.hpp"

namespace cppnode::servers::detail {

/// Atoms the framework compares against on every message, interned once.
struct Atoms {
  codec::Atom gen_call{"$gen_call"};
  codec::Atom gen_cast{"$gen_cast"};
  codec::Atom system{"system"};
  codec::Atom alias{"alias"};
  codec::Atom global{"global"};
  codec::Atom normal{"normal"};
  codec::Atom shutdown{"shutdown"};
  codec::Atom kill{"kill"};
  codec::Atom killed{"killed"};
  codec::Atom timeout{"timeout"};
  codec::Atom noproc{"noproc"};
  codec::Atom noconnection{"noconnection"};
  codec::Atom nodedown{"nodedown"};
  codec::Atom undefined{"undefined"};
  codec::Atom ignore{"ignore"};
  codec::Atom ok{"ok"};
  codec::Atom error{"error"};
  codec::Atom exit{"EXIT"};
  codec::Atom down{"DOWN"};
  codec::Atom process{"process"};
  codec::Atom rex{"rex"};
  codec::Atom call{"call"};
  codec::Atom user{"user"};
  codec::Atom function_clause{"function_clause"};
  codec::Atom cpp_exception{"cpp_exception"};
  codec::Atom bad_call{"bad_call"};
  codec::Atom bad_cast{"bad_cast"};
  codec::Atom calling_self{"calling_self"};
  codec::Atom already_started{"already_started"};
  codec::Atom handle_call{"handle_call"};
  codec::Atom handle_cast{"handle_cast"};
  codec::Atom handle_info{"handle_info"};
  codec::Atom init{"init"};
  codec::Atom terminate{"terminate"};
};

/// The process-wide atom set.
const Atoms& atoms();

}  // namespace cppnode::servers::detail
