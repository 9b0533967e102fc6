// SPDX-License-Identifier: Apache-2.0
#include "cppnode/test_support/beam_node.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "cppnode/test_support/child_process.hpp"
#include "cppnode/test_support/dist.hpp"
#include "cppnode/test_support/epmd.hpp"
#include "cppnode/test_support/names.hpp"

namespace cppnode::test_support {
namespace {

constexpr std::string_view marker = "\n@@cppnode-eval ";

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) {
      out += ' ';
    }
    out += p;
  }
  return out;
}

/// A host directory of compiled modules as the chroot at `root` sees it: its .beam and .app
/// files copied to root/tmp/cppnode-test-ebin/<the path with '/' as '_'>. Each file is written
/// under a name of its own and renamed into place, so nodes that start at once never load half a
/// file. OTP 27 and 29 load the OTP 25 compiler's output.
std::string into_root(const std::string& root, const std::string& dir) {
  namespace fs = std::filesystem;
  std::string flat = dir;
  std::replace(flat.begin(), flat.end(), '/', '_');
  const std::string inside = "/tmp/cppnode-test-ebin/" + flat;
  const fs::path target = fs::path(root + inside);
  fs::create_directories(target);
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto ext = entry.path().extension();
    if (ext != ".beam" && ext != ".app") {
      continue;
    }
    const fs::path temp = target / (entry.path().filename().string() + "." + unique_name("part"));
    fs::copy_file(entry.path(), temp, fs::copy_options::overwrite_existing);
    fs::rename(temp, target / entry.path().filename());
  }
  return inside;
}

std::vector<std::string> command_line(const BeamOptions& o, const std::string& sname,
                                      const std::string& root, std::uint16_t epmd_port) {
  // Under a chroot every code path the node gets must be one it can see.
  std::vector<std::string> extra = o.erl_args;
  std::string loop_ebin = CPPNODE_TEST_EBIN_DIR;
  if (!root.empty()) {
    loop_ebin = into_root(root, loop_ebin);
    for (std::size_t i = 0; i + 1 < extra.size(); ++i) {
      if (extra[i] == "-pa" || extra[i] == "-pz") {
        extra[i + 1] = into_root(root, extra[i + 1]);
      }
    }
  }
  const bool ipv6 = o.ipv6 || dist_ipv6();
  std::vector<std::string> erl_args{"-start_epmd", "false", "-kernel", "inet_dist_use_interface",
                                    ipv6 ? "{0,0,0,0,0,0,0,1}" : "{127,0,0,1}"};
  if (o.tls_cert.empty() ? dist_tls() : o.tls_cert != "tcp") {
    auto tls = tls_erl_args(o.tls_cert.empty() ? "node" : o.tls_cert, o.tls_ca);
    if (ipv6) tls[1] = "inet6_tls";
    erl_args.insert(erl_args.end(), tls.begin(), tls.end());
  } else if (ipv6) {
    erl_args.insert(erl_args.end(), {"-proto_dist", "inet6_tcp"});
  }
  const std::string name_flag = ipv6 ? "-name" : "-sname";
  const std::string name = ipv6 ? sname + "@::1" : sname;
  erl_args.insert(erl_args.end(), extra.begin(), extra.end());
  std::vector<std::string> argv;
  if (root.empty()) {
    argv.emplace_back(o.kind == BeamKind::erlang ? CPPNODE_TEST_ERL : CPPNODE_TEST_ELIXIR);
  } else {
    // A clean environment: the host's ERL_LIBS or MIX_* must not leak into the other release.
    argv = {"/usr/sbin/chroot",
            root,
            "/usr/bin/env",
            "-i",
            "PATH=/usr/bin:/bin",
            "HOME=/root",
            "LANG=C.UTF-8",
            "ERL_EPMD_PORT=" + std::to_string(epmd_port),
            o.kind == BeamKind::erlang ? "/usr/bin/erl" : "/usr/bin/elixir"};
  }
  if (o.kind == BeamKind::erlang) {
    argv.insert(argv.end(),
                {"-noshell", name_flag, name, "-setcookie", o.cookie, "-pa", loop_ebin});
    if (o.hidden) {
      argv.emplace_back("-hidden");
    }
    argv.insert(argv.end(), erl_args.begin(), erl_args.end());
    argv.insert(argv.end(), {"-eval", "cppnode_eval_loop:run(erlang)"});
    return argv;
  }
  argv.insert(argv.end(), {"-" + name_flag, name, "--cookie", o.cookie, "--erl", join(erl_args),
                           "-pa", loop_ebin});
  if (o.hidden) {
    argv.emplace_back("--hidden");
  }
  argv.insert(argv.end(), {"-e", ":cppnode_eval_loop.run(:elixir)"});
  return argv;
}

}  // namespace

