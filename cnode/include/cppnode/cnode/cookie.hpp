// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "cppnode/cnode/failure.hpp"
#include "cppnode/codec/result.hpp"

namespace cppnode::cnode {

/// Reads a cookie file as erl's auth module does: a regular file that only its owner can access
/// (mode & 077 == 0), printable ASCII, trailing spaces/newlines ignored, not empty. Errors name
/// the file and the problem, never the cookie.
codec::Result<std::string, Failure> read_cookie_file(const std::string& path);

/// A cookie and the file it came from.
struct CookieFile {
  std::string cookie;
  std::string path;
};

/// The cookie erl would use with no -setcookie: $HOME/.erlang.cookie, else
/// $XDG_CONFIG_HOME/erlang/.erlang.cookie (~/.config/...), and if neither exists a new
/// $HOME/.erlang.cookie with 20 random capital letters and mode 0400, exactly as erl creates it.
codec::Result<CookieFile, Failure> load_default_cookie();

}  // namespace cppnode::cnode
