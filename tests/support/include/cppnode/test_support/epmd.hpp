// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace cppnode::test_support {

class ChildProcess;

/// A private `epmd` on a free port of 127.0.0.1, running while this object lives. Pass `port()`
/// to nodes as ERL_EPMD_PORT. Throws std::runtime_error if epmd cannot be started.
class Epmd {
 public:
  Epmd();
  ~Epmd();
  Epmd(const Epmd&) = delete;
  Epmd& operator=(const Epmd&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] pid_t pid() const noexcept;
  /// epmd's NAMES answer ("name foo at port 1234" lines), or "" if epmd does not answer.
  [[nodiscard]] std::string names() const;
  /// The port epmd has for `alive` (the name without `@host`), or 0 if it is not registered.
  [[nodiscard]] std::uint16_t port_of(const std::string& alive) const;

 private:
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace cppnode::test_support
