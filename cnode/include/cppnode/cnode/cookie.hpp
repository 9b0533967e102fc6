// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <system_error>

namespace cppnode::cnode {

/// Reads a cookie file as erl's auth module does: a regular file that only its owner can access
/// (mode & 077 == 0), printable ASCII, trailing spaces/newlines ignored, not empty. Errors name
/// the file and the problem, never the cookie.
std::error_code read_cookie_file(const std::string& path, std::string& cookie,
                                 std::string* message = nullptr);

/// The cookie erl would use with no -setcookie: $HOME/.erlang.cookie, else
/// $XDG_CONFIG_HOME/erlang/.erlang.cookie (~/.config/...), and if neither exists a new
/// $HOME/.erlang.cookie with 20 random capital letters and mode 0400, exactly as erl creates it.
/// `path_used` receives the file read or created.
std::error_code load_default_cookie(std::string& cookie, std::string* path_used = nullptr,
                                    std::string* message = nullptr);

}  // namespace cppnode::cnode
