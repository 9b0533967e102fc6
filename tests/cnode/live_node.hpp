// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cppnode/cnode/echo.hpp"
#include "cppnode/cnode/node.hpp"
#include "cppnode/test_support/dist.hpp"
#include "cppnode/test_support/epmd.hpp"
#include "cppnode/test_support/names.hpp"

namespace cppnode::cnode::testing {

using namespace std::chrono_literals;

/// An Erlang expression that rebuilds `term` on a BEAM node (via binary_to_term), for pids and
/// references that have no literal syntax.
inline std::string erl_literal(const codec::Term& term) {
  std::string out = "binary_to_term(<<";
  const std::string bytes = codec::encode(term);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(static_cast<unsigned char>(bytes[i]));
  }
  return out + ">>)";
}

/// Waits until `pred()` holds or `timeout` passes; returns the last answer.
inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// A cppnode Node on a unique name, registered with the fixture's epmd, running on two threads
/// until destroyed.
class LiveNode {
 public:
  explicit LiveNode(const test_support::Epmd& epmd,
                    const std::function<void(NodeConfig&)>& customize = {})
      : node_(make_config(epmd, customize)) {
    // CPPNODE_TEST_LOG=debug (or trace) shows the node's logs while debugging a test.
    if (const char* level = std::getenv("CPPNODE_TEST_LOG")) {
      spdlog::set_level(spdlog::level::from_str(level));
    }
    if (auto started = node_.start(); !started) {
      throw std::runtime_error("cppnode did not start: " + started.error().message);
    }
    thread_ = std::thread([this] { node_.run(); });
  }
  ~LiveNode() {
    node_.stop();
    thread_.join();
  }
  LiveNode(const LiveNode&) = delete;
  LiveNode& operator=(const LiveNode&) = delete;

  Node& node() { return node_; }
  Node* operator->() { return &node_; }
  [[nodiscard]] std::string name() const { return std::string(node_.name().name()); }
  /// The node name as an Erlang atom literal.
  [[nodiscard]] std::string atom() const { return "'" + name() + "'"; }
  /// The node name as a BEAM node prints it (`~p`): quoted unless it is a plain atom
  /// (`cpp_1@vm`; `'cpp_1@::1'` and `'cpp_1@127.0.0.3'` are quoted).
  [[nodiscard]] std::string printed() const {
    const std::string n = name();
    const bool plain = !n.empty() && n[0] >= 'a' && n[0] <= 'z' &&
                       n.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789_@") == std::string::npos;
    return plain ? n : atom();
  }

 private:
  static NodeConfig make_config(const test_support::Epmd& epmd,
                                const std::function<void(NodeConfig&)>& customize) {
    NodeConfig c;
    c.node_name = test_support::unique_name("cpp") + "@" + test_support::short_hostname();
    c.cookie = "cppnode_test_cookie";
    c.listen_address = "127.0.0.1";
    c.epmd_port = epmd.port();
    c.threads = 2;
    if (test_support::dist_ipv6()) {
      c.node_name = test_support::unique_name("cpp") + "@::1";
      c.listen_address = "::1";
      c.ipv6 = true;
    }
    if (test_support::dist_tls()) {
      const auto& certs = test_support::tls_certs();
      c.tls = TlsConfig{
          .certfile = certs.pem("node"), .keyfile = certs.key("node"), .cacertfile = certs.ca()};
    }
    if (customize) customize(c);
    return c;
  }

  Node node_;
  std::thread thread_;
};

/// A process that records every signal it gets, for tests to wait on.
class Probe : public Process {
 public:
  using Process::Process;

  /// Waits for the first recorded signal matching `pred` and removes it.
  std::optional<Signal> take(const std::function<bool(const Signal&)>& pred,
                             std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      for (auto it = signals_.begin(); it != signals_.end(); ++it) {
        if (pred(*it)) {
          Signal s = std::move(*it);
          signals_.erase(it);
          return s;
        }
      }
      if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
    }
  }
  std::optional<codec::Term> take_message(std::chrono::milliseconds timeout = 10s) {
    auto s =
        take([](const Signal& x) { return std::holds_alternative<MessageSignal>(x); }, timeout);
    if (!s) return std::nullopt;
    return std::get<MessageSignal>(*s).message;
  }
  std::optional<DownSignal> take_down(std::chrono::milliseconds timeout = 10s) {
    auto s = take([](const Signal& x) { return std::holds_alternative<DownSignal>(x); }, timeout);
    if (!s) return std::nullopt;
    return std::get<DownSignal>(*s);
  }
  std::optional<ExitSignal> take_exit(std::chrono::milliseconds timeout = 10s) {
    auto s = take([](const Signal& x) { return std::holds_alternative<ExitSignal>(x); }, timeout);
    if (!s) return std::nullopt;
    return std::get<ExitSignal>(*s);
  }
  /// Set once on_exit ran, with its reason.
  std::optional<codec::Term> exit_reason() {
    std::lock_guard lock(mutex_);
    return exit_reason_;
  }

 protected:
  void on_signal(Signal signal) override {
    std::lock_guard lock(mutex_);
    signals_.push_back(std::move(signal));
    changed_.notify_all();
  }
  void on_exit(const codec::Term& reason) override {
    std::lock_guard lock(mutex_);
    exit_reason_ = reason;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Signal> signals_;
  std::optional<codec::Term> exit_reason_;
};

/// The library's echo process (see cppnode/cnode/echo.hpp).
using Echo = EchoProcess;

}  // namespace cppnode::cnode::testing
