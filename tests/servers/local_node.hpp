// SPDX-License-Identifier: Apache-2.0
// A real Node without network (never started: no epmd, no listener) running on two threads,
// and a probe process that records every signal it gets, for the servers' unit tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cppnode/cnode/node.hpp"
#include "cppnode/cnode/process.hpp"
#include "cppnode/codec/term.hpp"

namespace cppnode::servers::testing {

using namespace std::chrono_literals;
using codec::Term;

/// Generous: only a broken server makes a test wait this long.
inline constexpr std::chrono::milliseconds deadline = 10s;

class Probe : public cnode::Process {
 public:
  explicit Probe(cnode::Node& node) : cnode::Process(node) {}

  /// Removes and returns the first signal that satisfies `pred`, waiting up to `deadline`.
  std::optional<cnode::Signal> take(const std::function<bool(const cnode::Signal&)>& pred,
                                    std::chrono::milliseconds limit = deadline) {
    std::unique_lock lock(mutex_);
    std::optional<cnode::Signal> found;
    changed_.wait_for(lock, limit, [&] {
      for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
        if (pred(*it)) {
          found = std::move(*it);
          inbox_.erase(it);
          return true;
        }
      }
      return false;
    });
    return found;
  }

  /// The first message that satisfies `pred`.
  std::optional<Term> take_message(const std::function<bool(const Term&)>& pred) {
    auto s = take([&](const cnode::Signal& sig) {
      const auto* m = std::get_if<cnode::MessageSignal>(&sig);
      return m != nullptr && pred(m->message);
    });
    if (!s) return std::nullopt;
    return std::get<cnode::MessageSignal>(*s).message;
  }

  /// The reason of the DOWN for monitor `ref`.
  std::optional<Term> take_down(const codec::Reference& ref) {
    auto s = take([&](const cnode::Signal& sig) {
      const auto* d = std::get_if<cnode::DownSignal>(&sig);
      return d != nullptr && d->ref == ref;
    });
    if (!s) return std::nullopt;
    return std::get<cnode::DownSignal>(*s).reason;
  }

  /// The exit signal from `from`.
  std::optional<cnode::ExitSignal> take_exit(const codec::Pid& from) {
    auto s = take([&](const cnode::Signal& sig) {
      const auto* e = std::get_if<cnode::ExitSignal>(&sig);
      return e != nullptr && e->from == Term(from);
    });
    if (!s) return std::nullopt;
    return std::get<cnode::ExitSignal>(*s);
  }

 protected:
  void on_signal(cnode::Signal signal) override {
    std::lock_guard lock(mutex_);
    inbox_.push_back(std::move(signal));
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<cnode::Signal> inbox_;
};

inline cnode::NodeConfig local_config() {
  static int counter = 0;
  cnode::NodeConfig c;
  c.node_name =
      "servers_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "@localhost";
  c.cookie = "servers_test_cookie";
  c.threads = 2;
  return c;
}

/// A running node plus a probe, torn down in order.
class LocalNode {
 public:
  LocalNode() : node_(local_config()) {
    thread_ = std::thread([this] { node_.run(); });
    probe_ = new_probe();
  }
  ~LocalNode() {
    node_.stop();
    thread_.join();
  }
  LocalNode(const LocalNode&) = delete;
  LocalNode& operator=(const LocalNode&) = delete;

  cnode::Node& node() { return node_; }
  Probe& probe() { return *probe_; }
  std::shared_ptr<Probe> new_probe() {
    auto p = std::make_shared<Probe>(node_);
    node_.spawn(p);
    return p;
  }

  /// `gen_server:call(To, Request)` from the probe with a plain reference as tag; nullopt if no
  /// reply came (a failure is recorded).
  std::optional<Term> call(const codec::Pid& to, Term request) {
    const codec::Reference tag = node_.make_ref();
    node_.send(probe_->self(), to,
               codec::tuple(codec::Atom("$gen_call"), codec::tuple(probe_->self(), tag),
                            std::move(request)));
    return take_reply(tag);
  }
  std::optional<Term> call(codec::Atom name, Term request) {
    const codec::Reference tag = node_.make_ref();
    node_.send(probe_->self(), name, node_.name(),
               codec::tuple(codec::Atom("$gen_call"), codec::tuple(probe_->self(), tag),
                            std::move(request)));
    return take_reply(tag);
  }
  /// Sends a call and returns the reason the server exited with (it must exit).
  std::optional<Term> call_exit(const codec::Pid& to, Term request) {
    const codec::Reference mref = node_.monitor(probe_->self(), to, to.node);
    node_.send(probe_->self(), to,
               codec::tuple(codec::Atom("$gen_call"), codec::tuple(probe_->self(), mref),
                            std::move(request)));
    return probe_->take_down(mref);
  }
  void cast(const codec::Pid& to, Term message) {
    node_.send(probe_->self(), to, codec::tuple(codec::Atom("$gen_cast"), std::move(message)));
  }
  /// A `sys` request (`{system, From, Request}`).
  std::optional<Term> sys(const codec::Pid& to, Term request) {
    const codec::Reference tag = node_.make_ref();
    node_.send(
        probe_->self(), to,
        codec::tuple(codec::Atom("system"), codec::tuple(probe_->self(), tag), std::move(request)));
    return take_reply(tag);
  }
  /// Waits until `pred()` holds (polling), up to `deadline`.
  static bool eventually(const std::function<bool()>& pred) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(2ms);
    }
    return pred();
  }

  std::optional<Term> take_reply(const Term& tag) {
    auto m = probe_->take_message([&](const Term& t) {
      const auto* tuple = t.get_if<codec::Tuple>();
      return tuple != nullptr && tuple->elements.size() == 2 && tuple->elements[0] == tag;
    });
    if (!m) {
      ADD_FAILURE() << "no reply tagged " << tag;
      return std::nullopt;
    }
    return m->as<codec::Tuple>().elements[1];
  }

 private:
  cnode::Node node_;
  std::thread thread_;
  std::shared_ptr<Probe> probe_;
};

}  // namespace cppnode::servers::testing