std::string otp_root() {
  const char* root = std::getenv("CPPNODE_TEST_OTP_ROOT");
  return root == nullptr ? std::string() : std::string(root);
}

BeamNode::BeamNode(const Epmd& epmd, BeamOptions options)
    : options_(std::move(options)),
      sname_(unique_name(options_.name_prefix)),
      node_name_(sname_ + "@" +
                 (options_.ipv6 || dist_ipv6() ? std::string("::1") : short_hostname())) {
  process_ = std::make_unique<ChildProcess>(command_line(options_, sname_, otp_root(), epmd.port()),
                                            std::vector<std::pair<std::string, std::string>>{
                                                {"ERL_EPMD_PORT", std::to_string(epmd.port())}});
  const std::string self = options_.kind == BeamKind::erlang ? "node()." : "Node.self()";
  // The first answer proves the node booted, started distribution and runs the loop.
  const auto deadline = ChildProcess::Clock::now() + options_.start_timeout;
  const std::string request = "0 " + hex(self) + "\n";
  // The atom prints quoted or not depending on the prefix's first letter.
  const std::string expected_quoted = std::string(marker) + "0 '" + node_name_ + "'\n";
  const std::string expected_plain = std::string(marker) + "0 " + node_name_ + "\n";
  if (!process_->write_stdin(request, deadline) ||
      !process_->wait_stdout(
          [&](const std::string& out) {
            return out.find(expected_quoted) != std::string::npos ||
                   out.find(expected_plain) != std::string::npos;
          },
          deadline)) {
    const std::string why = "BeamNode " + node_name_ + " did not start within " +
                            std::to_string(options_.start_timeout.count()) +
                            " ms; output: " + process_->stdout_text() +
                            " stderr: " + process_->stderr_text();
    process_->kill_and_reap();
    throw std::runtime_error(why);
  }
}

BeamNode::~BeamNode() {
  // EOF on stdin makes the loop halt the node at once; SIGKILL is the fallback.
  process_->close_stdin();
  process_->wait_exit(ChildProcess::Clock::now() + std::chrono::seconds(2));
  process_->kill_and_reap();
}

pid_t BeamNode::pid() const noexcept { return process_->pid(); }

std::string BeamNode::eval(std::string_view code) { return eval(code, options_.eval_timeout); }

std::string BeamNode::eval(std::string_view code, std::chrono::milliseconds timeout) {
  const std::uint64_t seq = next_seq_++;
  const std::string head = std::string(marker) + std::to_string(seq) + " ";
  const auto deadline = ChildProcess::Clock::now() + timeout;
  std::string result;
  bool ok = process_->write_stdin(std::to_string(seq) + " " + hex(code) + "\n", deadline);
  ok = ok && process_->wait_stdout(
                 [&](const std::string& out) {
                   const auto pos = out.find(head);
                   if (pos == std::string::npos) {
                     return false;
                   }
                   const auto end = out.find('\n', pos + head.size());
                   if (end == std::string::npos) {
                     return false;
                   }
                   result = out.substr(pos + head.size(), end - pos - head.size());
                   return true;
                 },
                 deadline);
  if (ok) {
    return result;
  }
  const std::string why = running() ? "no answer within " + std::to_string(timeout.count()) + " ms"
                                    : "the node is not running";
  ADD_FAILURE() << "BeamNode " << node_name_ << " eval failed (" << why << "): " << code
                << "\n--- node diagnostics ---\n"
                << diagnostics();
  return "<eval failed: " + why + ">";
}

void BeamNode::kill(int signal) {
  if (signal == SIGKILL) {
    process_->kill_and_reap();
  } else {
    process_->kill(signal);
  }
}

bool BeamNode::running() { return process_->running(); }

std::string BeamNode::diagnostics() {
  std::string out = process_->stdout_text();
  // Keep only what the loop did not print as an answer.
  std::string stray;
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto end = out.find('\n', pos);
    if (end == std::string::npos) {
      end = out.size();
    }
    std::string_view line(out.data() + pos, end - pos);
    if (!line.empty() && !line.starts_with(marker.substr(1))) {
      stray.append(line);
      stray += '\n';
    }
    pos = end + 1;
  }
  return "stderr:\n" + process_->stderr_text() + "stdout:\n" + stray;
}

}  // namespace cppnode::test_support
