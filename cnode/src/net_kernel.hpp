// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cppnode/cnode/process.hpp"

namespace cppnode::cnode {

/// The built-in process registered as `net_kernel`. It answers `{is_auth, Node}` calls with
/// `yes`, which is what `net_adm:ping/1` (`Node.ping/1`) asks on first contact.
class NetKernel final : public Process {
 public:
  using Process::Process;

 protected:
  void on_signal(Signal signal) override;
};

}  // namespace cppnode::cnode
