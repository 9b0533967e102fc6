// SPDX-License-Identifier: Apache-2.0
// A GenServer the test holds busy, for the overload tests (no sleeps, no timing).
#pragma once

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "cppnode/servers/gen_server.hpp"

namespace cppnode::servers::testing {

// Holds the server's `block` casts until the test releases them, one release per block.
// Thread-safe.
class Gate {
 public:
  void block() {
    std::unique_lock lock(mutex_);
    const int me = ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_ >= me; });
  }
  bool wait_entered(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_ >= n; });
  }
  /// Lets the oldest waiting (or the next) `block` return.
  void release() {
    std::lock_guard lock(mutex_);
    ++released_;
    changed_.notify_all();
  }
  /// Lets every `block`, now and later, return (at the end of a test).
  void open() {
    std::lock_guard lock(mutex_);
    released_ = INT_MAX;
    changed_.notify_all();
  }
  std::atomic<int> casts{0};  // other casts handled, by every incarnation of the server

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int entered_ = 0;
  int released_ = 0;
};

// `block` waits at the gate; any other cast is counted; `get` answers the count.
class Slow : public GenServer {
 public:
  explicit Slow(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  [[nodiscard]] codec::Term state_term() const override { return handled_; }

 protected:
  CallResult handle_call(const codec::Term& req, const From&) override {
    if (req.is_atom("get")) return reply(handled_);
    return no_match();
  }
  InfoResult handle_cast(const codec::Term& msg) override {
    if (msg.is_atom("block")) {
      gate_->block();
    } else {
      ++handled_;
      ++gate_->casts;
    }
    return noreply();
  }

 private:
  std::shared_ptr<Gate> gate_;
  std::int64_t handled_ = 0;
};

}  // namespace cppnode::servers::testing
