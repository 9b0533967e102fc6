// SPDX-License-Identifier: Apache-2.0
#include "cppnode_process.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "cppnode/test_support/dist.hpp"
#include "cppnode/test_support/names.hpp"

namespace cppnode::fault_testing {
namespace {

using namespace std::chrono_literals;

constexpr int start_attempts = 20;
constexpr std::string_view running_marker = "is running (port ";

}  // namespace

CppNodeProcess::CppNodeProcess(const test_support::Epmd& epmd, std::string sname,
                               std::vector<std::string> args, Env env)
    : node_name_(test_support::cppnode_node_name(sname)) {
  std::vector<std::string> argv{CPPNODE_EXECUTABLE};
  const auto dist = test_support::cppnode_dist_args(sname);
  argv.insert(argv.end(), dist.begin(), dist.end());
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace_back("ERL_EPMD_PORT", std::to_string(epmd.port()));
  std::string failures;
  for (int attempt = 0; attempt < start_attempts; ++attempt) {
    process_ = std::make_unique<test_support::ChildProcess>(argv, env);
    std::size_t at = std::string::npos;
    const bool up = process_->wait_stderr(
        [&](const std::string& err) {
          at = err.find(running_marker);
          return at != std::string::npos && err.find(')', at) != std::string::npos;
        },
        Clock::now() + 20s);
    if (up) {
      const std::string err = process_->stderr_text();
      port_ = static_cast<std::uint16_t>(std::stoul(err.substr(at + running_marker.size())));
      return;
    }
    process_->wait_exit(Clock::now() + 2s);
    process_->kill_and_reap();
    const std::string err = process_->stderr_text();
    failures += err;
    if (err.find("already in use") == std::string::npos) break;  // only a taken name is retried
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error("cppnode " + node_name_ + " did not start: " + failures);
}

CppNodeProcess::~CppNodeProcess() { process_->kill_and_reap(); }

std::string CppNodeProcess::proc_status_field(const std::string& key) const {
  std::ifstream in("/proc/" + std::to_string(pid()) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key + ":")) return line.substr(key.size() + 1);
  }
  return {};
}

long CppNodeProcess::rss_kib() const {
  const std::string v = proc_status_field("VmRSS");
  return v.empty() ? 0 : std::stol(v);
}

int CppNodeProcess::threads() const {
  const std::string v = proc_status_field("Threads");
  return v.empty() ? 0 : std::stoi(v);
}

int CppNodeProcess::open_fds() const {
  std::error_code ec;
  int n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid()) + "/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

bool CppNodeProcess::wait_log(const std::string& text, std::chrono::milliseconds timeout,
                              std::size_t count) {
  return process_->wait_stderr([&](const std::string& err) { return count_of(err, text) >= count; },
                               Clock::now() + timeout);
}

std::size_t CppNodeProcess::log_count(const std::string& text) {
  return count_of(process_->stderr_text(), text);
}

void CppNodeProcess::kill(int signal) {
  if (signal == SIGKILL) {
    process_->kill_and_reap();
  } else {
    process_->kill(signal);
  }
}

int CppNodeProcess::terminate(std::chrono::milliseconds timeout) {
  process_->kill(SIGTERM);
  if (!process_->wait_exit(Clock::now() + timeout)) return -1;
  const auto status = process_->exit_status();
  return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

void record_figure(const std::string& name, double value, const std::string& unit) {
  ::testing::Test::RecordProperty(name, std::to_string(value) + " " + unit);
  std::cout << "[figure] " << name << " = " << value << " " << unit << std::endl;
}

}  // namespace cppnode::fault_testing
