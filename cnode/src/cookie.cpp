// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/cookie.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace cppnode::cnode {
namespace {

std::error_code fail(std::string* message, std::string text, std::errc code) {
  if (message != nullptr) {
    *message = std::move(text);
  }
  return std::make_error_code(code);
}

std::error_code create_cookie_file(const std::string& path, std::string* message) {
  std::array<unsigned char, 20> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return fail(message, "cannot generate a random cookie", std::errc::io_error);
  }
  std::string cookie;
  for (unsigned char r : random) {
    cookie.push_back(static_cast<char>('A' + r % 26));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
  if (fd < 0) {
    return fail(message, "cannot create cookie file " + path + ": " + std::strerror(errno),
                std::errc::io_error);
  }
  const bool ok = ::write(fd, cookie.data(), cookie.size()) == static_cast<ssize_t>(cookie.size());
  ::close(fd);
  if (!ok) {
    return fail(message, "cannot write cookie file " + path, std::errc::io_error);
  }
  return {};
}

}  // namespace

std::error_code read_cookie_file(const std::string& path, std::string& cookie,
                                 std::string* message) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (message != nullptr) {
      *message = "cannot read cookie file " + path + ": " + std::strerror(e);
    }
    return {e, std::generic_category()};
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(message, "cookie file " + path + " is not a regular file",
                std::errc::invalid_argument);
  }
  if ((st.st_mode & 077) != 0) {
    return fail(
        message,
        "cookie file " + path + " must be accessible by owner only (chmod 400 " + path + ")",
        std::errc::permission_denied);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (message != nullptr) {
      *message = "cannot open cookie file " + path + ": " + std::strerror(e);
    }
    return {e, std::generic_category()};
  }
  std::string text;
  std::array<char, 4096> buf{};
  ssize_t n = 0;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) {
    text.append(buf.data(), static_cast<std::size_t>(n));
    if (text.size() > 1'000'000) {
      break;
    }
  }
  ::close(fd);
  // Printable ASCII up to the first other character; after it only \n, \r and spaces.
  std::size_t end = 0;
  while (end < text.size() && text[end] >= ' ' && text[end] <= '~') {
    ++end;
  }
  for (std::size_t i = end; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ') {
      return fail(message, "bad characters in cookie file " + path, std::errc::invalid_argument);
    }
  }
  if (end == 0) {
    return fail(message, "cookie file " + path + " is empty", std::errc::invalid_argument);
  }
  cookie = text.substr(0, end);
  return {};
}

std::error_code load_default_cookie(std::string& cookie, std::string* path_used,
                                    std::string* message) {
  const char* home = std::getenv("HOME");
  std::string xdg;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0') {
    xdg = std::string(x) + "/erlang/.erlang.cookie";
  } else if (home != nullptr) {
    xdg = std::string(home) + "/.config/erlang/.erlang.cookie";
  }
  const std::string home_path = home != nullptr ? std::string(home) + "/.erlang.cookie" : "";
  for (const std::string& path : {home_path, xdg}) {
    if (path.empty()) {
      continue;
    }
    std::string why;
    auto ec = read_cookie_file(path, cookie, &why);
    if (!ec) {
      if (path_used != nullptr) {
        *path_used = path;
      }
      return {};
    }
    if (ec != std::errc::no_such_file_or_directory) {
      if (message != nullptr) {
        *message = why;
      }
      return ec;
    }
  }
  const std::string create = !home_path.empty() ? home_path : xdg;
  if (create.empty()) {
    return fail(message, "no cookie given and neither HOME nor XDG_CONFIG_HOME is set",
                std::errc::no_such_file_or_directory);
  }
  if (auto ec = create_cookie_file(create, message)) {
    return ec;
  }
  if (path_used != nullptr) {
    *path_used = create;
  }
  return read_cookie_file(create, cookie, message);
}

}  // namespace cppnode::cnode
