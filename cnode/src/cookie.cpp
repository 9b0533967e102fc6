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

codec::Result<void, Failure> create_cookie_file(const std::string& path) {
  std::array<unsigned char, 20> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return failed(std::make_error_code(std::errc::io_error), "cannot generate a random cookie");
  }
  std::string cookie;
  for (unsigned char r : random) {
    cookie.push_back(static_cast<char>('A' + r % 26));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
  if (fd < 0) {
    return failed(std::make_error_code(std::errc::io_error),
                  "cannot create cookie file " + path + ": " + std::strerror(errno));
  }
  const bool ok = ::write(fd, cookie.data(), cookie.size()) == static_cast<ssize_t>(cookie.size());
  ::close(fd);
  if (!ok) {
    return failed(std::make_error_code(std::errc::io_error), "cannot write cookie file " + path);
  }
  return {};
}

}  // namespace

codec::Result<std::string, Failure> read_cookie_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    return failed({e, std::generic_category()},
                  "cannot read cookie file " + path + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    return failed(std::make_error_code(std::errc::invalid_argument),
                  "cookie file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return failed(
        std::make_error_code(std::errc::permission_denied),
        "cookie file " + path + " must be accessible by owner only (chmod 400 " + path + ")");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    return failed({e, std::generic_category()},
                  "cannot open cookie file " + path + ": " + std::strerror(e));
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
      return failed(std::make_error_code(std::errc::invalid_argument),
                    "bad characters in cookie file " + path);
    }
  }
  if (end == 0) {
    return failed(std::make_error_code(std::errc::invalid_argument),
                  "cookie file " + path + " is empty");
  }
  return text.substr(0, end);
}

codec::Result<CookieFile, Failure> load_default_cookie() {
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
    auto cookie = read_cookie_file(path);
    if (cookie) {
      return CookieFile{std::move(*cookie), path};
    }
    if (cookie.error().code != std::errc::no_such_file_or_directory) {
      return codec::unexpected(std::move(cookie).error());
    }
  }
  const std::string create = !home_path.empty() ? home_path : xdg;
  if (create.empty()) {
    return failed(std::make_error_code(std::errc::no_such_file_or_directory),
                  "no cookie given and neither HOME nor XDG_CONFIG_HOME is set");
  }
  if (auto created = create_cookie_file(create); !created) {
    return codec::unexpected(std::move(created).error());
  }
  auto cookie = read_cookie_file(create);
  if (!cookie) return codec::unexpected(std::move(cookie).error());
  return CookieFile{std::move(*cookie), create};
}

}  // namespace cppnode::cnode
